"""Schema 3's layout (``meters`` keyed by site and MSN and holding the MPxN, ``tranche_meters``
keyed by tranche and position, selection by range statements, the view ``meter_history``, the
upgrade from schema 2) against what docs/mmtlite.md says, with real SQLite in tmp_path:

1. Meters moving between sites (eligible, excluded via a site-mate, in a tranche): statuses,
   causes, ``via``, the site rule at the new site and the release at the old one.
2. MPxN and device changes: ``meters`` follows the master list, the next DCCCAND carries the
   new values, a tranche keeps what it sent.
3. Selections as range statements: sites passed over in the middle and at the end, site ids in
   byte order (case, digits, punctuation), a size equal to a site, selecting until nothing fits,
   and a property: the meters selected are the plain-Python greedy choice over (site, MSN) of
   the meters the database says are eligible, through moves, departures and returns.
4. A tranche meter out of the master list: its facts reach no site-mate, old or new; it comes
   back (at another site) as a conflict.
5. ``meter_history``: one selection row per selected meter, in order among the rules' rows, and
   ``mmtlite history`` shows it.
6. Upgrades: a schema-2 database reports exactly what schema 2 reported (expected output made
   by the schema-2 code, ``tests/data/README.md``); a schema-2 tranche meter that had left the
   list; a schema-1 database.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmtlite import rules
from mmtlite.fileformat import parse
from mmtlite.loader import FileResult, load
from mmtlite.migration_report import Conflict, report
from mmtlite.schema import SCHEMA_VERSION
from mmtlite.tranches import Selection, TrancheError, export_tranche, select_tranche
from nem2cdr_cli.mmtlite_commands import cli
from tests.mmt_helpers import Files

WHEN = datetime(2024, 5, 1, 12, 0, 0)
DATA = Path(__file__).parent / "data"
SCHEMA_2 = DATA / "mmt_schema2.sqlite"
SCHEMA_2_EXPECTED = DATA / "mmt_schema2_expected.json"

SITE_WIDE, LOCAL = "NC01", "MX01"  # NC01 excludes the whole site, MX01 the meter alone
GOOD = "DMC1"  # on the EPCL and in the DMCT
MPXN = "1234567890123"
# Every column of meters, the MSN first and the status sixth.
METER_ROWS = (
    "SELECT msn, site_id, dmc_id, mpxn, in_list, status, reason, code, via, file_id FROM meters "
    "ORDER BY msn"
)

# (site, status, reason, code, via) of a meter.
State = tuple[str, str, str | None, str | None, str | None]
# A meter_history row: (old_status, status, reason, code, via, tranche_id).
Change = tuple[str | None, str | None, str | None, str | None, str | None, str | None]


# --- a world: files loaded one by one into one environment ------------------------------------


def mmt(
    msn: str, site: str, mpxn: str = MPXN, dmc: str = GOOD, action: str = "ADD"
) -> tuple[str, ...]:
    """A master-list row."""
    return (msn, site, mpxn, "E", dmc, "20190401", action)


def gone(msn: str) -> tuple[str, ...]:
    """A master-list REMOVE row (the key is enough)."""
    return (msn, "", "", "", "", "", "REMOVE")


def noncomm(msn: str, code: str = SITE_WIDE) -> tuple[str, ...]:
    return (msn, code, "20240101", "ADD")


def todo(msn: str) -> tuple[str, ...]:
    return (msn, "VISIT", "a visit", "", "ADD")


class World(Files):
    """One environment and the files loaded into it."""

    def load(self, category: str, rows: Sequence[Sequence[str]]) -> FileResult:
        result = load(self.place, [self.path(category, rows)]).files[0]
        assert result.outcome == "loaded", result.message
        return result

    def basics(self, *devices: str) -> None:
        """The codes, and ``devices`` (DMC1 by default) on the EPCL and in the DMCT."""
        devices = devices or (GOOD,)
        self.load(
            "EXCLCODE", [(SITE_WIDE, "not communicating", "Y", "ALL"), (LOCAL, "hand", "N", "ALL")]
        )
        self.load("DMCT", [(dmc, "tested", "20230101", "ALL") for dmc in devices])
        self.load("EPCL", [(dmc, "Maker", "Model", "1.0", "ALL") for dmc in devices])

    def query(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        with self.connection() as connection:
            return connection.execute(sql, parameters).fetchall()

    def states(self) -> dict[str, State]:
        return {
            msn: (site, status, reason, code, via)
            for msn, site, status, reason, code, via in self.query(
                "SELECT msn, site_id, status, reason, code, via FROM meters"
            )
        }

    def history(self, msn: str) -> list[Change]:
        return [
            (old, new, reason, code, via, tranche)
            for old, new, reason, code, via, tranche in self.query(
                "SELECT old_status, status, reason, code, via, tranche_id FROM meter_history "
                "WHERE msn = ? ORDER BY eval_id",
                msn,
            )
        ]

    def select(self, tranche: str, size: int) -> Selection:
        return select_tranche(self.place, tranche, size, when=WHEN)

    def conflicts(self) -> list[Conflict]:
        with self.connection() as connection:
            return report(connection, "build").conflicts


@pytest.fixture
def world(tmp_path: Path) -> World:
    made = World(tmp_path)
    made.basics()
    return made


def candidates(selection: Selection | str) -> list[tuple[str, ...]]:
    """The detail rows of a DCCCAND file, read by mmtlite's own parser (which must find no
    fault in it)."""
    path = selection.file.path if isinstance(selection, Selection) else selection
    parsed = parse(path, env="BUILD")
    assert parsed.control_failures == [] and parsed.row_errors == []
    return [row.fields for row in parsed.rows]


def msns(selection: Selection) -> list[str]:
    return [row[0] for row in candidates(selection)]


def eligible(of: World) -> list[str]:
    return sorted(m for m, state in of.states().items() if state[1] == rules.ELIGIBLE)


# --- 1. meters moving between sites --------------------------------------------------------------

A, B, C, D, E = "AAAAAA", "BBBBBB", "CCCCCC", "DDDDDD", "EEEEEE"


def test_an_eligible_meter_moving_into_a_held_site_is_held_and_released_when_it_leaves(
    world: World,
) -> None:
    world.load("MMT", [mmt(A, "S1"), mmt(B, "S2"), mmt(C, "S2")])
    world.load("TODO", [todo(C)])
    world.load("MMT", [mmt(A, "S2")])
    assert world.states() == {
        A: ("S2", rules.HELD, "TODO", "VISIT", C),
        B: ("S2", rules.HELD, "TODO", "VISIT", C),
        C: ("S2", rules.HELD, "TODO", "VISIT", None),
    }
    world.load("MMT", [mmt(A, "S3")])
    assert world.states()[A] == ("S3", rules.ELIGIBLE, None, None, None)
    assert world.history(A) == [
        (None, "0S", None, None, None, None),
        ("0S", "0", "TODO", "VISIT", C, None),
        ("0", "0S", None, None, None, None),
    ]
    # The held site is not selected; A at its new site is.
    assert msns(world.select("T1", 10)) == [A]


def test_a_meter_excluded_via_a_site_mate_is_released_by_moving_and_excluded_at_its_new_site(
    world: World,
) -> None:
    world.load("MMT", [mmt(A, "S1"), mmt(B, "S1"), mmt(C, "S3"), mmt(D, "S3"), mmt(E, "S2")])
    world.load("NONCOMM", [noncomm(A), noncomm(C)])
    assert world.states()[B] == ("S1", rules.EXCLUDED, "NONCOMM", SITE_WIDE, A)
    world.load("MMT", [mmt(B, "S2")])
    assert world.states()[B] == ("S2", rules.ELIGIBLE, None, None, None)
    world.load("MMT", [mmt(B, "S3")])
    assert world.states() == {
        A: ("S1", rules.EXCLUDED, "NONCOMM", SITE_WIDE, None),
        B: ("S3", rules.EXCLUDED, "NONCOMM", SITE_WIDE, C),
        C: ("S3", rules.EXCLUDED, "NONCOMM", SITE_WIDE, None),
        D: ("S3", rules.EXCLUDED, "NONCOMM", SITE_WIDE, C),
        E: ("S2", rules.ELIGIBLE, None, None, None),
    }
    assert world.history(B) == [
        (None, "0S", None, None, None, None),
        ("0S", "0Z", "NONCOMM", SITE_WIDE, A, None),
        ("0Z", "0S", None, None, None, None),
        ("0S", "0Z", "NONCOMM", SITE_WIDE, C, None),
    ]
    # One row per meter, under its new key (site, MSN).
    assert world.query("SELECT site_id FROM meters WHERE msn = ?", B) == [("S3",)]
    assert msns(world.select("T1", 10)) == [E]


def test_a_tranche_meter_moving_takes_its_site_wide_cause_to_its_new_site(world: World) -> None:
    world.load("MMT", [mmt(A, "S1"), mmt(B, "S2")])
    assert msns(world.select("T1", 1)) == [A]
    world.load("MMT", [mmt(C, "S1")])  # joins A's site after the selection
    arrived = world.load("NONCOMM", [noncomm(A)])
    assert arrived.evaluation is not None and arrived.evaluation.new_conflicts == 1
    assert world.states()[C] == ("S1", rules.EXCLUDED, "NONCOMM", SITE_WIDE, A)
    world.load("MMT", [mmt(A, "S2")])
    assert world.states() == {
        A: ("S2", rules.SELECTED, "NONCOMM", SITE_WIDE, None),
        B: ("S2", rules.EXCLUDED, "NONCOMM", SITE_WIDE, A),
        C: ("S1", rules.ELIGIBLE, None, None, None),
    }
    # The tranche keeps the site it was sent with; the move changed neither A's status nor
    # its cause, so A's history has no row for it.
    assert world.query("SELECT site_id FROM tranche_meters WHERE msn = ?", A) == [("S1",)]
    assert world.history(A) == [
        (None, "0S", None, None, None, None),
        ("0S", "1", None, None, None, "T1"),
        ("1", "1", "NONCOMM", SITE_WIDE, None, "T1"),
    ]
    assert world.conflicts() == [Conflict("T1", "NONCOMM", SITE_WIDE, 1, "not communicating")]
    assert msns(world.select("T2", 10)) == [C]


# --- 2. MPxN and device changes -------------------------------------------------------------------


def test_an_mpxn_change_reaches_the_next_candidate_file_but_not_a_tranche_already_sent(
    tmp_path: Path,
) -> None:
    world = World(tmp_path)
    world.basics(GOOD, "DMC3")
    world.load("MMT", [mmt(A, "S1", "1000000000001"), mmt(B, "S2", "2000000000001")])
    first = world.select("T1", 1)
    assert candidates(first) == [(A, "1000000000001", GOOD, "T1")]
    # MPxN only: no status or cause changes, but meters follows the list.
    changed = world.load("MMT", [mmt(A, "S1", "1000000000002"), mmt(B, "S2", "2000000000002")])
    assert changed.evaluation is None or changed.evaluation.changes == {}
    assert dict(world.query("SELECT msn, mpxn FROM meters")) == {
        A: "1000000000002",
        B: "2000000000002",
    }
    assert candidates(world.select("T2", 1)) == [(B, "2000000000002", GOOD, "T2")]
    # A complete list (ALL) changing an MPRN and a device.
    world.load(
        "MMT",
        [
            mmt(A, "S1", "1000000000003", action="ALL"),
            mmt(B, "S2", "2000000000002", action="ALL"),
            mmt(C, "S3", "3000000", "DMC3", action="ALL"),
            mmt(D, "S4", "4000000", action="ALL"),
        ],
    )
    world.load("MMT", [mmt(C, "S3", "3000001", "DMC3"), mmt(D, "S4", "4000001", "DMC3")])
    assert candidates(world.select("T3", 2)) == [
        (C, "3000001", "DMC3", "T3"),
        (D, "4000001", "DMC3", "T3"),
    ]
    # What was sent stays what was sent (tranche_meters, and the DCCCAND written again).
    again = export_tranche(world.place, "dcc", "T1", when=WHEN)
    assert candidates(again.file.path) == [(A, "1000000000001", GOOD, "T1")]
    assert world.query("SELECT msn, mpxn FROM tranche_meters ORDER BY tranche_id, position") == [
        (A, "1000000000001"),
        (B, "2000000000002"),
        (C, "3000001"),
        (D, "4000001"),
    ]
    assert world.query("SELECT mpxn FROM meters WHERE msn = ?", A) == [("1000000000003",)]


# --- 3. selections ----------------------------------------------------------------------------

# Site ids in byte order (what SQLite's BINARY collation and Python's str order both give):
# '-' < '.' < digits < upper case < '_' < lower case.
ODD_SITES = {
    "S1": ["MSN0002", "MSN0001"],
    "S1-2": [f"MSN01{n}" for n in range(6)],
    "S1.0": ["MSN0200"],
    "S10": [f"MSN03{n}" for n in range(5)],
    "S1A": ["MSN0401", "MSN0400", "MSN0402"],  # MSN0402 excluded alone (local code)
    "S1_": ["MSN0500", "MSN0501", "MSN0502"],
    "S1a": ["MSN0600"],
    "S2": ["MSN0701", "MSN0700"],
    "s1": ["MSN0800"],
}


def test_passed_over_sites_in_the_middle_and_at_the_end_wait_for_the_next_tranche(
    world: World,
) -> None:
    world.load("MMT", [mmt(msn, site) for site, meters in ODD_SITES.items() for msn in meters])
    world.load("MANEXCL", [("MSN0402", LOCAL, "hand", "ADD")])
    assert sorted(ODD_SITES) == list(ODD_SITES)  # the order written above is the byte order
    # Room 7: S1 (2), S1-2 (6) passed over, S1.0 (1), S10 (5) passed over, S1A (2 eligible),
    # S1_ (3) passed over, S1a (1), S2 (2) passed over, s1 (1): full. Four sites passed over
    # inside the run from the first site taken to the last.
    first = world.select("T1", 7)
    taken = ["MSN0001", "MSN0002", "MSN0200", "MSN0400", "MSN0401", "MSN0600", "MSN0800"]
    assert msns(first) == taken
    assert (first.meters, first.sites, first.passed_over, first.eligible_left) == (7, 5, 4, 16)
    assert world.states()["MSN0402"][1] == rules.EXCLUDED
    # A size equal to the first waiting site: that site alone.
    second = world.select("T2", 6)
    assert msns(second) == [f"MSN01{n}" for n in range(6)]
    assert (second.sites, second.passed_over) == (1, 0)
    # S10 (5) passed over, S1_ (3) taken, S2 (2) passed over after it: a site passed over at
    # the end, outside the run.
    third = world.select("T3", 4)
    assert msns(third) == ["MSN0500", "MSN0501", "MSN0502"]
    assert (third.meters, third.sites, third.passed_over, third.eligible_left) == (3, 1, 2, 7)
    fourth = world.select("T4", 5)
    assert msns(fourth) == [f"MSN03{n}" for n in range(5)]
    with pytest.raises(TrancheError, match="no eligible site fits in a tranche of 1 meter"):
        world.select("T5", 1)
    assert msns(world.select("T6", 2)) == ["MSN0700", "MSN0701"]
    with pytest.raises(TrancheError, match="no eligible site fits"):
        world.select("T7", 100)
    # Every meter but the excluded one went, each once, numbered in (site, MSN) order.
    rows = world.query("SELECT tranche_id, position, msn, site_id FROM tranche_meters")
    assert len(rows) == len({msn for _, _, msn, _ in rows}) == 23
    for tranche in ("T1", "T2", "T3", "T4", "T6"):
        mine = sorted((p, s, m) for t, p, m, s in rows if t == tranche)
        assert [p for p, _, _ in mine] == list(range(1, len(mine) + 1))
        assert [(s, m) for _, s, m in mine] == sorted((s, m) for _, s, m in mine)
    assert eligible(world) == []


def greedy(eligible: Mapping[str, Sequence[str]], size: int) -> tuple[list[str], int, int]:
    """docs/mmtlite.md's selection, in plain Python: sites in text order, a site's meters in MSN
    order if they all fit in the room left, else passed over; stop when full. Returns the meters
    chosen, the sites taken and the sites passed over."""
    chosen: list[str] = []
    taken = passed = 0
    for site in sorted(eligible):
        if len(chosen) == size:
            break
        if len(eligible[site]) <= size - len(chosen):
            chosen += sorted(eligible[site])
            taken += 1
        else:
            passed += 1
    return chosen, taken, passed


# The property's pools: site ids that sort by byte (case, digits, punctuation, prefixes of each
# other) and MSNs of several lengths (so MSN order is not number order).
SITE_POOL = ("S1", "S1-2", "S1.0", "S10", "S1A", "S1_", "S1a", "S2", "s1", "0", "00", "9", "a")
MSN_POOL = tuple(f"M{n:0{5 + n % 3}d}" for n in range(14))
FLAGS = ("",) * 5 + ("NONCOMM", "MANEXCL")


@dataclass(frozen=True)
class Plan:
    """A master list with facts, then rounds of master-list changes, each followed by a
    selection. An operation is (meter, kind, site): ``move`` a listed meter to ``site`` (back
    into the list there if it is out), ``toggle`` it out of the list or back in at ``site``,
    ``mpxn`` give it a new MPxN."""

    meters: tuple[tuple[str, str, str], ...]  # msn, site, flag
    rounds: tuple[tuple[tuple[tuple[int, str, str], ...], int], ...]  # operations, size


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    count = draw(st.integers(6, len(MSN_POOL)))
    # A few sites of the pool, so sites have several meters and some do not fit.
    sites = draw(st.lists(st.sampled_from(SITE_POOL), min_size=2, max_size=5, unique=True))
    meters = tuple(
        (msn, draw(st.sampled_from(sites)), draw(st.sampled_from(FLAGS)))
        for msn in MSN_POOL[:count]
    )
    operation = st.tuples(
        st.integers(0, count - 1),
        st.sampled_from(("move", "move", "toggle", "mpxn")),
        st.sampled_from(sites) | st.sampled_from(SITE_POOL),
    )
    rounds = draw(
        st.lists(
            st.tuples(st.lists(operation, max_size=5).map(tuple), st.integers(1, 5)),
            min_size=1,
            max_size=4,
        )
    )
    return Plan(meters, tuple(rounds))


def mpxn_of(msn: str, version: int) -> str:
    """An MPAN core of the meter's own, one per version."""
    return f"{version:02d}{int(msn[1:]):011d}"


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans())
def test_a_selection_is_the_greedy_choice_over_the_eligible_meters_through_moves(
    plan: Plan,
) -> None:
    with tempfile.TemporaryDirectory() as root:
        world = World(Path(root))
        world.basics()
        flag = {msn: mark for msn, _, mark in plan.meters}
        site = {msn: place for msn, place, _ in plan.meters}
        version = dict.fromkeys(flag, 0)
        listed = set(flag)
        in_tranche: set[str] = set()
        world.load("MMT", [mmt(m, site[m], mpxn_of(m, 0), action="ALL") for m in site])
        for name, code in (("NONCOMM", SITE_WIDE), ("MANEXCL", LOCAL)):
            marked = [m for m in flag if flag[m] == name]
            if marked:
                world.load(
                    name, [(m, code, "x" if code == LOCAL else "20240101", "ADD") for m in marked]
                )
        for number, (operations, size) in enumerate(plan.rounds, 1):
            rows: dict[str, tuple[str, ...]] = {}
            for index, kind, where in operations:
                msn = MSN_POOL[index]
                if kind == "toggle" and msn in listed:
                    listed.discard(msn)
                    rows[msn] = gone(msn)
                    continue
                if kind == "mpxn" and msn in listed:
                    version[msn] += 1
                elif kind != "mpxn":
                    site[msn] = where
                    listed.add(msn)
                else:
                    continue
                rows[msn] = mmt(msn, site[msn], mpxn_of(msn, version[msn]))
            if rows:
                world.load("MMT", list(rows.values()))
            # The rules (docs/mmtlite.md): a listed meter outside any tranche is eligible unless it
            # is excluded itself or a listed meter at its site has a site-wide exclusion.
            blocked = {site[m] for m in listed if flag[m] == "NONCOMM"}
            expected = {m for m in listed - in_tranche if not flag[m] and site[m] not in blocked}
            states = world.states()
            assert {m for m, s in states.items() if s[1] == rules.ELIGIBLE} == expected
            assert all(states[m][0] == site[m] for m in listed)
            by_site: dict[str, list[str]] = {}
            for m in expected:
                by_site.setdefault(site[m], []).append(m)
            chosen, taken, passed = greedy(by_site, size)
            tranche = f"T{number}"
            before = world.query(METER_ROWS)
            if not chosen:
                with pytest.raises(TrancheError):
                    world.select(tranche, size)
                assert world.query(METER_ROWS) == before
                continue
            selection = world.select(tranche, size)
            assert candidates(selection) == [
                (m, mpxn_of(m, version[m]), GOOD, tranche) for m in chosen
            ]
            assert (selection.meters, selection.sites, selection.passed_over) == (
                len(chosen),
                taken,
                passed,
            )
            assert selection.eligible_left == len(expected) - len(chosen)
            assert world.query(
                "SELECT position, msn, site_id, mpxn FROM tranche_meters WHERE tranche_id = ? "
                "ORDER BY position",
                tranche,
            ) == [(p, m, site[m], mpxn_of(m, version[m])) for p, m in enumerate(chosen, 1)]
            # The chosen meters became selected; nothing else changed.
            after = {row[0]: row for row in world.query(METER_ROWS)}
            for row in before:
                msn = row[0]
                if msn in chosen:
                    assert after[msn][5] == rules.SELECTED
                else:
                    assert after[msn] == row
            # One history row each, at the selection, and none in the rules' own table.
            [(eval_id,)] = world.query("SELECT eval_id FROM tranches WHERE tranche_id = ?", tranche)
            assert sorted(
                world.query(
                    "SELECT msn, old_status, status, tranche_id FROM meter_history "
                    "WHERE eval_id = ?",
                    eval_id,
                )
            ) == sorted((m, "0S", "1", tranche) for m in chosen)
            assert world.query("SELECT count(*) FROM history WHERE eval_id = ?", eval_id) == [(0,)]
            in_tranche |= set(chosen)
        for msn in in_tranche:
            selections = [c for c in world.history(msn) if c[:2] == ("0S", "1")]
            assert len(selections) == 1


# --- 4. a tranche meter out of the master list -----------------------------------------------


def test_a_tranche_meter_out_of_the_list_excludes_no_site_mate_and_comes_back_in_conflict(
    world: World,
) -> None:
    world.load("MMT", [mmt(A, "S1"), mmt(D, "S2")])
    assert msns(world.select("T1", 1)) == [A]
    world.load("MMT", [mmt(C, "S1")])
    left = world.load("MMT", [gone(A)])
    assert left.evaluation is not None and left.evaluation.new_conflicts == 1
    assert world.states()[A] == ("S1", rules.SELECTED, "MMT", "REMOVED", None)
    assert world.conflicts() == [Conflict("T1", "MMT", "REMOVED", 1)]
    # A fact about it while it is out: kept, but it reaches nobody (A is no site-mate now).
    world.load("NONCOMM", [noncomm(A)])
    assert world.states() == {
        A: ("S1", rules.SELECTED, "MMT", "REMOVED", None),
        C: ("S1", rules.ELIGIBLE, None, None, None),
        D: ("S2", rules.ELIGIBLE, None, None, None),
    }
    # Back, at another site, with another MPxN: its fact counts again, there.
    back = world.load("MMT", [mmt(A, "S2", "9999999999999")])
    assert back.evaluation is not None
    assert world.states() == {
        A: ("S2", rules.SELECTED, "NONCOMM", SITE_WIDE, None),
        C: ("S1", rules.ELIGIBLE, None, None, None),
        D: ("S2", rules.EXCLUDED, "NONCOMM", SITE_WIDE, A),
    }
    assert world.query("SELECT in_list, mpxn FROM meters WHERE msn = ?", A) == [
        (1, "9999999999999")
    ]
    assert world.query("SELECT site_id, mpxn FROM tranche_meters WHERE msn = ?", A) == [
        ("S1", MPXN)
    ]
    assert world.conflicts() == [Conflict("T1", "NONCOMM", SITE_WIDE, 1, "not communicating")]
    assert world.history(A) == [
        (None, "0S", None, None, None, None),
        ("0S", "1", None, None, None, "T1"),
        ("1", "1", "MMT", "REMOVED", None, "T1"),
        ("1", "1", "NONCOMM", SITE_WIDE, None, "T1"),
    ]
    assert msns(world.select("T2", 10)) == [C]


# --- 5. meter_history and mmtlite history ------------------------------------------------------


def test_the_selection_row_sits_in_order_among_the_rules_rows_and_the_cli_shows_it(
    world: World,
) -> None:
    world.load("MMT", [mmt(A, "S1"), mmt(B, "S1"), mmt(C, "S2")])
    world.load("MANEXCL", [(A, LOCAL, "hand", "ADD")])
    world.load("MANEXCL", [(A, "", "", "REMOVE")])
    selection = world.select("T1", 2)
    assert msns(selection) == [A, B]
    world.load("DCCRESP", [(A, "T1", "REJECTED", "")])
    assert world.history(A) == [
        (None, "0S", None, None, None, None),
        ("0S", "0Z", "MANEXCL", LOCAL, None, None),
        ("0Z", "0S", None, None, None, None),
        ("0S", "1", None, None, None, "T1"),
        ("1", "1R", None, None, None, "T1"),
    ]
    [(eval_id,)] = world.query("SELECT eval_id FROM tranches")
    assert world.query(
        "SELECT msn FROM meter_history WHERE eval_id = ? AND old_status = '0S' AND status = '1' "
        "ORDER BY msn",
        eval_id,
    ) == [(A,), (B,)]
    runner = CliRunner()
    home = ["--home", str(world.place.root)]
    text = runner.invoke(cli, [*home, "history", A])
    assert text.exit_code == 0, text.output
    events = text.output.split("history:\n", 1)[1].splitlines()
    # "  <time>  <old> -> <new>  <cause> [<file>]"
    assert [" ".join(line.split()[1:4]) for line in events] == [
        "new -> 0S",
        "0S -> 0Z",
        "0Z -> 0S",
        "0S -> 1",
        "1 -> 1R",
    ]
    assert "selected, tranche T1 (by select --tranche T1)" in events[3]
    story = runner.invoke(cli, [*home, "history", B, "--format", "json"])
    assert story.exit_code == 0, story.output
    found = json.loads(story.stdout)
    assert found["tranche_id"] == "T1"
    [(master,)] = world.query("SELECT name FROM ledger WHERE category = 'MMT'")
    assert [(e["old_status"], e["status"], e["trigger"]) for e in found["events"]] == [
        (None, "0S", f"load {master}"),
        ("0S", "1", "select --tranche T1"),
    ]


# --- 6. upgrades ----------------------------------------------------------------------------


def run_json(home: Path, *arguments: str) -> Any:
    result = CliRunner().invoke(cli, ["--home", str(home), *arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_schema_2_database_reports_exactly_what_schema_2_reported(tmp_path: Path) -> None:
    # The expected output was made by the schema-2 code on the same file (tests/data/README.md).
    expected = json.loads(SCHEMA_2_EXPECTED.read_text())
    shutil.copy(SCHEMA_2, tmp_path / "mmt_build.sqlite")
    made = run_json(tmp_path, "report")
    made.pop("generated_at")
    # What the schema-2 code did not say yet: what each cause's code means.
    for row in made["exclusions"] + made["conflicts"]:
        assert row.pop("description") or row["reason"] == "MMT", row
    with closing(sqlite3.connect(tmp_path / "mmt_build.sqlite")) as connection:
        assert connection.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    assert made == expected["report"]
    assert run_json(tmp_path, "status") == expected["status"]
    for msn, story in expected["history"].items():
        assert run_json(tmp_path, "history", msn) == story, msn


def test_a_schema_2_tranche_meter_that_had_left_the_list_keeps_what_was_sent(
    tmp_path: Path,
) -> None:
    database = tmp_path / "home" / "mmt_build.sqlite"
    database.parent.mkdir()
    shutil.copy(SCHEMA_2, database)
    # Made as the schema-2 rules left such a meter (rules.py at e26712e): out of the master
    # list, kept in ``meters`` with in_list 0 and the conflict MMT REMOVED.
    with closing(sqlite3.connect(database)) as connection:
        (msn, site, sent, device) = connection.execute(
            "SELECT t.msn, t.site_id, t.mpxn, t.dmc_id FROM tranche_meters AS t JOIN meters AS m "
            "USING (msn) WHERE t.tranche_id = '2024-04' ORDER BY t.position LIMIT 1"
        ).fetchone()
        connection.execute("DELETE FROM list_mmt WHERE msn = ?", (msn,))
        connection.execute(
            "UPDATE meters SET in_list = 0, reason = 'MMT', code = 'REMOVED', via = NULL, "
            "file_id = NULL WHERE msn = ?",
            (msn,),
        )
        (sequence,) = connection.execute(
            "SELECT max(sequence) FROM ledger WHERE category = 'MMT'"
        ).fetchone()
        connection.commit()
    world = World(tmp_path)
    world.sequences["MMT"] = sequence
    assert world.query("SELECT in_list, site_id, mpxn, status FROM meters WHERE msn = ?", msn) == [
        (0, site, sent, rules.SELECTED)
    ]
    world.load("MMT", [mmt(msn, "ZZNEWSITE", "5555555555555", device)])
    assert world.states()[msn] == ("ZZNEWSITE", rules.SELECTED, None, None, None)
    assert world.query("SELECT mpxn FROM meters WHERE msn = ?", msn) == [("5555555555555",)]
    assert world.query("SELECT site_id, mpxn FROM tranche_meters WHERE msn = ?", msn) == [
        (site, sent)
    ]
    assert [c[:2] for c in world.history(msn)][-2:] == [("0S", "1"), ("1", "1")]


def test_a_schema_1_database_is_upgraded_with_its_statuses_and_selects(world: World) -> None:
    world.load("MMT", [mmt(A, "S1"), mmt(B, "S1", dmc="DMC9"), mmt(C, "S2"), mmt(D, "S3")])
    world.load("NONCOMM", [noncomm(C, LOCAL)])
    before = world.states()
    # Schema 1 is the lists, ledger and log alone: no migration state yet.
    with closing(sqlite3.connect(world.place.database)) as connection:
        connection.execute("DROP VIEW meter_history")
        for table in ("meters", "evaluations", "history", "tranches", "tranche_meters", "outbound"):
            connection.execute(f"DROP TABLE {table}")
        connection.execute("PRAGMA user_version = 1")
        connection.commit()
    assert world.states() == before
    assert world.query("SELECT msn, mpxn FROM meters ORDER BY msn") == [
        (msn, MPXN) for msn in (A, B, C, D)
    ]
    assert msns(world.select("T1", 5)) == [D]
    assert world.history(D) == [
        (None, "0S", None, None, None, None),
        ("0S", "1", None, None, None, "T1"),
    ]


# --- a first master list (judged whole, indexed after) and a big one after it -----------------

METER_INDEX_NAMES = {"meters_by_msn", "meters_by_status", "meters_left"}


def test_a_first_master_list_is_judged_whole_and_keeps_every_index(world: World) -> None:
    world.load("NONCOMM", [noncomm(A)])  # a fact before its meter is on the list
    world.load("MMT", [mmt(A, "S5"), mmt(B, "S5"), mmt(C, "S6")])
    names = {name for (name,) in world.query("SELECT name FROM pragma_index_list('meters')")}
    assert names >= METER_INDEX_NAMES
    assert world.states() == {
        A: ("S5", "0Z", "NONCOMM", SITE_WIDE, None),
        B: ("S5", "0Z", "NONCOMM", SITE_WIDE, A),
        C: ("S6", "0S", None, None, None),
    }
    assert world.history(B) == [(None, "0Z", "NONCOMM", SITE_WIDE, A, None)]
    assert msns(world.select("T1", 5)) == [C]


def test_a_big_master_list_keeps_the_site_rule_for_tranche_meters_and_every_index(
    world: World,
) -> None:
    world.load("MMT", [mmt(A, "S5"), mmt(B, "S6")])
    assert msns(world.select("T1", 1)) == [A]
    world.load("NONCOMM", [noncomm(A)])
    fresh = [f"N{n:07d}" for n in range(50_001)]
    world.load("MMT", [mmt(msn, f"S{n % 20_000}") for n, msn in enumerate(fresh)])
    names = {name for (name,) in world.query("SELECT name FROM pragma_index_list('meters')")}
    assert names >= METER_INDEX_NAMES
    at_s5 = world.query("SELECT msn, status, via FROM meters WHERE site_id = 'S5' ORDER BY msn")
    assert at_s5 == [(A, "1", None)] + [
        (msn, "0Z", A) for n, msn in enumerate(fresh) if n % 20_000 == 5
    ]
    assert world.query("SELECT status, count(*) FROM meters GROUP BY 1 ORDER BY 1") == [
        ("0S", len(fresh) + 1 - 3),
        ("0Z", 3),
        ("1", 1),
    ]
    # Sites S0 (3), S1 (3), S10 (3): the site ids in text order.
    assert len(msns(world.select("T2", 9))) == 9
