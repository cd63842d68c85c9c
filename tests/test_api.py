"""The public API: one plain function per command, each what its command does."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from pathlib import Path

import msgspec
from click.testing import CliRunner

import nem2cdr
import nem2cdr_experiments
from nem2cdr.model import IntervalDay
from nem2cdr_cli.nem2cdr_commands import cli

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"


def test_the_api_is_exported() -> None:
    for name in ("read", "validate", "convert", "check", "generate", "write"):
        assert name in nem2cdr.__all__
        assert callable(getattr(nem2cdr, name))
    assert callable(nem2cdr_experiments.run)


def test_every_exported_name_resolves() -> None:
    for name in nem2cdr.__all__:
        assert getattr(nem2cdr, name) is not None, name


def test_mmtlite_does_not_import_the_nem12_reader() -> None:
    """mmtlite writes through nem2cdr.atomic; that must not load nem2cdr's reader."""
    code = "import sys, mmtlite; print('nem2cdr.reader' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)
    assert done.stdout.split() == [b"False"]


def test_validate_does_not_import_jsonschema_or_the_converter() -> None:
    code = (
        "import sys, nem2cdr; nem2cdr.validate(sys.argv[1]); "
        "print('jsonschema' in sys.modules, 'nem2cdr.conversion' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code, str(SAMPLE)], capture_output=True)
    assert done.stdout.split() == [b"False", b"False"]


def test_generate_writes_what_the_command_writes(tmp_path: Path) -> None:
    nem2cdr.generate(tmp_path / "lib.csv", nmis=2, days=3, interval=30, seed=7)
    done = CliRunner().invoke(
        cli,
        ["generate", "--nmis", "2", "--days", "3", "--seed", "7", "-o", str(tmp_path / "c.csv")],
    )
    assert done.exit_code == 0, done.output
    assert (tmp_path / "lib.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_generate_zips_the_csv_under_the_zip_s_name(tmp_path: Path) -> None:
    nem2cdr.generate(tmp_path / "plain.csv", nmis=1, days=2)
    nem2cdr.generate(tmp_path / "data.zip", nmis=1, days=2, as_zip=True)
    with zipfile.ZipFile(tmp_path / "data.zip") as archive:
        assert archive.namelist() == ["data.csv"]
        assert archive.read("data.csv") == (tmp_path / "plain.csv").read_bytes()
    stream = io.BytesIO()
    nem2cdr.generate(stream, nmis=1, days=2, as_zip=True)
    assert zipfile.ZipFile(stream).namelist() == ["NEM12.csv"]


def test_write_reproduces_a_generated_file(tmp_path: Path) -> None:
    original = tmp_path / "original.csv"
    nem2cdr.generate(original, nmis=2, days=4, interval=15, seed=3)
    reader = nem2cdr.read(original)
    days = [record for record in reader if isinstance(record, IntervalDay)]
    nem2cdr.write(tmp_path / "copy.csv", days, reader.headers[0])
    assert (tmp_path / "copy.csv").read_bytes() == original.read_bytes()


def test_validate_and_check_reports_are_what_the_commands_print(tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["validate", "-q", "--format", "json", str(SAMPLE)])
    assert done.stdout.encode() == _pretty([nem2cdr.validate(SAMPLE)])
    payload = tmp_path / "usage.json"
    assert nem2cdr.convert(SAMPLE, payload, page=1).ok
    done = runner.invoke(cli, ["check", "--format", "json", str(payload)])
    assert done.stdout.encode() == _pretty(
        [nem2cdr.CheckReport(str(payload), nem2cdr.check(payload))]
    )


def _pretty(value: object) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=2) + b"\n"


def test_run_takes_only_as_the_command_s_text_or_as_a_list() -> None:
    as_text = nem2cdr_experiments.run(SAMPLE, only="00,12", codecs="gzip:1")
    as_list = nem2cdr_experiments.run(SAMPLE, only=["00", "12"], codecs="gzip:1")
    text_ids, list_ids = ([r.id for r in run.experiments] for run in (as_text, as_list))
    assert text_ids == list_ids == ["00", "12"]
    sizes = ([r.compressed for r in run.experiments] for run in (as_text, as_list))
    assert next(sizes) == next(sizes)
