"""After a load of the master list or of a fact list, the rules judge only the meters the file
touched and the meters of their sites (``rules.Touched``). What they leave in ``meters`` (status,
cause, site-mate, cause file, in the list or not) must be exactly what a full re-evaluation of
every meter makes.

A property: random small worlds, then several files in a row (ADD, REMOVE and complete lists of
the master list and the fact lists, a device list changing, tranches selected between them);
after each step a full evaluation, in a transaction rolled back, must change nothing.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmtlite import rules
from mmtlite.loader import Options, load
from mmtlite.tranches import TrancheError, select_tranche
from tests.mmt_helpers import Files, fact, meter, reading, removal

MSNS = tuple(f"M{n:0{5 + n % 3}d}" for n in range(14))  # of several lengths: sort order
SITES = ("S1", "S2", "S10", "S3", "S4")
DEVICES = ("DA", "DA", "DB", "DC")  # DA on both lists, DB not on the EPCL, DC not in the DMCT
CODES = ("SW", "LC")  # site-wide, local
TODO_CODES = ("T1", "T10")
FACT_LISTS = ("NONCOMM", "MANEXCL", "TODO", "STATUSCHG")
# Up to 14 meters: a REMOVE of 3 would otherwise be a mass delete; tested elsewhere.
FORCED = Options(force=True)

Place = tuple[str, str]  # (site, device)


@dataclass(frozen=True)
class Step:
    """A file of ``category`` (MMT: its entries are MSN -> place; a fact list: MSN -> code;
    EPCL: devices), or a selection of ``size`` meters (category "select")."""

    category: str
    action: str = ""
    entries: Mapping[str, Place | str] = field(default_factory=dict)
    size: int = 0


def rows(step: Step) -> list[tuple[str, ...]]:
    """The file of a load step."""
    category, action = step.category, step.action
    if action == "REMOVE":
        return [removal(category, key) for key in sorted(step.entries)]
    if category == "MMT":
        return [meter(msn, action, *place) for msn, place in sorted(step.entries.items())]
    if category == "EPCL":
        return [(dmc, "Maker", "Model", "1.0", action) for dmc in sorted(step.entries)]
    return [fact(category, msn, str(code), action) for msn, code in sorted(step.entries.items())]


places = st.tuples(st.sampled_from(SITES), st.sampled_from(DEVICES))
actions = st.sampled_from(("ADD", "ADD", "REMOVE", "ALL"))


@st.composite
def steps(draw: st.DrawFn) -> Step:
    kind = draw(st.sampled_from(("MMT", "MMT", "fact", "fact", "EPCL", "select")))
    if kind == "select":
        return Step("select", size=draw(st.integers(1, 6)))
    action = draw(actions)
    size = st.integers(1, 5) if action != "ALL" else st.integers(1, len(MSNS))
    count = draw(size)
    msns = draw(st.lists(st.sampled_from(MSNS), min_size=count, max_size=count, unique=True))
    if kind == "MMT":
        return Step("MMT", action, {msn: draw(places) for msn in msns})
    if kind == "EPCL":
        devices = draw(st.sets(st.sampled_from(DEVICES), min_size=1))
        return Step("EPCL", action, dict.fromkeys(devices, ""))
    category = draw(st.sampled_from(FACT_LISTS))
    codes = st.sampled_from(TODO_CODES if category == "TODO" else CODES)
    return Step(category, action, {msn: draw(codes) for msn in msns})


def meters_now(connection: sqlite3.Connection) -> list[tuple[object, ...]]:
    return connection.execute("SELECT * FROM meters ORDER BY site_id, msn").fetchall()


def check_against_full_evaluation(files: Files) -> None:
    with reading(files.place) as connection:
        before = meters_now(connection)
        connection.execute("BEGIN IMMEDIATE")
        try:
            full = rules.evaluate(
                connection, "check", new_meters=True, gone_meters=True, moved_meters=True
            )
            after = meters_now(connection)
        finally:
            connection.execute("ROLLBACK")
    assert after == before
    assert full.changes == {}
    recorded = last_history(files)
    assert {row[1]: recorded[str(row[1])] for row in before} == {row[1]: row[5:9] for row in before}


def last_history(files: Files) -> dict[str, tuple[object, ...]]:
    """Every meter's last recorded status and cause (a meter's history, which its first row
    starts when it joins the master list, must end where ``meters`` is)."""
    with reading(files.place) as connection:
        found = connection.execute(
            "SELECT msn, status, reason, code, via FROM meter_history AS h "
            "WHERE eval_id = (SELECT max(eval_id) FROM meter_history WHERE msn = h.msn)"
        ).fetchall()
    return {msn: tuple(rest) for msn, *rest in found}


def run(files: Files, first: dict[str, Place], later: Sequence[Step]) -> None:
    def load_file(category: str, file_rows: list[tuple[str, ...]]) -> None:
        result = load(files.place, [files.path(category, file_rows)], FORCED).files[0]
        assert result.outcome == "loaded", result.message

    load_file("EXCLCODE", [("SW", "site-wide", "Y", "ALL"), ("LC", "local", "N", "ALL")])
    load_file("DMCT", [("DA", "tested", "20230101", "ALL"), ("DB", "tested", "20230101", "ALL")])
    load_file("EPCL", [("DA", "Maker", "Model", "1.0", "ALL"), ("DC", "Maker", "M", "1", "ALL")])
    load_file("MMT", rows(Step("MMT", "ALL", first)))
    check_against_full_evaluation(files)
    for number, step in enumerate(later):
        if step.category == "select":
            with suppress(TrancheError):  # no eligible site fits
                select_tranche(files.place, f"T{number}", step.size)
        else:
            load_file(step.category, rows(step))
        check_against_full_evaluation(files)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.dictionaries(st.sampled_from(MSNS), places, min_size=1),
    st.lists(steps(), min_size=1, max_size=6),
)
def test_the_rules_after_a_load_equal_a_full_evaluation(
    first: dict[str, Place], later: list[Step]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run(Files(Path(tmp)), first, later)
