"""Tranches (docs/mmtlite.md, "Statuses and rules" and "Tranches and outbound files"): selection of
whole sites of eligible meters in the documented order, the DCCCAND / CSNOTE / MDMNOTIF files
(header, trailer, sequences, unique names, atomic writes) and the DCC, CS and MDM answers loaded
back; SQLite real, in tmp_path."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmtlite import activity, outbound, rules, tranches
from mmtlite.db import SchemaError, transaction
from mmtlite.errors import BadArgument
from mmtlite.fileformat import parse
from mmtlite.loader import FileResult, load
from mmtlite.outbound import finish_pending
from mmtlite.paths import Place
from mmtlite.tranches import TrancheError, export_tranche, select_tranche
from tests.mmt_helpers import codes_file, make, reading, rows_of

WHEN = datetime(2024, 5, 1, 12, 0, 0)
STAMP = "20240501120000"
FOLDERS = {"DCCCAND": "dcc", "CSNOTE": "cs", "MDMNOTIF": "mdm"}

Site = tuple[str, Sequence[str]]  # a site and its meters


# --- making worlds --------------------------------------------------------------------------


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return Place(tmp_path / "home", "build")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


def mpxn(msn: str) -> str:
    """A 13-digit MPAN core of its own for each meter (so the DCCCAND rows show where the
    column came from)."""
    return "".join(str(ord(char) % 10) for char in msn).rjust(13, "7")[-13:]


def world_files(
    folder: Path,
    sites: Sequence[Site],
    *,
    noncomm: Sequence[str] = (),
    manexcl: Sequence[str] = (),
    todo: Sequence[str] = (),
    bad_device: Sequence[str] = (),
) -> list[Path]:
    """Sequence 1 of every list a world needs: codes, DMC1 on the EPCL and the DMCT (DMC2 on
    neither), the master list, and the exclusions and to-dos named."""
    rows = [
        (msn, site, mpxn(msn), "E", "DMC2" if msn in bad_device else "DMC1", "20190401", "ALL")
        for site, msns in sites
        for msn in msns
    ]
    made = [
        codes_file(folder),  # NC01 is site-wide, MX01 is not
        make(folder, "DMCT", 1, [("DMC1", "tested", "20230101", "ALL")], second=2000),
        make(folder, "EPCL", 1, [("DMC1", "Maker", "Model", "1.0", "ALL")], second=2001),
        make(folder, "MMT", 1, rows, second=2002),
    ]
    if noncomm:
        made.append(make(folder, "NONCOMM", 1, [(m, "NC01", "20240101", "ALL") for m in noncomm]))
    if manexcl:
        made.append(make(folder, "MANEXCL", 1, [(m, "MX01", "hand", "ALL") for m in manexcl]))
    if todo:
        made.append(make(folder, "TODO", 1, [(m, "VISIT", "a visit", "", "ALL") for m in todo]))
    return made


def build(place: Place, folder: Path, sites: Sequence[Site], **exclusions: Sequence[str]) -> None:
    result = load(place, world_files(folder, sites, **exclusions))
    assert [file.outcome for file in result.files] == ["loaded"] * len(result.files)


def three_sites(place: Place, files: Path) -> None:
    build(
        place,
        files,
        [("S1", ["MSN000001", "MSN000002"]), ("S2", ["MSN000003"]), ("S3", ["MSN000004"])],
    )


def statuses(place: Place) -> dict[str, str]:
    with reading(place) as connection:
        return dict(connection.execute("SELECT msn, status FROM meters").fetchall())


def in_msn_order(found: dict[str, str]) -> list[str]:
    return [found[msn] for msn in sorted(found)]


def tranche_of(place: Place) -> dict[str, str]:
    with reading(place) as connection:
        return dict(connection.execute("SELECT msn, tranche_id FROM tranche_meters").fetchall())


def outbound_folder(place: Place, category: str) -> Path:
    return place.folder(FOLDERS[category], category, "outbound")


def listing(place: Place, category: str) -> list[str]:
    """Every name in the category's outbound folder, hidden temporary files included."""
    folder = outbound_folder(place, category)
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def temporaries(place: Place) -> list[Path]:
    return sorted(path for path in place.root.rglob("*") if path.name.endswith(".tmp"))


def detail(path: str | Path) -> list[tuple[str, ...]]:
    """The detail rows of an outbound file, parsed by mmtlite's own reader (which must find
    nothing wrong with it)."""
    parsed = parse(path, env="BUILD")
    assert parsed.control_failures == [] and parsed.row_errors == []
    return [row.fields for row in parsed.rows]


def msns_of(path: str | Path) -> list[str]:
    return [row[0] for row in detail(path)]


def state(place: Place) -> dict[str, Any]:
    """Everything a refused or failed selection or export must leave as it was."""
    with reading(place) as connection:
        tables = {
            name: connection.execute(f"SELECT * FROM {name} ORDER BY 1, 2").fetchall()
            for name in ("meters", "history", "evaluations", "tranches", "tranche_meters")
        }
        tables["outbound"] = connection.execute("SELECT * FROM outbound").fetchall()
    return {
        **tables,
        "files": {category: listing(place, category) for category in FOLDERS},
    }


def respond(
    place: Place, folder: Path, category: str, sequence: int, rows: Sequence[Sequence[str]]
) -> FileResult:
    return load(place, [make(folder, category, sequence, rows)]).files[0]


def errors_of(result: FileResult) -> list[tuple[int | None, str | None, str]]:
    return [(error.line, error.column, error.code) for error in result.errors]


# --- selection ------------------------------------------------------------------------------


def test_only_eligible_meters_are_selected_and_sites_go_whole(place: Place, files: Path) -> None:
    sites: list[Site] = [
        ("A", ["MSN0A1", "MSN0A2"]),
        ("B", ["MSN0B1", "MSN0B2", "MSN0B3"]),  # MSN0B2 excluded alone (MX01 is not site-wide)
        ("C", ["MSN0C1", "MSN0C2"]),  # MSN0C1 not communicating: NC01 is site-wide
        ("D", ["MSN0D1", "MSN0D2"]),  # a to-do holds the site
        ("E", ["MSN0E1", "MSN0E2"]),  # a device off the EPCL excludes the site
        ("F", ["MSN0F1"]),
    ]
    build(
        place,
        files,
        sites,
        manexcl=["MSN0B2"],
        noncomm=["MSN0C1"],
        todo=["MSN0D2"],
        bad_device=["MSN0E1"],
    )
    before = statuses(place)
    assert sorted(m for m, s in before.items() if s == rules.ELIGIBLE) == [
        "MSN0A1",
        "MSN0A2",
        "MSN0B1",
        "MSN0B3",
        "MSN0F1",
    ]
    selection = select_tranche(place, "T1", 100, when=WHEN)
    chosen = ["MSN0A1", "MSN0A2", "MSN0B1", "MSN0B3", "MSN0F1"]
    assert msns_of(selection.file.path) == chosen
    assert (selection.meters, selection.sites, selection.passed_over) == (5, 3, 0)
    assert selection.eligible_left == 0
    after = statuses(place)
    assert {m for m, s in after.items() if s == rules.SELECTED} == set(chosen)
    # The others keep what the rules made of them.
    assert {m: s for m, s in after.items() if m not in chosen} == {
        m: s for m, s in before.items() if m not in chosen
    }
    assert after["MSN0B2"] == after["MSN0C1"] == after["MSN0C2"] == after["MSN0E2"] == "0Z"
    assert after["MSN0D1"] == after["MSN0D2"] == rules.HELD
    assert tranche_of(place) == dict.fromkeys(chosen, "T1")


def test_sites_go_in_text_order_and_a_site_that_does_not_fit_is_passed_over(
    place: Place, files: Path
) -> None:
    # Text order: S1 < S10 < S2 < S3. MSNs are in another order, so the file shows which rules.
    sites: list[Site] = [
        ("S2", ["MSN000001", "MSN000009"]),
        ("S10", ["MSN000002"]),
        ("S1", ["MSN000008", "MSN000003", "MSN000007"]),
        ("S3", ["MSN000004"]),
        ("S4", ["MSN000005", "MSN000006"]),
    ]
    build(place, files, sites)
    selection = select_tranche(place, "T1", 5, when=WHEN)
    # S1 (3 meters, in MSN order), S10 (1); S2 (2) does not fit in the 1 left; S3 (1) does;
    # full: S4 is not looked at.
    assert detail(selection.file.path) == [
        (msn, mpxn(msn), "DMC1", "T1")
        for msn in ("MSN000003", "MSN000007", "MSN000008", "MSN000002", "MSN000004")
    ]
    assert (selection.meters, selection.sites, selection.passed_over) == (5, 3, 1)
    assert selection.eligible_left == 4
    # The next tranche starts with the site passed over.
    second = select_tranche(place, "T2", 3, when=WHEN)
    assert msns_of(second.file.path) == ["MSN000001", "MSN000009"]
    assert (second.meters, second.sites, second.passed_over) == (2, 1, 1)  # S4 did not fit


def test_a_tranche_holds_at_most_its_size_and_never_splits_a_site(
    place: Place, files: Path
) -> None:
    build(place, files, [("S1", ["MSN000001", "MSN000002", "MSN000003"]), ("S2", ["MSN000004"])])
    selection = select_tranche(place, "T1", 2, when=WHEN)
    assert msns_of(selection.file.path) == ["MSN000004"]
    assert selection.passed_over == 1
    before = state(place)
    with pytest.raises(TrancheError, match="no eligible site fits in a tranche of 2 meters"):
        select_tranche(place, "T2", 2, when=WHEN)
    assert state(place) == before
    third = select_tranche(place, "T3", 3, when=WHEN)
    assert msns_of(third.file.path) == ["MSN000001", "MSN000002", "MSN000003"]


def test_the_same_files_and_command_select_the_same_meters(tmp_path: Path, files: Path) -> None:
    sites: list[Site] = [
        (f"SITE{n % 7}{n % 3}", [f"MSN{n:03d}{k}X" for k in range(1 + n % 4)]) for n in range(30)
    ]
    made = world_files(files, sites, manexcl=["MSN0050X", "MSN0121X"], noncomm=["MSN0090X"])
    contents = []
    chosen = []
    for home in ("one", "two"):
        place = Place(tmp_path / home, "build")
        assert load(place, made).clean
        first = select_tranche(place, "T1", 17, when=WHEN)
        second = select_tranche(place, "T2", 9, when=WHEN)
        contents.append([Path(first.file.path).read_bytes(), Path(second.file.path).read_bytes()])
        chosen.append(tranche_of(place))
    assert contents[0] == contents[1]
    assert chosen[0] == chosen[1]
    assert len(chosen[0]) == 17 + 9  # both full: the sites are small enough


def test_successive_tranches_are_disjoint(place: Place, files: Path) -> None:
    # Sites S00..S11 of 1, 2, 3, 1, 2, 3, ... meters.
    sites: list[Site] = [
        (f"S{n:02d}", [f"MSN{n:02d}{k:04d}" for k in range(n % 3 + 1)]) for n in range(12)
    ]
    build(place, files, sites)
    site_of = {msn: site for site, msns in sites for msn in msns}
    seen: dict[str, str] = {}
    taken: list[list[str]] = []
    for number, size in enumerate((4, 4, 5, 100), 1):
        selection = select_tranche(place, f"T{number}", size, when=WHEN)
        msns = msns_of(selection.file.path)
        assert len(msns) <= size
        assert not set(msns) & set(seen), "a meter in two tranches"
        seen.update(dict.fromkeys(msns, f"T{number}"))
        taken.append(sorted({site_of[msn] for msn in msns}))
    # Each tranche takes the next sites that fit; a site passed over goes first next time.
    assert taken == [
        ["S00", "S01", "S03"],
        ["S02", "S06"],
        ["S04", "S05"],
        ["S07", "S08", "S09", "S10", "S11"],
    ]
    assert seen == tranche_of(place)
    assert len(seen) == sum(len(msns) for _, msns in sites)
    with pytest.raises(TrancheError, match="no eligible site"):
        select_tranche(place, "T5", 100, when=WHEN)


def test_a_reused_tranche_id_is_refused_and_writes_nothing(place: Place, files: Path) -> None:
    build(place, files, [("S1", ["MSN000001"]), ("S2", ["MSN000002"])])
    select_tranche(place, "T1", 1, when=WHEN)
    before = state(place)
    with pytest.raises(TrancheError, match="tranche T1 exists already"):
        select_tranche(place, "T1", 1, when=WHEN + timedelta(hours=1))
    assert state(place) == before
    assert statuses(place)["MSN000002"] == rules.ELIGIBLE
    with reading(place) as connection:
        last = connection.execute("SELECT command, outcome FROM runs ORDER BY run_id DESC")
        assert last.fetchone() == ("select --tranche T1", "refused")
    # The refusal used no sequence: the next tranche's file is DCCCAND 2.
    assert select_tranche(place, "T2", 1, when=WHEN).file.sequence == 2


def test_no_eligible_site_is_refused_and_writes_nothing(place: Place, files: Path) -> None:
    # Every meter excluded or held: nothing is eligible.
    build(
        place,
        files,
        [("S1", ["MSN000001", "MSN000002"]), ("S2", ["MSN000003"])],
        noncomm=["MSN000001"],
        todo=["MSN000003"],
    )
    assert rules.ELIGIBLE not in statuses(place).values()
    before = state(place)
    with pytest.raises(TrancheError, match="no eligible site fits in a tranche of 10 meters"):
        select_tranche(place, "T1", 10, when=WHEN)
    assert state(place) == before
    assert temporaries(place) == []


@pytest.mark.parametrize(
    ("tranche", "size", "message"),
    [("T1", 0, "size 0: at least 1 meter"), ("no spaces", 10, "tranche id 'no spaces'")],
)
def test_a_bad_size_or_tranche_id_is_refused_and_writes_nothing(
    place: Place, files: Path, tranche: str, size: int, message: str
) -> None:
    three_sites(place, files)
    before = state(place)
    with pytest.raises(TrancheError, match=message):
        select_tranche(place, tranche, size, when=WHEN)
    assert state(place) == before
    assert temporaries(place) == []


def test_selected_meters_get_status_1_and_a_history_row(place: Place, files: Path) -> None:
    build(place, files, [("S1", ["MSN000001", "MSN000002"]), ("S2", ["MSN000003"])])
    select_tranche(place, "T1", 2, when=WHEN)
    with reading(place) as connection:
        [eval_id] = connection.execute("SELECT eval_id FROM tranches").fetchone()
        history = connection.execute(
            "SELECT h.msn, h.old_status, h.status, h.tranche_id, e.trigger FROM meter_history AS h "
            "JOIN evaluations AS e USING (eval_id) WHERE h.eval_id = ? ORDER BY h.msn",
            (eval_id,),
        ).fetchall()
        recorded = connection.execute(
            "SELECT tranche_id, requested, meters, sites, eval_id FROM tranches"
        ).fetchall()
    assert history == [
        (msn, "0S", "1", "T1", "select --tranche T1") for msn in ("MSN000001", "MSN000002")
    ]
    assert recorded == [("T1", 2, 2, 1, eval_id)]
    assert statuses(place) == {"MSN000001": "1", "MSN000002": "1", "MSN000003": "0S"}


# --- the property: random worlds, successive tranches ----------------------------------------

FLAGS = ("",) * 12 + ("MANEXCL", "NONCOMM", "TODO", "DMC2")  # mostly eligible


@dataclass(frozen=True)
class World:
    meters: tuple[tuple[str, str, str], ...]  # msn, site, flag (one of FLAGS)
    sizes: tuple[int, ...]  # the successive tranches' sizes

    def sites(self) -> list[Site]:
        by_site: dict[str, list[str]] = {}
        for msn, site, _ in self.meters:
            by_site.setdefault(site, []).append(msn)
        return list(by_site.items())

    def flagged(self, flag: str) -> list[str]:
        return [msn for msn, _, mark in self.meters if mark == flag]

    def eligible(self) -> dict[str, list[str]]:
        """The model of the rules: a meter is eligible unless it is excluded itself (MANEXCL,
        NONCOMM) or its site has a site-wide cause (NONCOMM's NC01, a device off the EPCL, a
        to-do); by site, meters in MSN order."""
        blocked = {site for _, site, flag in self.meters if flag in ("NONCOMM", "TODO", "DMC2")}
        found: dict[str, list[str]] = {}
        for msn, site, flag in self.meters:
            if flag not in ("MANEXCL", "NONCOMM") and site not in blocked:
                found.setdefault(site, []).append(msn)
        return {site: sorted(msns) for site, msns in found.items()}


@st.composite
def worlds(draw: st.DrawFn) -> World:
    site_ids = draw(
        st.lists(st.text("AZ19", min_size=1, max_size=3), min_size=3, max_size=12, unique=True)
    )
    sizes = [draw(st.integers(1, 4)) for _ in site_ids]
    numbers = draw(st.permutations(range(sum(sizes))))
    meters = []
    at = 0
    for site, count in zip(site_ids, sizes, strict=True):
        for _ in range(count):
            meters.append((f"MSN{numbers[at]:04d}", site, draw(st.sampled_from(FLAGS))))
            at += 1
    tranche_sizes = draw(st.lists(st.integers(1, 8), min_size=2, max_size=3))
    return World(tuple(meters), tuple(tranche_sizes))


def documented_choice(eligible: dict[str, list[str]], size: int) -> list[str]:
    """docs/mmtlite.md / tranches.py: sites in text order, a site's meters together if they fit in
    the room left, else passed over; stop when full."""
    chosen: list[str] = []
    for site in sorted(eligible):
        if len(chosen) == size:
            break
        if len(eligible[site]) <= size - len(chosen):
            chosen += eligible[site]
    return chosen


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_random_worlds_select_whole_sites_in_order_within_size_and_never_twice(
    world: World,
) -> None:
    with tempfile.TemporaryDirectory() as root:
        folder = Path(root) / "files"
        folder.mkdir()
        place = Place(Path(root) / "home", "build")
        build(
            place,
            folder,
            world.sites(),
            manexcl=world.flagged("MANEXCL"),
            noncomm=world.flagged("NONCOMM"),
            todo=world.flagged("TODO"),
            bad_device=world.flagged("DMC2"),
        )
        eligible = world.eligible()
        site_of = {msn: site for msn, site, _ in world.meters}
        assert sorted(m for m, s in statuses(place).items() if s == rules.ELIGIBLE) == sorted(
            msn for msns in eligible.values() for msn in msns
        )
        taken: set[str] = set()
        for number, size in enumerate(world.sizes, 1):
            tranche = f"T{number}"
            expected = documented_choice(eligible, size)
            if not expected:
                before = state(place)
                with pytest.raises(TrancheError):
                    select_tranche(place, tranche, size, when=WHEN)
                assert state(place) == before
                continue
            selection = select_tranche(place, tranche, size, when=WHEN)
            got = msns_of(selection.file.path)
            assert set(got) <= {m for msns in eligible.values() for m in msns}, "not eligible"
            # The properties one by one (the exact comparison below says it all, these say
            # which rule broke).
            assert len(got) <= size
            assert not set(got) & taken, "a meter in two tranches"
            touched = {site_of[msn] for msn in got}
            for site in touched:
                assert sorted(m for m in got if site_of[m] == site) == eligible[site], "split"
            room = size
            for site in sorted(eligible):
                if site in touched:
                    room -= len(eligible[site])
                else:
                    assert len(eligible[site]) > room, f"site {site} fitted but was skipped"
            assert got == expected
            assert (selection.meters, selection.sites) == (len(got), len(touched))
            taken |= set(got)
            for site in touched:
                del eligible[site]
        assert tranche_of(place).keys() == taken
        assert {m for m, s in statuses(place).items() if s == rules.SELECTED} == taken
        assert temporaries(place) == []


# --- outbound files ---------------------------------------------------------------------------


def test_the_candidate_file_has_header_trailer_and_rows_in_selection_order(
    place: Place, files: Path
) -> None:
    build(place, files, [("S2", ["MSN000001"]), ("S1", ["MSN000003", "MSN000002"])])
    selection = select_tranche(place, "T1", 10, when=WHEN.replace(microsecond=999_999))
    folder = outbound_folder(place, "DCCCAND")
    assert folder == place.root / "dcc" / "system_data_build" / "dcccand" / "outbound"
    path = folder / f"DCCCAND_BUILD_{STAMP}.csv"
    assert selection.file.path == str(path)
    assert listing(place, "DCCCAND") == [path.name]
    rows = [f"{m}|{mpxn(m)}|DMC1|T1" for m in ("MSN000002", "MSN000003", "MSN000001")]
    assert path.read_text() == "\n".join([f"HDR|DCCCAND|1|{STAMP}|BUILD", *rows, "TRL|3", ""])
    parsed = parse(path, env="BUILD")
    assert (parsed.category, parsed.sequence, parsed.created, parsed.env) == (
        "DCCCAND",
        1,
        STAMP,
        "BUILD",
    )
    assert parsed.control_failures == [] and parsed.row_errors == []
    assert [row.text for row in parsed.rows] == rows
    with reading(place) as connection:
        assert connection.execute(
            "SELECT name, category, sequence, created, tranche_id, rows FROM outbound"
        ).fetchall() == [(path.name, "DCCCAND", 1, STAMP, "T1", 3)]


def test_sequences_go_up_per_category_and_names_stay_unique_within_a_second(
    place: Place, files: Path
) -> None:
    three_sites(place, files)
    first = select_tranche(place, "T1", 2, when=WHEN).file
    again = export_tranche(place, "dcc", "T1", when=WHEN).file
    second = select_tranche(place, "T2", 1, when=WHEN - timedelta(days=1)).file  # clock went back
    assert [(w.sequence, w.name) for w in (first, again, second)] == [
        (1, "DCCCAND_BUILD_20240501120000.csv"),
        (2, "DCCCAND_BUILD_20240501120001.csv"),
        (3, "DCCCAND_BUILD_20240501120002.csv"),
    ]
    assert detail(again.path) == detail(first.path)  # export dcc writes the tranche again
    assert [parse(w.path).sequence for w in (first, again, second)] == [1, 2, 3]
    # Another category counts from 1 and may use the same second (its name differs).
    respond(place, files, "DCCRESP", 1, [("MSN000001", "T1", "ACCEPTED", "")])
    note = export_tranche(place, "cs", "T1", when=WHEN).file
    assert (note.sequence, note.name) == (1, f"CSNOTE_BUILD_{STAMP}.csv")
    assert parse(note.path).sequence == 1
    later = select_tranche(place, "T3", 1, when=WHEN + timedelta(hours=1)).file
    assert (later.sequence, later.name) == (4, "DCCCAND_BUILD_20240501130000.csv")
    # Names sort in the order the files were written; no temporary file is left.
    names = [w.name for w in (first, again, second, later)]
    assert listing(place, "DCCCAND") == sorted(names) == names
    assert temporaries(place) == []


def test_a_file_already_under_the_next_name_is_never_overwritten(place: Place, files: Path) -> None:
    three_sites(place, files)
    folder = outbound_folder(place, "DCCCAND")
    folder.mkdir(parents=True)
    foreign = folder / f"DCCCAND_BUILD_{STAMP}.csv"
    foreign.write_text("someone else's\n")
    written = select_tranche(place, "T1", 1, when=WHEN).file
    assert written.name == "DCCCAND_BUILD_20240501120001.csv"
    assert foreign.read_text() == "someone else's\n"
    assert msns_of(written.path) == ["MSN000003"]


@contextmanager
def failing_commit(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A transaction whose COMMIT fails (after everything inside it went well)."""
    with transaction(connection):
        yield connection
        raise sqlite3.OperationalError("disk I/O error")


def test_a_selection_whose_commit_fails_leaves_no_file_and_no_record(
    place: Place, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_sites(place, files)
    before = state(place)
    monkeypatch.setattr(tranches, "transaction", failing_commit)
    with pytest.raises(SchemaError, match="disk I/O error"):
        select_tranche(place, "T1", 2, when=WHEN)
    monkeypatch.undo()
    assert state(place) == before
    assert temporaries(place) == []
    # Nothing was used up: the same tranche id, sequence 1, the same name.
    written = select_tranche(place, "T1", 2, when=WHEN).file
    assert (written.sequence, written.name) == (1, f"DCCCAND_BUILD_{STAMP}.csv")


def test_an_export_whose_commit_fails_sends_nothing_and_can_be_made_again(
    place: Place, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_sites(place, files)
    select_tranche(place, "T1", 4, when=WHEN)
    respond(place, files, "DCCRESP", 1, [("MSN000001", "T1", "ACCEPTED", "")])
    before = state(place)
    monkeypatch.setattr(tranches, "transaction", failing_commit)
    with pytest.raises(SchemaError, match="disk I/O error"):
        export_tranche(place, "cs", "T1", when=WHEN)
    monkeypatch.undo()
    assert state(place) == before  # cs_note still empty: the meter was not noted
    assert temporaries(place) == []
    note = export_tranche(place, "cs", "T1", when=WHEN).file
    assert (note.sequence, msns_of(note.path)) == (1, ["MSN000001"])


def test_a_failure_before_the_file_is_written_leaves_nothing(
    place: Place, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_sites(place, files)
    before = state(place)

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the rules broke")

    monkeypatch.setattr(rules, "start", broken)
    with pytest.raises(RuntimeError, match="the rules broke"):
        select_tranche(place, "T1", 2, when=WHEN)
    monkeypatch.undo()
    assert state(place) == before
    assert temporaries(place) == []


def test_a_failure_after_the_file_is_prepared_leaves_no_temporary_file(
    place: Place, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_sites(place, files)
    before = state(place)
    prepare = outbound.prepare

    def prepare_then_fail(*args: Any, **kwargs: Any) -> outbound.Written:
        prepare(*args, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(outbound, "prepare", prepare_then_fail)
    with pytest.raises(OSError, match="disk full"):
        select_tranche(place, "T1", 2, when=WHEN)
    monkeypatch.undo()
    after = state(place)
    assert after["outbound"] == after["tranches"] == after["tranche_meters"] == []
    assert after["meters"] == before["meters"]  # all still eligible
    assert temporaries(place) == []


def test_the_next_writer_removes_a_temporary_file_nobody_recorded(
    place: Place, files: Path
) -> None:
    three_sites(place, files)
    folder = outbound_folder(place, "DCCCAND")
    folder.mkdir(parents=True)
    stray = folder / f".DCCCAND_BUILD_{STAMP}.csv.tmp"  # a crash before the commit left it
    stray.write_text("HDR|DCCCAND|1|20240501120000|BUILD\nTRL|0\n")
    written = select_tranche(place, "T1", 2, when=WHEN).file
    assert Path(written.path).exists()
    assert temporaries(place) == []


def test_finish_pending_publishes_a_recorded_file_left_under_its_temporary_name(
    place: Place, files: Path
) -> None:
    three_sites(place, files)
    written = select_tranche(place, "T1", 2, when=WHEN).file
    final = Path(written.path)
    content = final.read_bytes()
    final.rename(written.temporary)  # as if the process died between commit and rename
    assert written.temporary.name == f".{final.name}.tmp"
    with reading(place) as connection:
        assert finish_pending(connection, place) == [final]
        assert finish_pending(connection, place) == []  # done once
    assert final.read_bytes() == content
    assert temporaries(place) == []


def test_the_next_writer_publishes_a_file_whose_rename_never_happened(
    place: Place, files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    three_sites(place, files)

    def crash(written: outbound.Written) -> Path:
        raise KeyboardInterrupt  # killed between the commit and the rename

    monkeypatch.setattr(outbound, "publish", crash)
    with pytest.raises(KeyboardInterrupt):
        select_tranche(place, "T1", 2, when=WHEN)
    monkeypatch.undo()
    # Committed: the tranche exists, its file only under the temporary name.
    assert tranche_of(place) == {"MSN000001": "T1", "MSN000002": "T1"}
    assert listing(place, "DCCCAND") == [f".DCCCAND_BUILD_{STAMP}.csv.tmp"]
    # A tampered temporary file is not published.
    temporary = temporaries(place)[0]
    good = temporary.read_bytes()
    temporary.write_bytes(good.replace(b"MSN000002", b"MSN000009"))
    with reading(place) as connection:
        assert finish_pending(connection, place) == []
    temporary.write_bytes(good)
    # The next writer (any command) publishes it first.
    second = select_tranche(place, "T2", 1, when=WHEN)
    assert listing(place, "DCCCAND") == [
        f"DCCCAND_BUILD_{STAMP}.csv",
        "DCCCAND_BUILD_20240501120001.csv",
    ]
    first = outbound_folder(place, "DCCCAND") / f"DCCCAND_BUILD_{STAMP}.csv"
    assert first.read_bytes() == good
    assert parse(first).sequence == 1 and second.file.sequence == 2
    with reading(place) as connection:
        runs = connection.execute("SELECT command, outcome FROM runs ORDER BY run_id").fetchall()
    assert runs[-2:] == [("select --tranche T1", "aborted"), ("select --tranche T2", "done")]


# --- exports ----------------------------------------------------------------------------------


def selected_four(place: Place, files: Path) -> None:
    """MSN000001..4 at three sites, all in T1 (and DCCCAND 1 written)."""
    three_sites(place, files)
    select_tranche(place, "T1", 4, when=WHEN)


def test_cs_notes_go_only_for_accepted_meters_and_once_each(place: Place, files: Path) -> None:
    selected_four(place, files)
    result = respond(
        place,
        files,
        "DCCRESP",
        1,
        [
            ("MSN000003", "T1", "ACCEPTED", ""),
            ("MSN000002", "T1", "REJECTED", "NOTSUP"),
            ("MSN000001", "T1", "ACCEPTED", ""),
        ],  # MSN000004: no decision yet
    )
    assert result.outcome == "loaded"
    first = export_tranche(place, "cs", "T1", when=WHEN)
    assert first.file.name == f"CSNOTE_BUILD_{STAMP}.csv"
    assert Path(first.file.path).parent == place.root / "cs/system_data_build/csnote/outbound"
    # In selection order, not in the DCC's order.
    assert detail(first.file.path) == [("MSN000001", "T1", "S1MIG"), ("MSN000003", "T1", "S1MIG")]
    assert first.left_out == {
        "awaiting the DCC's decision": 1,
        "rejected by the DCC": 1,
        "already in a CS note": 0,
        "in conflict: the lists now exclude or hold them (see mmtlite report)": 0,
    }
    with reading(place) as connection:
        noted = connection.execute(
            "SELECT msn FROM tranche_meters WHERE cs_note = ? ORDER BY msn",
            (first.file.outbound_id,),
        ).fetchall()
    assert noted == [("MSN000001",), ("MSN000003",)]
    # Nothing new: refused, with the reasons, and nothing written.
    before = state(place)
    with pytest.raises(TrancheError) as refused:
        export_tranche(place, "cs", "T1", when=WHEN)
    assert str(refused.value) == (
        "nothing to send to CS for tranche T1: 1 awaiting the DCC's decision, "
        "1 rejected by the DCC, 2 already in a CS note"
    )
    assert state(place) == before
    # A later acceptance: only the new meter, in the next CSNOTE.
    respond(place, files, "DCCRESP", 2, [("MSN000004", "T1", "ACCEPTED", "")])
    second = export_tranche(place, "cs", "T1", note_code="S1MIG2", when=WHEN)
    assert detail(second.file.path) == [("MSN000004", "T1", "S1MIG2")]
    assert (second.file.sequence, second.file.name) == (2, "CSNOTE_BUILD_20240501120001.csv")
    assert second.left_out["already in a CS note"] == 2
    assert temporaries(place) == []


def test_an_mdm_notification_needs_its_date_and_covers_acknowledged_meters(
    place: Place, files: Path
) -> None:
    selected_four(place, files)
    accepted = [(m, "T1", "ACCEPTED", "") for m in ("MSN000001", "MSN000002", "MSN000003")]
    respond(place, files, "DCCRESP", 1, [*accepted, ("MSN000004", "T1", "REJECTED", "")])
    export_tranche(place, "cs", "T1", when=WHEN)
    with pytest.raises(BadArgument, match="needs its migration date"):
        export_tranche(place, "mdm", "T1", when=WHEN)
    with pytest.raises(TrancheError, match="3 awaiting the CS acknowledgement, 1 rejected"):
        export_tranche(place, "mdm", "T1", migration_date="20240601", when=WHEN)
    assert listing(place, "MDMNOTIF") == []
    respond(
        place,
        files,
        "CSRESP",
        1,
        [
            ("MSN000003", "T1", "OK", ""),
            ("MSN000001", "T1", "OK", ""),
            ("MSN000002", "T1", "FAIL", "no"),
        ],
    )
    notified = export_tranche(place, "mdm", "T1", migration_date="20240601", when=WHEN)
    assert notified.file.path == str(
        place.root / "mdm/system_data_build/mdmnotif/outbound" / f"MDMNOTIF_BUILD_{STAMP}.csv"
    )
    assert detail(notified.file.path) == [
        ("MSN000001", "T1", "20240601"),
        ("MSN000003", "T1", "20240601"),
    ]
    assert notified.left_out == {
        "without a CS note yet": 0,
        "awaiting the CS acknowledgement": 0,
        "failed at CS": 1,
        "rejected by the DCC": 1,
        "already notified": 0,
        "in conflict: the lists now exclude or hold them (see mmtlite report)": 0,
    }
    with pytest.raises(TrancheError, match="2 already notified"):
        export_tranche(place, "mdm", "T1", migration_date="20240601", when=WHEN)
    assert parse(notified.file.path).sequence == 1


@pytest.mark.parametrize("target", ["dcc", "cs", "mdm"])
def test_an_export_of_an_unknown_tranche_is_refused(
    place: Place, files: Path, target: tranches.Target
) -> None:
    selected_four(place, files)
    before = state(place)
    with pytest.raises(TrancheError, match="tranche 'T2' is unknown"):
        export_tranche(place, target, "T2", migration_date="20240601", when=WHEN)
    assert state(place) == before


@pytest.mark.parametrize(
    ("target", "options"),
    [("mdm", {"migration_date": "20241301"}), ("cs", {"note_code": "not a code"})],
)
def test_an_export_with_an_invalid_value_is_refused(
    place: Place, files: Path, target: tranches.Target, options: dict[str, str]
) -> None:
    selected_four(place, files)
    respond(place, files, "DCCRESP", 1, [("MSN000001", "T1", "ACCEPTED", "")])
    if target == "mdm":
        export_tranche(place, "cs", "T1", when=WHEN)
        respond(place, files, "CSRESP", 1, [("MSN000001", "T1", "OK", "")])
    before = state(place)
    with pytest.raises((TrancheError, ValueError)):
        export_tranche(place, target, "T1", when=WHEN, **options)
    assert state(place) == before


# --- responses --------------------------------------------------------------------------------


def test_answers_move_meters_through_the_tranche_statuses(place: Place, files: Path) -> None:
    selected_four(place, files)
    dcc = respond(
        place,
        files,
        "DCCRESP",
        1,
        [
            ("MSN000001", "T1", "ACCEPTED", ""),
            ("MSN000002", "T1", "ACCEPTED", ""),
            ("MSN000003", "T1", "REJECTED", "NOTSUP"),
            ("MSN000004", "T1", "ACCEPTED", ""),
        ],
    )
    assert dcc.outcome == "loaded"
    assert in_msn_order(statuses(place)) == ["1", "1", "1R", "1"]
    export_tranche(place, "cs", "T1", when=WHEN)
    cs = respond(
        place,
        files,
        "CSRESP",
        1,
        [
            ("MSN000001", "T1", "OK", ""),
            ("MSN000002", "T1", "FAIL", "account"),
            ("MSN000004", "T1", "OK", ""),
        ],
    )
    assert cs.outcome == "loaded"
    assert in_msn_order(statuses(place)) == ["1a", "1", "1R", "1a"]
    export_tranche(place, "mdm", "T1", migration_date="20240601", when=WHEN)
    mdm = respond(
        place,
        files,
        "MDMRESP",
        1,
        [("MSN000001", "T1", "OK", ""), ("MSN000004", "T1", "FAIL", "later")],
    )
    assert mdm.outcome == "loaded"
    assert in_msn_order(statuses(place)) == ["2", "1", "1R", "1a"]
    # Every change is in the history, with the file that caused it.
    with reading(place) as connection:
        history = connection.execute(
            "SELECT h.old_status, h.status, l.category FROM meter_history AS h "
            "LEFT JOIN evaluations AS e USING (eval_id) LEFT JOIN ledger AS l "
            "ON l.file_id = e.file_id WHERE h.msn = 'MSN000001' ORDER BY h.eval_id"
        ).fetchall()
    assert history == [
        (None, "0S", "MMT"),
        ("0S", "1", None),
        ("1", "1a", "CSRESP"),
        ("1a", "2", "MDMRESP"),
    ]


def test_answers_for_unknown_tranches_or_other_meters_are_rejected_rows(
    place: Place, files: Path
) -> None:
    build(
        place,
        files,
        [
            ("S1", ["MSN000001"]),
            ("S2", ["MSN000002"]),
            ("S3", ["MSN000003"]),
            ("S4", ["MSN000004"]),
        ],
    )
    select_tranche(place, "T1", 2, when=WHEN)
    select_tranche(place, "T2", 1, when=WHEN)  # MSN000003; MSN000004 stays eligible
    result = respond(
        place,
        files,
        "DCCRESP",
        1,
        [
            ("MSN000001", "T1", "ACCEPTED", ""),
            ("MSN000001", "T9", "ACCEPTED", ""),  # no such tranche
            ("MSN000003", "T1", "REJECTED", ""),  # in T2
            ("MSN000004", "T1", "REJECTED", ""),  # in no tranche
            ("MSN000002", "T1", "REJECTED", "NOTSUP"),
        ],
    )
    assert result.outcome == "loaded with errors"
    assert (result.counts.rows_read, result.counts.added, result.counts.rejected) == (5, 2, 3)
    assert errors_of(result) == [
        (3, "tranche_id", "MMT-R010"),
        (4, "msn", "MMT-R011"),
        (5, "msn", "MMT-R011"),
    ]
    messages = [error.message for error in result.errors]
    assert "tranche 'T9' is unknown" in messages[0]
    assert "meter MSN000003 is in tranche T2, not T1" in messages[1]
    assert "meter MSN000004 is in no tranche, not T1" in messages[2]
    assert rows_of(place, "DCCRESP") == [
        ("MSN000001", "T1", "ACCEPTED", ""),
        ("MSN000002", "T1", "REJECTED", "NOTSUP"),
    ]
    assert in_msn_order(statuses(place)) == ["1", "1R", "1", "0S"]
    with reading(place) as connection:
        stored = activity.error_rows(connection, file=result.file)
    assert [(e.line, e.column, e.code) for e in stored] == errors_of(result)


def test_cs_and_mdm_answers_need_a_note_that_was_sent(place: Place, files: Path) -> None:
    selected_four(place, files)
    respond(
        place,
        files,
        "DCCRESP",
        1,
        [
            ("MSN000001", "T1", "ACCEPTED", ""),
            ("MSN000002", "T1", "REJECTED", ""),
            ("MSN000003", "T1", "ACCEPTED", ""),
        ],
    )
    # Before any CS note, an OK for an accepted meter answers nothing.
    early = respond(place, files, "CSRESP", 1, [("MSN000001", "T1", "OK", "")])
    assert errors_of(early) == [(2, "msn", "MMT-R012")]
    assert "no CS note was sent for meter MSN000001" in early.errors[0].message
    assert rows_of(place, "CSRESP") == []
    assert statuses(place)["MSN000001"] == "1"
    export_tranche(place, "cs", "T1", when=WHEN)  # MSN000001 and MSN000003
    cs = respond(
        place,
        files,
        "CSRESP",
        2,
        [
            ("MSN000001", "T1", "OK", ""),
            ("MSN000002", "T1", "OK", ""),  # rejected by the DCC: no note
            ("MSN000004", "T1", "OK", ""),  # no decision: no note
            ("MSN000003", "T1", "OK", ""),
        ],
    )
    assert cs.outcome == "loaded with errors"
    assert errors_of(cs) == [(3, "msn", "MMT-R012"), (4, "msn", "MMT-R012")]
    assert [row[0] for row in rows_of(place, "CSRESP")] == ["MSN000001", "MSN000003"]
    assert in_msn_order(statuses(place)) == ["1a", "1R", "1a", "1"]
    # An MDM answer before its notification is rejected too.
    mdm = respond(
        place, files, "MDMRESP", 1, [("MSN000001", "T1", "OK", ""), ("MSN000009", "T1", "OK", "")]
    )
    assert errors_of(mdm) == [(2, "msn", "MMT-R012"), (3, "msn", "MMT-R011")]
    assert "no MDM notification was sent for meter MSN000001" in mdm.errors[0].message
    assert statuses(place)["MSN000001"] == "1a"
    export_tranche(place, "mdm", "T1", migration_date="20240601", when=WHEN)
    done = respond(place, files, "MDMRESP", 2, [("MSN000001", "T1", "OK", "")])
    assert done.outcome == "loaded"
    assert statuses(place)["MSN000001"] == "2"


def test_a_meter_in_conflict_is_held_back_from_the_cs_note_and_the_mdm_notification(
    place: Place, files: Path
) -> None:
    three_sites(place, files)
    select_tranche(place, "T1", 4, when=WHEN)
    everyone = ["MSN000001", "MSN000002", "MSN000003", "MSN000004"]
    respond(place, files, "DCCRESP", 1, [(m, "T1", "ACCEPTED", "") for m in everyone])
    # MSN000003 stops communicating after its selection: a conflict, not a CS note.
    noncomm = respond(place, files, "NONCOMM", 1, [("MSN000003", "NC01", "20240101", "ADD")])
    assert noncomm.evaluation is not None and noncomm.evaluation.new_conflicts == 1
    note = export_tranche(place, "cs", "T1", when=WHEN)
    assert msns_of(note.file.path) == ["MSN000001", "MSN000002", "MSN000004"]
    conflict = "in conflict: the lists now exclude or hold them (see mmtlite report)"
    assert note.left_out[conflict] == 1
    respond(place, files, "CSRESP", 1, [(m, "T1", "OK", "") for m in msns_of(note.file.path)])
    # MSN000004 gets a to-do after its CS note: held back from the MDM notification.
    respond(place, files, "TODO", 1, [("MSN000004", "VISIT", "", "", "ADD")])
    notified = export_tranche(place, "mdm", "T1", migration_date="20240601", when=WHEN)
    assert msns_of(notified.file.path) == ["MSN000001", "MSN000002"]
    assert notified.left_out[conflict] == 1
    assert statuses(place)["MSN000004"] == "1a"  # it keeps its tranche status
