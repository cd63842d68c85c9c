"""Loading lists: ADD / REMOVE / ALL, the last action per key, budgets, the mass-delete guard,
codes checked against EXCLCODE, the ledger's rules and the log; SQLite real, in tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmtlite import activity
from mmtlite.loader import Budget, Options, RunResult, load
from mmtlite.paths import Place
from mmtlite.tranches import export_tranche
from tests.mmt_helpers import codes_file, digest, in_tranche, make, meter, reading, rows_of


@pytest.fixture
def place(tmp_path: Path) -> Place:
    return Place(tmp_path / "home", "build")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    folder = tmp_path / "files"
    folder.mkdir()
    return folder


def outcomes(result: RunResult) -> list[str]:
    return [file.outcome for file in result.files]


def msns(place: Place, category: str = "MMT") -> list[str]:
    return [row[0] for row in rows_of(place, category)]


def test_all_adds_then_replaces_the_complete_list(place: Place, files: Path) -> None:
    first = make(files, "MMT", 1, [meter(f"MSN00000{n}") for n in range(1, 6)])
    result = load(place, [first])
    assert outcomes(result) == ["loaded"]
    assert (result.files[0].counts.added, result.files[0].counts.rows_read) == (5, 5)
    # MSN000001 goes, MSN000002 changes site, MSN000009 is new, the rest stay as they are.
    second = make(
        files,
        "MMT",
        2,
        [meter("MSN000002", site="SITE2"), *(meter(f"MSN00000{n}") for n in (3, 4, 5, 9))],
    )
    counts = load(place, [second]).files[0].counts
    assert (counts.added, counts.changed, counts.removed) == (1, 1, 1)
    assert msns(place) == ["MSN000002", "MSN000003", "MSN000004", "MSN000005", "MSN000009"]
    assert rows_of(place, "MMT")[0][1] == "SITE2"


def test_an_unchanged_row_keeps_the_file_that_first_said_it(place: Place, files: Path) -> None:
    load(place, [make(files, "MMT", 1, [meter("MSN000001"), meter("MSN000002")])])
    load(place, [make(files, "MMT", 2, [meter("MSN000001"), meter("MSN000002", site="S9")])])
    with reading(place) as connection:
        by_msn = dict(
            connection.execute(
                "SELECT msn, name FROM list_mmt JOIN ledger USING (file_id)"
            ).fetchall()
        )
    assert by_msn["MSN000001"].startswith("MMT_BUILD_20240101000001")
    assert by_msn["MSN000002"].startswith("MMT_BUILD_20240101000002")


def test_add_and_remove_with_the_last_action_per_key_winning(place: Place, files: Path) -> None:
    load(place, [codes_file(files), make(files, "MMT", 1, [meter("MSN000001")])])
    changes = make(
        files,
        "NONCOMM",
        1,
        [
            ("MSN000001", "NC01", "20240101", "ADD"),
            ("MSN000002", "NC01", "20240101", "ADD"),
            ("MSN000002", "", "", "REMOVE"),  # the last action wins: not there
            ("MSN000003", "NC01", "20240102", "ADD"),
            ("MSN000003", "", "", "REMOVE"),
            ("MSN000003", "MX01", "20240103", "ADD"),  # and back, with its last data
        ],
    )
    counts = load(place, [changes]).files[0].counts
    assert (counts.rows_read, counts.added, counts.removed) == (6, 2, 0)
    assert rows_of(place, "NONCOMM") == [
        ("MSN000001", "NC01", "20240101"),
        ("MSN000003", "MX01", "20240103"),
    ]
    more = make(
        files,
        "NONCOMM",
        2,
        [
            ("MSN000001", "", "", "REMOVE"),
            ("MSN000003", "NC01", "20240201", "ADD"),  # an ADD of a key there: changed
            ("MSN000777", "", "", "REMOVE"),  # not there: nothing, said in the message
        ],
    )
    result = load(place, [more]).files[0]
    assert (result.counts.added, result.counts.changed, result.counts.removed) == (0, 1, 1)
    assert "1 REMOVE rows named keys not in the list" in result.message
    assert rows_of(place, "NONCOMM") == [("MSN000003", "NC01", "20240201")]


def test_all_is_scoped_to_its_category(place: Place, files: Path) -> None:
    load(place, [codes_file(files)])
    load(place, [make(files, "NONCOMM", 1, [("MSN000001", "NC01", "20240101", "ALL")])])
    load(place, [make(files, "MANEXCL", 1, [("MSN000001", "MX01", "x", "ALL")])])
    load(
        place, [make(files, "MANEXCL", 2, [("MSN000002", "MX01", "y", "ALL")])], Options(force=True)
    )
    assert msns(place, "NONCOMM") == ["MSN000001"]
    assert msns(place, "MANEXCL") == ["MSN000002"]


def test_the_mass_delete_guard_refuses_unless_forced(place: Place, files: Path) -> None:
    load(place, [make(files, "MMT", 1, [meter(f"MSN0000{n:02d}") for n in range(10)])])
    before = digest(place)
    smaller = make(files, "MMT", 2, [meter(f"MSN0000{n:02d}") for n in range(7)])  # 30% gone
    result = load(place, [smaller]).files[0]
    assert (result.outcome, result.code) == ("refused", "MMT-C021")
    assert "3 of 10" in result.message and "--force" in result.message
    assert digest(place) == before
    # 20% is allowed by default; --max-delete raises the share; --force lets anything through.
    assert outcomes(load(place, [smaller], Options(max_delete=0.3))) == ["loaded"]
    assert len(msns(place)) == 7
    tiny = make(files, "MMT", 3, [meter("MSN000000")])
    assert outcomes(load(place, [tiny])) == ["refused"]
    forced = load(place, [tiny], Options(force=True)).files[0]
    assert forced.outcome == "loaded"
    assert "mass delete forced: 6 of 7 MMT rows (86%) removed" in forced.message
    assert msns(place) == ["MSN000000"]


def test_rejected_rows_of_a_complete_list_keep_what_is_there(place: Place, files: Path) -> None:
    load(place, [make(files, "MMT", 1, [meter(f"MSN0000{n:02d}") for n in range(20)])])
    rows = [meter(f"MSN0000{n:02d}", site="NEW") for n in range(20)]
    rows[3] = (*rows[3][:3], "X", *rows[3][4:])  # fuel X: rejected
    rows[5] = (*rows[5][:5], "2019-04-01", "ALL")  # a bad date: rejected
    result = load(place, [make(files, "MMT", 2, rows)]).files[0]
    assert result.outcome == "loaded with errors"
    assert (result.counts.rejected, result.counts.removed, result.counts.changed) == (2, 0, 18)
    kept = {row[0]: row[1] for row in rows_of(place, "MMT")}
    assert len(kept) == 20
    assert kept["MSN000003"] == kept["MSN000005"] == "SITE1"  # the old rows, untouched
    assert {site for msn, site in kept.items() if msn not in ("MSN000003", "MSN000005")} == {"NEW"}
    assert [(e.line, e.column, e.code) for e in result.errors] == [
        (5, "fuel", "MMT-R005"),
        (7, "install_date", "MMT-R005"),
    ]


def test_codes_are_checked_against_the_exclcode_list(place: Place, files: Path) -> None:
    load(place, [codes_file(files)])
    noncomm = make(
        files,
        "NONCOMM",
        1,
        [
            ("MSN000001", "NC01", "20240101", "ADD"),
            ("MSN000002", "ZZ99", "20240101", "ADD"),
            ("MSN000003", "ZZ99", "", "REMOVE"),  # a REMOVE needs its key only
        ],
    )
    result = load(place, [noncomm]).files[0]
    assert result.outcome == "loaded with errors"
    assert [(e.line, e.column, e.code) for e in result.errors] == [(3, "reason_code", "MMT-R009")]
    assert msns(place, "NONCOMM") == ["MSN000001"]


def test_control_lists_have_no_error_budget_by_default(place: Place, files: Path) -> None:
    codes = make(
        files, "EXCLCODE", 1, [("NC01", "ok", "Y", "ALL"), ("NC02", "bad flag", "maybe", "ALL")]
    )
    result = load(place, [codes]).files[0]
    assert (result.outcome, result.code) == ("refused", "MMT-C020")
    assert rows_of(place, "EXCLCODE") == []
    # The budget is configurable: one bad row allowed, the good row loads.
    result = load(place, [codes], Options(budget=Budget(count=1))).files[0]
    assert result.outcome == "loaded with errors"
    assert rows_of(place, "EXCLCODE") == [("NC01", "ok", "Y")]


def test_the_default_budget_of_other_lists_is_ten_rows_or_one_percent(
    place: Place, files: Path
) -> None:
    good = [meter(f"MSN{n:06d}") for n in range(200)]
    bad = [meter(f"msn{n:06d}") for n in range(11)]  # lower case: not an MSN
    result = load(place, [make(files, "MMT", 1, good + bad)]).files[0]
    assert (result.outcome, result.code, result.counts.rejected) == ("refused", "MMT-C020", 11)
    assert "11 bad rows, more than the error budget of 10" in result.message
    result = load(place, [make(files, "MMT", 1, good + bad[:10], second=99)]).files[0]
    assert result.outcome == "loaded with errors"
    assert len(msns(place)) == 200
    share = load(
        place,
        [make(files, "MMT", 2, good[:100] + bad[:2])],
        Options(budget=Budget(share=0.01), force=True),
    )
    assert share.files[0].code == "MMT-C020"  # 1% of 102 rows is 1


def test_the_ledger_skips_the_same_content_and_refuses_reuse(place: Place, files: Path) -> None:
    first = make(files, "MMT", 1, [meter("MSN000001")])
    assert outcomes(load(place, [first])) == ["loaded"]
    before = digest(place)
    copy = files / "copy" / first.name.replace("000001", "000077")
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    again = load(place, [first, copy])
    assert outcomes(again) == ["skipped", "skipped"]
    assert first.name in again.files[1].message
    same_name = files / "other" / first.name
    same_name.parent.mkdir()
    same_name.write_bytes(first.read_bytes().replace(b"MSN000001", b"MSN000002"))
    older = make(files, "MMT", 1, [meter("MSN000003")], second=500)
    latest = make(files, "MMT", 2, [meter("MSN000001"), meter("MSN000004")])
    assert outcomes(load(place, [latest])) == ["loaded"]
    before = digest(place)
    latest_again = make(files, "MMT", 2, [meter("MSN000005")], second=600)
    results = [load(place, [path]).files[0] for path in (same_name, older, latest_again)]
    assert [result.code for result in results] == ["MMT-C016", "MMT-C017", "MMT-C017"]
    assert "MMT sequence 1 was already loaded from MMT_BUILD_20240101000001" in results[1].message
    assert digest(place) == before


def test_a_gap_is_refused_until_the_missing_file_arrives(place: Place, files: Path) -> None:
    first = make(files, "MMT", 1, [meter("MSN000001")])
    third = make(files, "MMT", 3, [meter(f"MSN00000{n}") for n in (1, 2, 3)])
    result = load(place, [third]).files[0]
    assert (result.code, result.outcome) == ("MMT-C019", "refused")
    assert "sequence 1 to 2 missing" in result.message
    second = make(files, "MMT", 2, [meter("MSN000001"), meter("MSN000002")])
    # Given in any order, they load in sequence order.
    assert outcomes(load(place, [third, second, first])) == ["loaded"] * 3
    assert msns(place) == ["MSN000001", "MSN000002", "MSN000003"]


def test_a_forced_gap_is_written_in_the_ledger_and_the_log(place: Place, files: Path) -> None:
    third = make(files, "MMT", 3, [meter("MSN000001")])
    result = load(place, [third], Options(force=True)).files[0]
    assert result.outcome == "loaded"
    assert "gap forced: MMT sequence 1 to 2 never loaded" in result.message
    with reading(place) as connection:
        assert connection.execute("SELECT forced FROM ledger").fetchone()[0].startswith("gap")
    # The skipped sequences are now replays.
    assert load(place, [make(files, "MMT", 2, [meter("MSN000002")])]).files[0].code == "MMT-C018"


def test_the_log_and_error_table_record_every_file(place: Place, files: Path) -> None:
    codes = codes_file(files)
    bad = make(
        files, "NONCOMM", 1, [("MSN000001", "NC01", "20240101", "ADD"), ("m", "NC01", "", "ADD")]
    )
    result = load(place, [codes, bad])
    with reading(place) as connection:
        entries = activity.entries(connection)
        errors = activity.error_rows(connection, file=bad.name)
    assert [(e.outcome, e.category, e.rows_read, e.added, e.rejected) for e in entries] == [
        ("loaded with errors", "NONCOMM", 2, 1, 1),
        ("loaded", "EXCLCODE", 3, 3, 0),
    ]
    assert all(entry.ended and entry.run_id == result.run_id for entry in entries)
    assert [(e.line, e.code, e.column) for e in errors] == [
        (3, "MMT-R003", "msn"),
        (3, "MMT-R004", "detected_date"),
    ]
    assert all(error.file == str(bad) for error in errors)


def test_outbound_categories_are_never_loaded(place: Place, files: Path) -> None:
    candidates = make(files, "DCCCAND", 1, [("MSN000001", "1234567890123", "DMC1", "T1")])
    result = load(place, [candidates]).files[0]
    assert (result.outcome, result.code) == ("refused", "MMT-C022")


def test_responses_are_added_or_replaced_by_key(place: Place, files: Path) -> None:
    in_tranche(place, files, ["MSN000001", "MSN000002"], "T1")
    load(
        place,
        [
            make(
                files, "DCCRESP", 1, [(m, "T1", "ACCEPTED", "") for m in ("MSN000001", "MSN000002")]
            )
        ],
    )
    export_tranche(place, "cs", "T1")
    first = make(
        files, "CSRESP", 1, [("MSN000001", "T1", "OK", ""), ("MSN000002", "T1", "FAIL", "x")]
    )
    second = make(files, "CSRESP", 2, [("MSN000002", "T1", "OK", "retried")])
    load(place, [first, second])
    assert rows_of(place, "CSRESP") == [
        ("MSN000001", "T1", "OK", ""),
        ("MSN000002", "T1", "OK", "retried"),
    ]


def test_a_key_whose_last_row_is_rejected_is_left_as_it_was(place: Place, files: Path) -> None:
    load(place, [make(files, "MMT", 1, [meter(f"MSN00000{n}") for n in range(1, 7)])])
    rows = [meter(f"MSN00000{n}") for n in range(2, 7)]
    rows.insert(0, meter("MSN000001", site="S1"))
    rows.insert(1, (*meter("MSN000001", site="S2")[:5], "20201399", "ALL"))  # rejected
    result = load(place, [make(files, "MMT", 2, rows)]).files[0]
    assert (result.counts.changed, result.counts.rejected) == (0, 1)
    assert "1 good row not applied: the same key has a rejected row" in result.message
    assert rows_of(place, "MMT")[0][:2] == ("MSN000001", "SITE1")


def test_a_rejected_last_add_does_not_let_an_earlier_remove_through(
    place: Place, files: Path
) -> None:
    load(place, [codes_file(files)])
    first = [("MSN000001", "NC01", "20240101", "ADD"), ("MSN000002", "NC01", "20240101", "ADD")]
    load(place, [make(files, "NONCOMM", 1, first)])
    changes = [
        ("MSN000001", "", "", "REMOVE"),
        ("MSN000001", "NC01", "20241399", "ADD"),  # a bad date
        ("MSN000002", "", "", "REMOVE"),
        ("MSN000002", "ZZ99", "20240101", "ADD"),  # an unknown code
    ]
    result = load(place, [make(files, "NONCOMM", 2, changes)]).files[0]
    assert (result.counts.removed, result.counts.rejected) == (0, 2)
    assert msns(place, "NONCOMM") == ["MSN000001", "MSN000002"]


def test_a_complete_list_whose_rows_were_all_withdrawn_removes_nothing(
    place: Place, files: Path
) -> None:
    load(place, [make(files, "MMT", 1, [meter(f"MSN00000{n}") for n in range(1, 4)])])
    conflicting = [meter("MSN000001", site="S1"), meter("MSN000001", site="S9")]
    result = load(place, [make(files, "MMT", 2, conflicting)], Options(max_delete=1.0)).files[0]
    assert (result.outcome, result.counts.removed) == ("loaded with errors", 0)
    assert len(msns(place)) == 3
