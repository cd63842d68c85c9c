"""The mmtlite commands through click's CliRunner: validate, template, init, generate, ingest,
status, log, errors and wrap."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmtlite.categories import CATEGORIES
from mmtlite.schema import SCHEMA_VERSION
from nem2cdr_cli.mmtlite_commands import cli

GOOD = "HDR|NONCOMM|7|20240105093000|BUILD\nMSN000001|NC01|20240101|ADD\nTRL|1\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_validate_a_good_file(tmp_path: Path) -> None:
    path = write(tmp_path, "NONCOMM_BUILD_20240105093000.csv", GOOD)
    result = CliRunner().invoke(cli, ["validate", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    assert (report["ok"], report["category"], report["sequence"], report["rows"]) == (
        True,
        "NONCOMM",
        7,
        1,
    )


def test_validate_reports_bad_rows_and_refusals_with_lines(tmp_path: Path) -> None:
    bad_row = write(
        tmp_path,
        "NONCOMM_BUILD_20240105093001.csv",
        GOOD.replace("20240101|ADD", "20241301|ADD"),
    )
    wrong_count = write(
        tmp_path, "NONCOMM_BUILD_20240105093002.csv", GOOD.replace("TRL|1", "TRL|5")
    )
    other_env = write(tmp_path, "NONCOMM_PROD_20240105093003.csv", GOOD.replace("|BUILD", "|PROD"))
    runner = CliRunner()
    result = runner.invoke(
        cli, ["validate", "--format", "json", str(bad_row), str(wrong_count), str(other_env)]
    )
    assert result.exit_code == 1
    reports = json.loads(result.output)
    [row_error] = reports[0]["row_errors"]
    assert (row_error["line"], row_error["column"], row_error["code"]) == (
        2,
        "detected_date",
        "MMT-R005",
    )
    assert [f["code"] for f in reports[1]["control_failures"]] == ["MMT-C013"]
    assert "MMT-C015" in [f["code"] for f in reports[2]["control_failures"]]
    table = runner.invoke(cli, ["validate", str(bad_row)])
    assert table.exit_code == 1 and "MMT-R005 line 2 column detected_date" in table.output


def test_a_template_validates_as_an_empty_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--env", "sogl", "template", "epcl", "--sequence", "3"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("HDR|EPCL|3|") and lines[0].endswith("|SOGL")
    assert lines[-1] == "TRL|0"
    name = next(line for line in result.stderr.splitlines() if line.startswith("# EPCL_SOGL_"))
    path = write(tmp_path, name[2:], result.stdout)
    checked = CliRunner().invoke(cli, ["--env", "sogl", "validate", str(path)])
    assert checked.exit_code == 0, checked.output


def mmtlite(home: Path, *arguments: str, env: str = "build") -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), "--env", env, *arguments])


def test_init_makes_one_wal_database_per_environment_and_the_landing_folders(
    tmp_path: Path,
) -> None:
    for env, system_data in (("build", "system_data_build"), ("prod", "system_data")):
        result = mmtlite(tmp_path, "init", env=env)
        assert result.exit_code == 0, result.output
        with closing(sqlite3.connect(tmp_path / f"mmt_{env}.sqlite")) as connection:
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        for spec in CATEGORIES.values():
            folder = tmp_path / spec.system / system_data / spec.name.lower() / spec.direction
            assert folder.is_dir(), folder
    assert sorted(path.name for path in tmp_path.glob("*.sqlite")) == [
        "mmt_build.sqlite",
        "mmt_prod.sqlite",
    ]


def test_generate_ingest_status_log_and_errors(tmp_path: Path) -> None:
    generated = mmtlite(tmp_path, "generate", "--meters", "300", "--seed", "3")
    assert generated.exit_code == 0, generated.output
    ingested = mmtlite(tmp_path, "ingest", "--format", "json")
    assert ingested.exit_code == 0, ingested.output
    report = json.loads(ingested.output)
    assert [file["category"] for file in report["files"]] == [
        "EXCLCODE",
        "DMCT",
        "EPCL",
        "MMT",
        "NONCOMM",
        "MANEXCL",
        "TODO",
        "STATUSCHG",
    ]
    assert all(file["outcome"] == "loaded" for file in report["files"])
    status = json.loads(mmtlite(tmp_path, "status", "--format", "json").output)
    assert (status["env"], status["meters"]) == ("build", 300)
    assert list(status["by_status"]) == ["0", "0S", "0Z", "1", "1R", "1a", "2"]
    with closing(sqlite3.connect(tmp_path / "mmt_build.sqlite")) as connection:
        counted = dict(connection.execute("SELECT status, count(*) FROM meters GROUP BY 1"))
    assert {key: n for key, n in status["by_status"].items() if n} == counted
    assert counted["0S"] and counted["0Z"] and counted["0"]
    again = json.loads(mmtlite(tmp_path, "ingest", "--format", "json").output)
    assert (again["files"], again["already_loaded"]) == ([], 8)
    log = json.loads(mmtlite(tmp_path, "log", "--format", "json", "--limit", "3").output)
    assert [entry["category"] for entry in log] == ["STATUSCHG", "TODO", "MANEXCL"]
    csv_log = mmtlite(tmp_path, "log", "--format", "csv", "--limit", "1").output.splitlines()
    assert csv_log[0].startswith("load_id,run_id,command,file,category,sequence")
    assert mmtlite(tmp_path, "errors", "--format", "json").output.strip() == "[]"


def test_wrap_makes_the_next_file_and_load_lists_its_bad_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert mmtlite(home, "generate", "--meters", "50").exit_code == 0
    assert mmtlite(home, "ingest").exit_code == 0
    rows = write(
        tmp_path,
        "rows.csv",
        'msn,reason_code,comment\nMSN000001,MX01,"waits, for now"\nMSN000002,ZZ99,\n',
    )
    wrapped = mmtlite(home, "wrap", "MANEXCL", str(rows), "--action", "ADD")
    assert wrapped.exit_code == 0, wrapped.output
    assert "(2 rows, sequence 2)" in wrapped.output
    inbound = home / "mmt" / "system_data_build" / "manexcl" / "inbound"
    [path] = [path for path in inbound.glob("*.csv") if "_20240101" not in path.name]
    assert path.read_text().splitlines()[1] == "MSN000001|MX01|waits, for now|ADD"
    loaded = mmtlite(home, "ingest", "--format", "json")
    assert loaded.exit_code == 1  # a row rejected
    [file] = json.loads(loaded.output)["files"]
    assert (file["outcome"], file["added"], file["rejected"]) == ("loaded with errors", 1, 1)
    [error] = json.loads(mmtlite(home, "errors", "--format", "json").output)
    assert {key: error[key] for key in ("file", "line", "column", "code")} == {
        "file": str(path),
        "line": 3,
        "column": "reason_code",
        "code": "MMT-R009",
    }


def test_wrap_writes_nothing_when_a_row_is_bad(tmp_path: Path) -> None:
    rows = write(tmp_path, "rows.csv", "MSN000001,NC01,2024-01-01,ADD\n")
    result = mmtlite(tmp_path / "home", "wrap", "NONCOMM", str(rows), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "MMT-R005 line 2 column detected_date" in result.output
    assert not (tmp_path / "out").exists()


def test_option_values_that_would_switch_checks_off_are_usage_errors(tmp_path: Path) -> None:
    path = write(tmp_path, "NONCOMM_BUILD_20240105093000.csv", GOOD)
    assert mmtlite(tmp_path, "load", "--max-delete", "nan", str(path)).exit_code == 2
    for budget in ("-1", "1e3", "lots", "101%", ""):
        assert mmtlite(tmp_path, "load", "--error-budget", budget, str(path)).exit_code == 2
    # A decimal share is accepted; the file itself is then judged (sequence 7 is a gap).
    result = mmtlite(tmp_path, "load", "--error-budget", "0.5%", "--format", "json", str(path))
    [file] = json.loads(result.output)["files"]
    assert (file["outcome"], file["code"]) == ("refused", "MMT-C019")  # sequence 7: a gap


def test_a_home_that_cannot_be_used_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "mmt_build.sqlite").mkdir()
    a_file = write(tmp_path, "a-file", "x")
    for home, command in (
        (tmp_path, ["status"]),
        (tmp_path, ["load", str(a_file)]),
        (a_file / "sub", ["status"]),
        (a_file / "sub", ["generate", "--meters", "1"]),
    ):
        result = mmtlite(home, *command)
        assert result.exit_code == 1, (home, command, result.output)
        assert isinstance(result.exception, SystemExit)
        assert result.output.startswith("mmtlite: ") and result.output.count("\n") == 1


def test_wrap_refuses_input_that_is_not_utf8_or_has_no_rows(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"MSN000001,MX01,caf\xe9\n")
    result = mmtlite(tmp_path, "wrap", "MANEXCL", str(latin), "--action", "ADD", "-o", "-")
    assert result.exit_code == 1 and "not UTF-8 (byte 0xE9 at line 1)" in result.output
    header_only = write(tmp_path, "names.csv", "msn,reason_code,comment\n")
    result = mmtlite(tmp_path, "wrap", "MANEXCL", str(header_only), "--action", "ADD")
    assert result.exit_code == 1 and "no rows to wrap" in result.output


def test_errors_of_a_file_are_found_by_its_name_or_any_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "sub"
    folder.mkdir()
    write(folder, "NONCOMM_BUILD_20240105093000.csv", GOOD.replace("TRL|1", "TRL|2"))
    monkeypatch.chdir(tmp_path)
    loaded = mmtlite(
        tmp_path / "home", "load", "--format", "json", "sub/NONCOMM_BUILD_20240105093000.csv"
    )
    [file] = json.loads(loaded.output)["files"]
    assert [error["code"] for error in file["errors"]] == ["MMT-C013"]
    for given in (
        "NONCOMM_BUILD_20240105093000.csv",
        str(folder / "NONCOMM_BUILD_20240105093000.csv"),
        "./sub/NONCOMM_BUILD_20240105093000.csv",
    ):
        found = mmtlite(tmp_path / "home", "errors", "--format", "json", "--file", given)
        listed = [(error["code"], error["load_id"]) for error in json.loads(found.output)]
        assert listed == [("MMT-C013", file["load_id"])], given
    other_case = mmtlite(
        tmp_path / "home",
        "errors",
        "--format",
        "json",
        "--file",
        "noncomm_build_20240105093000.csv",
    )
    assert json.loads(other_case.output) == []
