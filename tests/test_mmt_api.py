"""The public handle, ``mmtlite.open``: one method per command, the same results as the CLI."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import msgspec
import pytest
from click.testing import CliRunner

import mmtlite
from mmtlite.results import run_report
from nem2cdr_cli.mmtlite_commands import cli

WHEN = datetime(2024, 5, 1, 12, 0, 0)


def cli_json(home: Path, *arguments: str) -> object:
    result = CliRunner().invoke(cli, ["--home", str(home), *arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def as_json(value: object) -> object:
    return json.loads(msgspec.json.encode(value))


def test_import_mmtlite_exposes_open_and_the_result_types() -> None:
    assert "open" in mmtlite.__all__
    for name in mmtlite.__all__:
        assert getattr(mmtlite, name) is not None, name
    for name in ("RunResult", "Status", "Selection", "Export", "Report", "Story", "Finding"):
        assert name in mmtlite.__all__


def test_a_whole_cycle_through_the_handle_matches_the_cli(tmp_path: Path) -> None:
    db = mmtlite.open(tmp_path, "build")  # a Path: any os.PathLike will do
    assert (db.env, db.home) == ("build", tmp_path)
    made = db.generate(300, seed=2)
    assert [path.parent.name for _, path in made][:3] == ["inbound"] * 3
    loaded = db.ingest()
    assert loaded.clean and len(loaded.files) == len(made)
    assert run_report(loaded).ok
    status = db.status()
    assert as_json(status) == cli_json(tmp_path, "status")
    selection = db.select("T1", 50, when=WHEN)
    assert selection.meters <= 50 and Path(selection.file.path).is_file()
    answer = db.respond("dcc", "T1", fail=0.0, when=WHEN)
    assert (answer.category, answer.failed) == ("DCCRESP", 0)
    assert db.ingest().clean
    exported = db.export("cs", "T1", when=WHEN)
    assert exported.file.category == "CSNOTE"
    with pytest.raises(mmtlite.BadArgument, match="needs its migration date"):
        db.export("mdm", "T1")
    with pytest.raises(mmtlite.TrancheError):
        db.export("mdm", "T1", migration_date=date(2024, 6, 1), when=WHEN)
    page = tmp_path / "report.html"
    report = db.report(html=page)
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    shown = cli_json(tmp_path, "report")
    mine = as_json(report)
    assert isinstance(mine, dict) and isinstance(shown, dict)
    del mine["generated_at"], shown["generated_at"]
    assert mine == shown
    first = Path(selection.file.path).read_text().splitlines()[1].split("|")[0]
    story = db.history(first)
    assert story is not None and story.status == "1"
    assert db.history("NO-SUCH-METER") is None
    assert [entry.outcome for entry in db.log(limit=2)] == ["loaded", "loaded"]
    assert db.errors() == []


def test_wrap_template_and_errors(tmp_path: Path) -> None:
    db = mmtlite.open(str(tmp_path), "sogl")
    template = db.template("noncomm", sequence=3, when=WHEN)
    assert template.name == "NONCOMM_SOGL_20240501120000.csv"
    assert template.content == b"HDR|NONCOMM|3|20240501120000|SOGL\nTRL|0\n"
    rows = tmp_path / "rows.csv"
    rows.write_text("msn,reason_code,detected_date\nMSN000001,NC01,20240101\n")
    wrapped = db.wrap("NONCOMM", rows, action="add", when=WHEN)
    assert wrapped.ok and wrapped.path is not None
    assert Path(wrapped.path).read_bytes() == wrapped.content
    # Again in the same second: the next sequence, under the next second's name.
    again = db.wrap("NONCOMM", rows, action="add", when=WHEN)
    assert (again.name, again.checked.sequence) == ("NONCOMM_SOGL_20240501120001.csv", 2)
    bad = tmp_path / "bad.csv"
    bad.write_text("MSN000001,NC01,2024-01-01\n")
    refused = db.wrap("NONCOMM", bad, action="ADD", when=datetime(2024, 5, 2))
    assert not refused.ok and refused.path is None
    result = db.load([wrapped.path])
    assert [file.outcome for file in result.files] == ["loaded with errors"]  # no codes yet
    [finding] = db.errors(file=wrapped.path)
    assert (finding.code, finding.line, finding.column) == ("MMT-R009", 2, "reason_code")
    assert str(finding).endswith(": MMT-R009 reason_code 'NC01' is not a code of the EXCLCODE list")


def test_open_refuses_an_unknown_environment(tmp_path: Path) -> None:
    with pytest.raises(mmtlite.BadArgument, match="env must be one of build, sogl, prod"):
        mmtlite.open(tmp_path, "test")  # type: ignore[arg-type]
