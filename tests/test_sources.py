"""Where bytes come from: paths, standard input, open files, zips with several members."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

import nem2cdr
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import STREAM_30, nem12, row_300


def zipped(*members: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


class Unseekable(io.RawIOBase):
    """A pipe-like stream: readable, not seekable, no peek."""

    def __init__(self, data: bytes) -> None:
        self._inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def dates(reader: nem2cdr.Reader) -> list[str]:
    return [record.date.isoformat() for record in reader]  # type: ignore[union-attr]


def test_a_zip_with_several_members_is_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "two.zip"
    path.write_bytes(
        zipped(
            ("b.csv", nem12(STREAM_30, row_300("20240102"))),
            ("a.csv", nem12(STREAM_30, row_300("20240101"))),
        )
    )
    reader = nem2cdr.read(path)
    assert dates(reader) == ["2024-01-02", "2024-01-01"]
    assert reader.diagnostics.ok


def test_the_member_is_named_in_diagnostics(tmp_path: Path) -> None:
    path = tmp_path / "one.zip"
    path.write_bytes(zipped(("bad.csv", nem12(STREAM_30, row_300("20241301")))))
    reader = nem2cdr.read(path)
    reader.records()
    [error] = reader.diagnostics.errors
    assert (error.file, error.line, error.code) == (f"{path}:bad.csv", 3, "NEM12-E010")


def test_a_zip_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(zipped(("x.csv", nem12(STREAM_30, row_300()))))
    assert dates(nem2cdr.read(path)) == ["2024-01-01"]


def test_an_unseekable_stream_of_a_zip() -> None:
    data = zipped(("x.csv", nem12(STREAM_30, row_300())))
    assert dates(nem2cdr.read(Unseekable(data))) == ["2024-01-01"]  # type: ignore[arg-type]


def test_an_open_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(nem12(STREAM_30, row_300()))
    with path.open("rb") as handle:
        assert dates(nem2cdr.read(handle)) == ["2024-01-01"]


def test_standard_input_through_the_cli() -> None:
    result = CliRunner().invoke(
        cli, ["validate", "--format", "json", "-"], input=nem12(STREAM_30, row_300())
    )
    assert result.exit_code == 0
    [report] = json.loads(result.output)
    assert report["file"] == "<stdin>"
    assert report["stats"]["values"] == 48


def test_a_zipped_file_on_standard_input() -> None:
    data = zipped(("x.csv", nem12(STREAM_30, row_300())))
    result = CliRunner().invoke(cli, ["validate", "--format", "json", "-"], input=data)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)[0]["stats"]["days"] == 1


def one_error(source: object) -> str:
    reader = nem2cdr.read(source)  # type: ignore[arg-type]
    assert reader.records() == []
    [error] = reader.diagnostics.errors
    assert error.code == "NEM12-E007"
    return error.message


def test_a_broken_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(zipped(("x.csv", nem12(STREAM_30, row_300())))[:60])
    assert "zip" in one_error(path)


def test_an_empty_zip(tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    path.write_bytes(zipped())
    assert "no file" in one_error(path)


def test_a_corrupt_member_is_reported_not_raised(tmp_path: Path) -> None:
    data = bytearray(
        zipped(("x.csv", nem12(STREAM_30, *[row_300(f"202401{d:02}") for d in range(1, 29)])))
    )
    data[200:210] = b"\x00" * 10  # inside the deflated stream: a CRC or inflate failure
    path = tmp_path / "corrupt.zip"
    path.write_bytes(bytes(data))
    reader = nem2cdr.read(path)
    reader.records()
    assert [e.code for e in reader.diagnostics.errors][-1:] == ["NEM12-E007"]


def test_a_missing_file_and_a_folder(tmp_path: Path) -> None:
    assert "cannot open" in one_error(tmp_path / "nope.csv")
    assert "cannot open" in one_error(tmp_path)


def test_the_cli_reports_a_missing_file_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "NEM12-E007" in result.output
    assert "Traceback" not in result.output


def test_a_day_repeated_in_another_member_names_that_member(tmp_path: Path) -> None:
    late = row_300("20240102", tail="A,,,20240105030000,")
    early = row_300("20240102", tail="A,,,20240103030000,")
    path = tmp_path / "dup.zip"
    path.write_bytes(
        zipped(
            ("a.csv", nem12(STREAM_30, row_300("20240101"), early)),
            ("b.csv", nem12(STREAM_30, late)),
        )
    )
    reader = nem2cdr.read(path)
    reader.records()
    [warning] = reader.diagnostics.warnings
    assert (warning.file, warning.line) == (f"{path}:b.csv", 3)
    assert f"also at line 4 of {path}:a.csv: line 3 wins" in warning.message
    assert reader.superseded == {(f"{path}:a.csv", 4)}
