"""No input makes the reader raise or the CLI print a traceback: only diagnostics."""

from __future__ import annotations

import io
import zipfile

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr_cli.nem2cdr_commands import cli
from tests.helpers import CORPUS, STREAM_30, nem12, row_300

SEEDS = [
    nem12(
        STREAM_30,
        row_300(),
        row_300("20240102", tail="V,,,20240103030000,"),
        "400,1,20,A,,",
        "400,21,48,S53,79,fault",
        "500,O,SO1,20240102120000,001234",
    ),
    (CORPUS / "unzipped" / "Example_NEM13_forward_estimate.csv").read_bytes(),
    (CORPUS / "unzipped" / "Example_NEM12_multiple_quality.csv").read_bytes(),
    (CORPUS / "invalid" / "Example_NEM12_powercor.csv").read_bytes(),
]


def read_all(data: bytes) -> nem2cdr.Reader:
    reader = nem2cdr.read(io.BytesIO(data))
    for record in reader:
        # Whatever is yielded is whole: a day has exactly its N values and quality for each.
        if isinstance(record, nem2cdr.IntervalDay):
            count = record.stream.intervals
            assert len(record.values) == count
            assert record.qualities[0].start == 1 and record.qualities[-1].end == count
            assert all(value >= 0 for value in record.values)
    return reader


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    kind = draw(st.sampled_from(["truncate", "flip", "shuffle", "splice", "zip"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 20))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    if kind == "shuffle":
        lines = bytes(data).split(b"\n")
        return b"\n".join(draw(st.permutations(lines)))
    if kind == "splice":
        at = draw(st.integers(0, len(data)))
        return bytes(data[:at]) + draw(st.binary(max_size=200)) + bytes(data[at:])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.csv", bytes(data))
    packed = bytearray(buffer.getvalue())
    packed[draw(st.integers(0, len(packed) - 1))] ^= draw(st.integers(1, 255))
    return bytes(packed)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_files_give_only_diagnostics(data: bytes) -> None:
    read_all(data)


@settings(max_examples=200)
@given(st.binary(max_size=2000))
def test_random_bytes_give_only_diagnostics(data: bytes) -> None:
    reader = read_all(data)
    assert reader.diagnostics.error_count + reader.diagnostics.warning_count >= 0


@settings(max_examples=100)
@given(st.text(alphabet="0123456789,.\r\nAVESF-", max_size=3000))
def test_mdff_like_text_gives_only_diagnostics(text: str) -> None:
    read_all(("100,NEM12,202401010000,A,B\n200,6102000001,E1,1,E1,N1,M,kWh,30,\n" + text).encode())


@settings(max_examples=60, deadline=None)
@given(mutated())
def test_the_cli_never_prints_a_traceback(data: bytes) -> None:
    result = CliRunner().invoke(cli, ["validate", "-"], input=data)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
