"""Schema 2 to 3 and 3 to 4: a database written by mmtlite at schema 2 (or 3) opens, is
upgraded in place, and says exactly what it said before (the fixture is described in
``tests/data/README.md``)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mmtlite import rules
from mmtlite.migrations import connect
from mmtlite.schema import SCHEMA_VERSION
from nem2cdr_cli.mmtlite_commands import cli

SCHEMA_2 = Path(__file__).parent / "data" / "mmt_schema2.sqlite"
METER = "SELECT msn, site_id, dmc_id, in_list, status, reason, code, via, file_id FROM meters"
TRANCHE_METERS = (
    "SELECT tranche_id, position, msn, site_id, mpxn, dmc_id, cs_note, mdm_note "
    "FROM tranche_meters ORDER BY tranche_id, position"
)
CHANGES = (
    "SELECT msn, eval_id, old_status, status, reason, code, via, file_id, tranche_id FROM {} "
    "ORDER BY msn, eval_id"
)


def raw(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute(sql).fetchall()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(SCHEMA_2, home / "mmt_build.sqlite")
    return home


def test_the_fixture_is_a_schema_2_database_with_tranches_and_answers() -> None:
    assert raw(SCHEMA_2, "PRAGMA user_version") == [(2,)]
    assert raw(SCHEMA_2, "SELECT count(*) FROM tranches") == [(2,)]
    assert raw(SCHEMA_2, "SELECT count(*) FROM list_csresp")[0][0] > 0


def test_the_upgrade_keeps_every_meter_tranche_meter_and_change(home: Path) -> None:
    database = home / "mmt_build.sqlite"
    meters = sorted(raw(database, METER))
    mpxn = dict(raw(database, "SELECT msn, mpxn FROM list_mmt"))
    tranche_meters = raw(database, TRANCHE_METERS)
    changes = raw(database, CHANGES.format("history"))
    selections = {eval_id for (eval_id,) in raw(database, "SELECT eval_id FROM tranches")}

    with closing(connect(database)) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        assert sorted(connection.execute(METER)) == meters
        assert dict(connection.execute("SELECT msn, mpxn FROM meters")) == mpxn
        assert connection.execute(TRANCHE_METERS).fetchall() == tranche_meters
        # One history, as before; the selections' rows now come from tranche_meters.
        assert connection.execute(CHANGES.format("meter_history")).fetchall() == changes
        kept = {eval_id for (eval_id,) in connection.execute("SELECT eval_id FROM history")}
        assert not kept & selections
        # The rules find nothing to change: the upgrade moved facts, it made none up.
        connection.execute("BEGIN IMMEDIATE")
        assert rules.evaluate(connection, "check").changes == {}
        connection.execute("ROLLBACK")
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema")}
    assert not {"meters_2", "tranche_meters_2"} & tables


def test_after_the_upgrade_the_cycle_goes_on(home: Path) -> None:
    database = home / "mmt_build.sqlite"
    before = dict(raw(database, "SELECT status, count(*) FROM meters GROUP BY status"))
    runner = CliRunner()

    def run(*arguments: str) -> Any:
        result = runner.invoke(cli, ["--home", str(home), *arguments, "--format", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    counts = run("status")["by_status"]
    assert {status: n for status, n in counts.items() if n} == before
    selected = run("select", "--size", "30", "--tranche", "2024-05")
    assert 0 < selected["meters"] <= 30
    [msn] = raw(database, "SELECT msn FROM tranche_meters WHERE tranche_id = '2024-05' LIMIT 1")[0]
    story = run("history", msn)
    assert story["tranche_id"] == "2024-05"
    assert [(e["old_status"], e["status"]) for e in story["events"]][-1] == ("0S", "1")
    assert run("status")["by_status"]["1"] == before["1"] + selected["meters"]


SCHEMA_3_INDEXES = (
    "CREATE INDEX meters_by_device ON meters (dmc_id)",
    "CREATE INDEX meters_flagged ON meters (site_id) WHERE reason IS NOT NULL",
)


def test_a_schema_3_database_loses_two_indexes_and_nothing_else(home: Path) -> None:
    database = home / "mmt_build.sqlite"
    connect(database).close()  # the fixture, upgraded to this version
    with closing(sqlite3.connect(database)) as connection:  # as schema 3 left it
        for statement in SCHEMA_3_INDEXES:
            connection.execute(statement)
        connection.execute("PRAGMA user_version = 3")
        connection.commit()
    meters = sorted(raw(database, METER))
    changes = raw(database, CHANGES.format("meter_history"))

    with closing(connect(database)) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        indexes = {name for (name,) in connection.execute("SELECT name FROM sqlite_schema")}
        assert not {"meters_by_device", "meters_flagged"} & indexes
        assert {"meters_by_msn", "meters_by_status"} <= indexes
        assert sorted(connection.execute(METER)) == meters
        assert connection.execute(CHANGES.format("meter_history")).fetchall() == changes
        connection.execute("BEGIN IMMEDIATE")
        assert rules.evaluate(connection, "check").changes == {}
        connection.execute("ROLLBACK")
