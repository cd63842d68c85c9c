"""mmtlite files: control failures refuse a file, row errors reject rows, write -> parse is exact,
and no input makes the parser raise."""

from __future__ import annotations

import codecs
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mmtlite.categories import ACTIONS, CATEGORIES, DATE_PATTERN, OUTBOUND, Category
from mmtlite.codes import CODES
from mmtlite.fileformat import (
    ParsedFile,
    Row,
    file_name,
    parse,
    the_last_action_per_key,
    write,
)

NAME = "MMT_BUILD_20240101120000.csv"
HEADER = "HDR|MMT|1|20240101120000|BUILD"
GOOD = "S1000001|SITE1|1234567890123|E|DMC1|20190401|ADD"


def mmt(*rows: str, header: str = HEADER, trailer: str | None = None, newline: str = "\n") -> bytes:
    """A file from its detail rows, with a header and a trailer counting them unless told."""
    lines = [header, *rows, trailer if trailer is not None else f"TRL|{len(rows)}"]
    return (newline.join(lines) + newline).encode()


def meter(msn: str = "S1000001", action: str = "ADD", **changes: str) -> str:
    """An MMT row; keyword arguments replace columns by name."""
    values = dict(zip(CATEGORIES["MMT"].column_names, GOOD.split("|"), strict=True))
    values.update(changes, msn=msn, action=action)
    return "|".join(values.values())


def failures(parsed: ParsedFile) -> list[tuple[str, int | None]]:
    return [(failure.code, failure.line) for failure in parsed.control_failures]


def errors(parsed: ParsedFile) -> list[tuple[str, int | None, str | None]]:
    return [(error.code, error.line, error.column) for error in parsed.row_errors]


def lines_of(parsed: ParsedFile) -> list[int]:
    return [row.line for row in parsed.rows]


# -- the categories --------------------------------------------------------------------------


def test_every_category_of_the_design_is_there_with_its_system_and_key() -> None:
    systems = {name: category.system for name, category in CATEGORIES.items()}
    assert systems == {
        "MMT": "mmt",
        "NONCOMM": "mmt",
        "MANEXCL": "mmt",
        "TODO": "mmt",
        "EXCLCODE": "mmt",
        "STATUSCHG": "cs",
        "CSRESP": "cs",
        "CSNOTE": "cs",
        "DMCT": "dcc",
        "EPCL": "dcc",
        "DCCRESP": "dcc",
        "DCCCAND": "dcc",
        "MDMRESP": "mdm",
        "MDMNOTIF": "mdm",
    }
    assert set(OUTBOUND) == {"DCCCAND", "CSNOTE", "MDMNOTIF"}
    keys = {name: category.key for name, category in CATEGORIES.items()}
    assert keys["DMCT"] == keys["EPCL"] == ("dmc_id",)
    assert keys["EXCLCODE"] == ("code",)
    assert keys["DCCRESP"] == keys["CSRESP"] == keys["MDMRESP"] == ("msn", "tranche_id")
    without_action = {name for name, category in CATEGORIES.items() if not category.has_action}
    assert without_action == {"DCCRESP", "CSRESP", "MDMRESP", *OUTBOUND}


@pytest.mark.parametrize("category", CATEGORIES.values(), ids=list(CATEGORIES))
def test_a_key_is_the_start_of_the_line(category: Category) -> None:
    assert category.key == category.column_names[: len(category.key)]
    assert category.folder == category.name.lower()


def test_the_date_pattern_is_the_calendar_from_1900_to_2099() -> None:
    pattern = re.compile(DATE_PATTERN)
    day, valid = date(1900, 1, 1), set()
    while day.year < 2100:
        valid.add(day.strftime("%Y%m%d"))
        day += timedelta(days=1)
    assert all(pattern.fullmatch(value) for value in valid)
    candidates = {
        f"{year}{month:02d}{day:02d}"
        for year in (1899, 1900, 1996, 1999, 2000, 2023, 2024, 2099, 2100)
        for month in range(14)
        for day in range(33)
    }
    assert {value for value in candidates if pattern.fullmatch(value)} == candidates & valid


# -- control failures: the whole file is refused --------------------------------------------


def test_a_good_file_has_neither_failures_nor_errors() -> None:
    parsed = parse(mmt(GOOD, meter("S1000002", mpxn="1234567", fuel="G")), NAME)
    assert not parsed.refused and parsed.row_errors == []
    assert (parsed.category, parsed.env, parsed.sequence, parsed.created) == (
        "MMT",
        "BUILD",
        1,
        "20240101120000",
    )
    assert parsed.delimiter == "|" and parsed.detail_rows == 2
    assert parsed.rows[0] == Row(2, "ADD", len("S1000001"), GOOD, "|")
    assert parsed.rows[0].values == tuple(GOOD.split("|")[:-1])


def test_a_missing_file_and_a_folder_cannot_be_read(tmp_path: Path) -> None:
    missing = parse(tmp_path / NAME)
    assert failures(missing) == [("MMT-C001", None)]
    folder = tmp_path / "MMT_BUILD_20240101120001.csv"
    folder.mkdir()
    assert failures(parse(folder)) == [("MMT-C001", None)]
    assert "folder" in parse(folder).control_failures[0].message


def test_a_path_is_read_and_named_by_its_own_name(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_bytes(mmt(GOOD))
    parsed = parse(path)
    assert not parsed.refused and parsed.file == str(path) and len(parsed.rows) == 1
    assert parse(str(path), "upload.csv").file == "upload.csv"


def test_bytes_need_a_name() -> None:
    with pytest.raises(TypeError):
        parse(mmt(GOOD))


@pytest.mark.parametrize(
    "name",
    [
        "MMT.csv",
        "MMT_BUILD_2024010112000.csv",
        "MMT_BUILD_20241301120000.csv",
        "MMT_BUILD_20240101120000.xlsx",
        "MMT_BUILD_20240101120000",
        "MMT-BUILD-20240101120000.csv",
    ],
)
def test_a_badly_named_file_is_refused(name: str) -> None:
    assert failures(parse(mmt(GOOD), name)) == [("MMT-C002", None)]


def test_names_and_headers_compare_category_and_environment_case_insensitively() -> None:
    parsed = parse(
        mmt(GOOD, header="HDR|mmt|7|20240101120000|build"), "mmt_Build_20240101120000.TXT"
    )
    assert not parsed.refused
    assert (parsed.category, parsed.env, parsed.sequence) == ("MMT", "BUILD", 7)


@pytest.mark.parametrize("data", [b"", b"\n", b" \r\n\t\n", codecs.BOM_UTF8])
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert failures(parse(data, NAME)) == [("MMT-C003", None)]


def test_a_file_that_is_not_utf8_is_refused_at_its_line() -> None:
    latin1 = mmt(GOOD, "S1000002|SITE1|1234567890123|E|DMC1|20190401|ADD").replace(
        b"SITE1|1234567890123|E|DMC1|20190401|ADD\nTRL",
        b"SIT\xc91|1234567890123|E|DMC1|20190401|ADD\nTRL",
    )
    parsed = parse(latin1, NAME)
    assert failures(parsed) == [("MMT-C004", 3)]
    assert "0xC9" in parsed.control_failures[0].message
    utf16 = parse(mmt(GOOD).decode().encode("utf-16"), NAME)
    assert failures(utf16) == [("MMT-C004", 1)] and "UTF-16" in str(utf16.control_failures[0])


@pytest.mark.parametrize(
    "first", ["S1000001|SITE1|1|E|D|20190401|ADD", "hdr|MMT|1|20240101120000|BUILD"]
)
def test_a_file_without_a_header_is_refused(first: str) -> None:
    assert failures(parse(mmt(GOOD, header=first), NAME)) == [("MMT-C005", 1)]


@pytest.mark.parametrize(
    "header",
    [
        "HDR;MMT;1;20240101120000;BUILD",
        "HDR",
        "HDR|MMT|1|20240101120000",
        "HDR|MMT|1|20240101120000|BUILD|extra",
        "HDR|MMT|one|20240101120000|BUILD",
        "HDR|MMT|0|20240101120000|BUILD",
        "HDR|MMT|-1|20240101120000|BUILD",
        "HDR|MMT|" + "9" * 5000 + "|20240101120000|BUILD",
        "HDR|MMT|1|20240230120000|BUILD",
        "HDR|MMT|1|2024-01-01|BUILD",
    ],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    assert ("MMT-C006", 1) in failures(parse(mmt(GOOD, header=header), NAME))


def test_an_unknown_category_is_refused_and_rows_are_not_checked() -> None:
    parsed = parse(mmt("anything", header="HDR|METERS|1|20240101120000|BUILD"), NAME)
    assert failures(parsed) == [("MMT-C007", 1)]
    assert parsed.rows == [] and parsed.row_errors == []


def test_an_unknown_environment_is_refused() -> None:
    parsed = parse(mmt(GOOD, header="HDR|MMT|1|20240101120000|TEST"), "MMT_TEST_20240101120000.csv")
    assert failures(parsed) == [("MMT-C008", 1)]


@pytest.mark.parametrize(
    "name", ["NONCOMM_BUILD_20240101120000.csv", "MMT_PROD_20240101120000.csv"]
)
def test_a_name_that_disagrees_with_the_header_is_refused(name: str) -> None:
    parsed = parse(mmt(GOOD), name)
    assert failures(parsed) == [("MMT-C009", 1)]
    assert "the header MMT for BUILD" in parsed.control_failures[0].message


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (f"{HEADER}\n".encode(), 1),
        (f"{HEADER}\n{GOOD}\n".encode(), 2),
        (f"{HEADER}\n{GOOD}\nTRL;1\n".encode(), 3),
    ],
)
def test_a_file_without_a_trailer_is_refused(data: bytes, line: int) -> None:
    parsed = parse(data, NAME)
    assert failures(parsed) == [("MMT-C010", line)]
    assert lines_of(parsed) == ([] if line == 1 else [2])  # the last line is a detail row


def test_a_trailer_before_the_end_is_refused() -> None:
    parsed = parse(mmt(GOOD, "TRL|1", meter("S1000002"), trailer="TRL|2"), NAME)
    assert failures(parsed) == [("MMT-C011", 3)]


@pytest.mark.parametrize("trailer", ["TRL|one", "TRL|", "TRL|1|2", "TRL|-1", "TRL|" + "1" * 5000])
def test_a_malformed_trailer_is_refused(trailer: str) -> None:
    assert failures(parse(mmt(GOOD, trailer=trailer), NAME)) == [("MMT-C012", 3)]


@pytest.mark.parametrize("count", [0, 2, 10])
def test_a_trailer_count_that_is_not_the_detail_rows_refuses_the_file(count: int) -> None:
    parsed = parse(mmt(GOOD, trailer=f"TRL|{count}"), NAME)
    assert failures(parsed) == [("MMT-C013", 3)]
    assert "counts" in parsed.control_failures[0].message
    assert lines_of(parsed) == [2]  # validate still shows the rows


def test_two_files_joined_are_refused() -> None:
    parsed = parse(mmt(GOOD) + mmt(meter("S1000002")), NAME)
    assert failures(parsed) == [("MMT-C011", 3), ("MMT-C014", 4), ("MMT-C013", 6)]


def test_a_file_for_another_environment_is_refused() -> None:
    assert failures(parse(mmt(GOOD), NAME, env="prod")) == [("MMT-C015", 1)]
    assert failures(parse(mmt(GOOD), NAME, env="build")) == []
    with pytest.raises(ValueError):
        parse(mmt(GOOD), NAME, env="test")  # the caller's mistake


def test_every_control_code_is_documented_and_each_failure_says_where() -> None:
    assert sorted(CODES) == [
        *(f"MMT-C{n:03d}" for n in range(1, 23)),
        *(f"MMT-R{n:03d}" for n in range(1, 13)),
    ]
    failure = parse(mmt(GOOD, trailer="TRL|5"), NAME).control_failures[0]
    assert str(failure).startswith(f"{NAME}:3: MMT-C013 ")


# -- row errors: the row is rejected, the rest is good ---------------------------------------


def test_a_row_with_the_wrong_number_of_columns_is_rejected() -> None:
    parsed = parse(mmt(GOOD, "S1000002|SITE1|ADD", meter("S1000003") + "|extra"), NAME)
    assert errors(parsed) == [("MMT-R001", 3, None), ("MMT-R001", 4, None)]
    assert lines_of(parsed) == [2] and not parsed.refused
    assert "3 fields, expected 7" in parsed.row_errors[0].message


@pytest.mark.parametrize("msn", ["", "  ", "\t"])
def test_a_blank_key_is_rejected(msn: str) -> None:
    parsed = parse(mmt(meter(msn), GOOD), NAME)
    assert errors(parsed) == [("MMT-R002", 2, "msn")]
    assert lines_of(parsed) == [3]


@pytest.mark.parametrize(
    "msn", ["s1000001", "S1000", "S1000001 ", " S1000001", "S-100001", "A" * 21]
)
def test_a_malformed_key_is_rejected(msn: str) -> None:
    parsed = parse(mmt(meter(msn)), NAME)
    assert errors(parsed) == [("MMT-R003", 2, "msn")]
    assert parsed.rows == []


def test_a_blank_required_value_is_rejected_but_an_optional_one_is_fine() -> None:
    parsed = parse(mmt(meter(site_id="")), NAME)
    assert errors(parsed) == [("MMT-R004", 2, "site_id")]
    todo = "HDR|TODO|1|20240101120000|BUILD"
    parsed = parse(mmt("S1000001|T01|||ADD", header=todo), "TODO_BUILD_20240101120000.csv")
    assert errors(parsed) == [] and len(parsed.rows) == 1


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("fuel", "X"),
        ("fuel", "e"),
        ("mpxn", "12345"),
        ("mpxn", "12345678901"),
        ("install_date", "20230229"),
        ("install_date", "2019-04-01"),
        ("install_date", "18991231"),
        ("site_id", "SITE 1"),
        ("dmc_id", "-DMC"),
    ],
)
def test_an_invalid_value_is_rejected_at_its_column(column: str, value: str) -> None:
    parsed = parse(mmt(meter(**{column: value}), meter("S1000002")), NAME)
    assert errors(parsed) == [("MMT-R005", 2, column)]
    assert (
        value.strip() in parsed.row_errors[0].message or repr(value) in parsed.row_errors[0].message
    )
    assert lines_of(parsed) == [3]


def test_every_bad_column_of_a_row_is_reported_in_column_order() -> None:
    parsed = parse(mmt(meter("s1", fuel="X", install_date="20230229", action="DELETE")), NAME)
    assert errors(parsed) == [
        ("MMT-R006", 2, "action"),
        ("MMT-R003", 2, "msn"),
        ("MMT-R005", 2, "fuel"),
        ("MMT-R005", 2, "install_date"),
    ]


def test_free_text_may_hold_anything_but_control_characters() -> None:
    header = "HDR|MANEXCL|1|20240101120000|BUILD"
    name = "MANEXCL_BUILD_20240101120000.csv"
    sql = 'x\'); DROP TABLE meters; -- "quoted", commas, ünïcödé \u2028 fine'
    rows = [f"S1000001|R01|{sql}|ADD", "S1000002|R01|bell\x07|ADD", "S1000003|R01|nul\x00|ADD"]
    parsed = parse(mmt(*rows, header=header), name)
    assert errors(parsed) == [("MMT-R005", 3, "comment"), ("MMT-R005", 4, "comment")]
    assert parsed.rows[0].values == ("S1000001", "R01", sql)  # SQL-like text is just text
    assert "\\x07" in parsed.row_errors[0].message
    too_long = parse(mmt("S1000001|R01|" + "x" * 501 + "|ADD", header=header), name)
    assert errors(too_long) == [("MMT-R005", 2, "comment")]
    assert "501 characters" in too_long.row_errors[0].message


@pytest.mark.parametrize("action", ["DELETE", "add", "", "ADD "])
def test_an_unknown_action_is_rejected(action: str) -> None:
    parsed = parse(mmt(meter(action=action)), NAME)
    assert errors(parsed) == [("MMT-R006", 2, "action")]


def test_a_remove_row_needs_only_its_key() -> None:
    parsed = parse(mmt("S1000001||||||REMOVE", meter("S1000002", "REMOVE", fuel="X")), NAME)
    assert lines_of(parsed) == [2]
    assert errors(parsed) == [("MMT-R005", 3, "fuel")]
    assert parse(mmt("||||||REMOVE"), NAME).row_errors[0].code == "MMT-R002"


def test_all_cannot_be_mixed_with_add_or_remove() -> None:
    parsed = parse(
        mmt(meter("S1000001", "ALL"), meter("S1000002", "ADD"), meter("S1000003", "ALL")), NAME
    )
    assert errors(parsed) == [("MMT-R007", 3, "action")]
    assert lines_of(parsed) == [2, 4] and parsed.complete
    delta = parse(
        mmt(meter("S1000001", "REMOVE"), meter("S1000002", "ALL"), meter("S1000003")), NAME
    )
    assert errors(delta) == [("MMT-R007", 3, "action")]
    assert lines_of(delta) == [2, 4] and not delta.complete


def test_the_first_good_row_sets_the_mode() -> None:
    parsed = parse(
        mmt(meter("bad", "ADD"), meter("S1000002", "ALL"), meter("S1000003", "ADD")), NAME
    )
    assert errors(parsed) == [("MMT-R003", 2, "msn"), ("MMT-R007", 4, "action")]
    assert parsed.complete


def test_a_key_given_again_with_other_data_rejects_every_row_of_that_key() -> None:
    parsed = parse(
        mmt(GOOD, meter("S1000002"), meter(site_id="SITE9"), meter(), meter("S1000003")), NAME
    )
    assert errors(parsed) == [
        ("MMT-R008", 2, None),  # withdrawn: neither version can be trusted
        ("MMT-R008", 4, "site_id"),
        ("MMT-R008", 5, None),
    ]
    assert lines_of(parsed) == [3, 6]
    assert "'SITE9' here, 'SITE1' at line 2" in parsed.row_errors[1].message


def test_a_response_key_is_msn_and_tranche_and_any_other_data_is_a_conflict() -> None:
    header = "HDR|DCCRESP|1|20240101120000|BUILD"
    name = "DCCRESP_BUILD_20240101120000.csv"
    rows = [
        "S1000001|T1|ACCEPTED|",
        "S1000001|T2|REJECTED|R01",
        "S1000002|T1|ACCEPTED|",
        "S1000002|T1|REJECTED|R01",
        "S1000003|T1|MAYBE|",
    ]
    parsed = parse(mmt(*rows, header=header), name)
    assert errors(parsed) == [
        ("MMT-R008", 4, None),
        ("MMT-R008", 5, "decision"),
        ("MMT-R005", 6, "decision"),
    ]
    assert [(row.key, row.action) for row in parsed.rows] == [
        ("S1000001|T1", None),
        ("S1000001|T2", None),
    ]
    assert not parsed.complete


def test_the_same_row_twice_is_harmless_and_the_last_action_wins() -> None:
    rows = [
        GOOD,
        meter("S1000002"),
        meter("S1000001", "REMOVE"),  # ADD then REMOVE: no conflict, REMOVE wins
        meter("S1000002"),  # the same row again
        meter("S1000003", "REMOVE"),
        meter("S1000003", "ADD", site_id="SITE3"),  # REMOVE then ADD: ADD wins
        meter("S1000004", "REMOVE"),
        "S1000004||||||REMOVE",  # REMOVE uses only the key
    ]
    parsed = parse(mmt(*rows), NAME)
    assert errors(parsed) == [] and len(parsed.rows) == 8
    last = the_last_action_per_key(parsed.rows)
    assert [(row.key, row.action, row.line) for row in last] == [
        ("S1000001", "REMOVE", 4),
        ("S1000002", "ADD", 5),
        ("S1000003", "ADD", 7),
        ("S1000004", "REMOVE", 9),
    ]
    assert last[2].values[1] == "SITE3"


def test_an_all_file_is_a_complete_list_and_an_empty_file_is_not() -> None:
    assert parse(mmt(meter(action="ALL")), NAME).complete
    assert not parse(mmt(GOOD), NAME).complete
    assert not parse(mmt(), NAME).complete


def test_a_huge_file_of_10000_columns_and_a_huge_value_are_row_errors() -> None:
    wide = "|".join(["S1000001"] * 10_000)
    huge = meter(site_id="S" * 2_000_000)
    parsed = parse(mmt(wide, huge, GOOD), NAME)
    assert errors(parsed) == [("MMT-R001", 2, None), ("MMT-R005", 3, "site_id")]
    assert len(parsed.row_errors[0].message) < 200 and len(parsed.row_errors[1].message) < 300
    assert lines_of(parsed) == [4]


# -- the file's shape: BOM, CRLF, commas, blank lines ---------------------------------------


def test_bom_crlf_and_blank_lines_are_accepted() -> None:
    data = (
        codecs.BOM_UTF8
        + mmt(GOOD, "", meter("S1000002"), "   ", trailer="TRL|2", newline="\r\n")
        + b"\r\n\r\n"
    )
    parsed = parse(data, NAME)
    assert not parsed.refused and parsed.row_errors == []
    assert lines_of(parsed) == [2, 4] and parsed.detail_rows == 2
    assert parsed.rows[1].text == meter("S1000002")


def test_a_lone_carriage_return_is_not_a_line_break() -> None:
    parsed = parse(mmt(GOOD + "\r" + meter("S1000002"), trailer="TRL|1"), NAME)
    assert errors(parsed) == [("MMT-R001", 2, None)]


def test_a_comma_file_from_a_spreadsheet_pads_header_and_trailer() -> None:
    rows = [GOOD.replace("|", ","), meter("S1000002").replace("|", ",")]
    data = mmt(*rows, header="HDR,MMT,1,20240101120000,BUILD,,", trailer="TRL,2,,,,,")
    parsed = parse(data, NAME)
    assert not parsed.refused and parsed.row_errors == [] and parsed.delimiter == ","
    assert parsed.rows[0].key == "S1000001" and parsed.rows[0].values == tuple(GOOD.split("|")[:-1])


def test_a_pipe_in_a_comma_file_is_just_text_and_a_comma_splits() -> None:
    header = "HDR,MANEXCL,1,20240101120000,BUILD"
    name = "MANEXCL_BUILD_20240101120000.csv"
    parsed = parse(
        mmt("S1000001,R01,a|b,ADD", "S1000002,R01,a,b,ADD", header=header, trailer="TRL,2"), name
    )
    assert parsed.rows[0].values == ("S1000001", "R01", "a|b")
    assert errors(parsed) == [("MMT-R001", 3, None)]


# -- write -> parse ---------------------------------------------------------------------------


def test_write_gives_a_well_formed_file() -> None:
    data = write("mmt", "build", 3, "20240101120000", [GOOD.split("|")])
    assert data == f"HDR|MMT|3|20240101120000|BUILD\n{GOOD}\nTRL|1\n".encode()
    assert write("EPCL", "PROD", 1, "20240101120000", [], delimiter=",") == (
        b"HDR,EPCL,1,20240101120000,PROD\nTRL,0\n"
    )
    assert file_name("dcccand", "prod", "20240101120000") == "DCCCAND_PROD_20240101120000.csv"


@pytest.mark.parametrize(
    ("arguments", "rows"),
    [
        (("NOPE", "BUILD", 1, "20240101120000"), []),
        (("MMT", "TEST", 1, "20240101120000"), []),
        (("MMT", "BUILD", 0, "20240101120000"), []),
        (("MMT", "BUILD", 1, "2024"), []),
        (("MMT", "BUILD", 1, "20240101120000"), [["S1000001", "ADD"]]),
        (
            ("MMT", "BUILD", 1, "20240101120000"),
            [["S1000001", "A|B", "1234567890123", "E", "DMC1", "20190401", "ADD"]],
        ),
        (("MMT", "BUILD", 1, "20240101120000"), [meter(site_id="A\nB").split("|")]),
        (("EXCLCODE", "BUILD", 1, "20240101120000"), [["TRL", "", "Y", "ADD"]]),
    ],
)
def test_write_refuses_what_cannot_be_a_well_formed_file(
    arguments: tuple[str, str, int, str], rows: list[list[str]]
) -> None:
    with pytest.raises(ValueError):
        write(*arguments, rows)
    with pytest.raises(ValueError):
        write("MMT", "BUILD", 1, "20240101120000", [], delimiter=";")


_DATES = st.dates(date(1900, 1, 1), date(2099, 12, 31)).map(lambda day: day.strftime("%Y%m%d"))


def _values(category: Category, delimiter: str) -> st.SearchStrategy[list[str]]:
    """Valid values for every column (blank sometimes where a column is optional)."""
    parts = []
    for column in category.columns:
        if column.kind.name == "date":
            value = _DATES
        elif column.kind.name == "text":
            value = st.text(
                st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=delimiter),
                min_size=1,
                max_size=20,
            )
        else:
            value = st.from_regex(column.kind.pattern, fullmatch=True).filter(
                lambda v: v not in ("HDR", "TRL")
            )
        parts.append(value if column.required else st.one_of(st.just(""), value))
    return st.tuples(*parts).map(list)


@st.composite
def files(draw: st.DrawFn) -> tuple[Category, str, list[list[str]]]:
    category = CATEGORIES[draw(st.sampled_from(sorted(CATEGORIES)))]
    delimiter = draw(st.sampled_from(["|", ","]))
    keys = len(category.key)
    rows = draw(
        st.lists(_values(category, delimiter), max_size=8, unique_by=lambda v: tuple(v[:keys]))
    )
    if category.has_action:
        modes = draw(st.sampled_from([["ALL"], ["ADD", "REMOVE"]]))
        rows = [[*row, draw(st.sampled_from(modes))] for row in rows]
    return category, delimiter, rows


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files(), st.sampled_from(["BUILD", "SOGL", "PROD"]), st.integers(1, 10**6))
def test_what_write_writes_parse_reads_back(
    file: tuple[Category, str, list[list[str]]], env: str, sequence: int
) -> None:
    category, delimiter, rows = file
    data = write(category.name, env, sequence, "20240229235959", rows, delimiter=delimiter)
    parsed = parse(data, file_name(category.name, env, "20240229235959"))
    assert parsed.control_failures == [] and parsed.row_errors == []
    assert (parsed.category, parsed.env, parsed.sequence) == (category.name, env, sequence)
    assert [list(row.fields) for row in parsed.rows] == rows
    assert lines_of(parsed) == list(range(2, len(rows) + 2))
    assert parsed.complete == bool(rows and rows[0][-1] == "ALL")
    assert the_last_action_per_key(parsed.rows) == parsed.rows  # the keys were unique
    for row in parsed.rows:
        assert row.action == (row.fields[-1] if category.has_action else None)


# -- hostile input never raises ----------------------------------------------------------------


def _consistent(parsed: ParsedFile, data: bytes) -> None:
    """Whatever parse returns is coherent: good rows are valid, errors point at real lines."""
    assert parsed.refused == bool(parsed.control_failures)
    last_line = data.count(b"\n") + 1
    assert all(
        error.line is not None and 1 < error.line <= last_line for error in parsed.row_errors
    )
    assert all(f.line is None or 1 <= f.line <= last_line for f in parsed.control_failures)
    assert lines_of(parsed) == sorted(set(lines_of(parsed)))
    bad_lines = {error.line for error in parsed.row_errors}
    category = CATEGORIES.get(parsed.category or "")
    for row in parsed.rows:
        assert row.line not in bad_lines
        assert category is not None and len(row.fields) == category.width
        for column, value in zip(category.columns, row.values, strict=True):
            assert re.fullmatch(column.kind.pattern, value) or (
                value == "" and (not column.required or row.action == "REMOVE")
            )
        assert row.action in (*ACTIONS, None)
        assert row.action == (row.fields[-1] if category.has_action else None)
        assert row.key == row.delimiter.join(row.values[: len(category.key)])


SEEDS = [
    mmt(GOOD, meter("S1000002", "REMOVE"), "S1000003||||||REMOVE", meter("S1000004")),
    mmt(meter(action="ALL"), meter("S1000002", "ALL"), newline="\r\n"),
    mmt(
        "S1000001,R01,free text,ADD",
        "S1000002,R01,,REMOVE",
        header="HDR,MANEXCL,1,20240101120000,BUILD",
        trailer="TRL,2",
    ),
    mmt(
        "S1000001|T1|ACCEPTED|",
        "S1000002|T1|REJECTED|R01",
        header="HDR|DCCRESP|1|20240101120000|BUILD",
    ),
    mmt("DMC1|Acme|M1|1.2.3|ADD", "DMC2|Acme|M2|2.0|ALL", header="HDR|EPCL|1|20240101120000|BUILD"),
]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    kind = draw(st.sampled_from(["truncate", "flip", "shuffle", "splice", "duplicate", "nul"]))
    if kind == "truncate":
        return bytes(data[: draw(st.integers(0, len(data)))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 10))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        return bytes(data)
    lines = bytes(data).split(b"\n")
    if kind == "shuffle":
        return b"\n".join(draw(st.permutations(lines)))
    if kind == "duplicate":
        at = draw(st.integers(0, len(lines) - 1))
        return b"\n".join([*lines[: at + 1], *lines[at:]])
    at = draw(st.integers(0, len(data)))
    insert = draw(st.binary(max_size=50)) if kind == "splice" else b"\x00" * draw(st.integers(1, 5))
    return bytes(data[:at]) + insert + bytes(data[at:])


@settings(max_examples=300, deadline=None)
@given(mutated())
def test_a_mutated_file_never_raises(data: bytes) -> None:
    for name in (NAME, "MANEXCL_BUILD_20240101120000.csv"):
        _consistent(parse(data, name), data)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    parsed = parse(data, NAME)
    _consistent(parsed, data)
    assert parsed.refused  # no random bytes make a valid file


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=30), max_size=8), st.sampled_from(sorted(CATEGORIES)))
def test_random_rows_under_a_good_header_never_raise(rows: list[str], category: str) -> None:
    data = mmt(*rows, header=f"HDR|{category}|1|20240101120000|BUILD")
    _consistent(parse(data, f"{category}_BUILD_20240101120000.csv"), data)


@st.composite
def nearly_valid_rows(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Rows of valid values with a few replaced by anything: the fast path's edge."""
    category = CATEGORIES[draw(st.sampled_from(sorted(CATEGORIES)))]
    rows = []
    for values in draw(st.lists(_values(category, "|"), max_size=6)):
        if category.has_action:
            values.append(draw(st.sampled_from(["ADD", "REMOVE"])))
        for _ in range(draw(st.integers(0, 2))):
            at = draw(st.integers(0, len(values) - 1))
            values[at] = draw(st.sampled_from(["", " ", "|", "a|b", "ALL", "\x00", "x" * 501]))
        rows.append("|".join(values))
    return category.name, rows


@settings(max_examples=100, deadline=None)
@given(nearly_valid_rows())
def test_nearly_valid_rows_are_judged_field_by_field(case: tuple[str, list[str]]) -> None:
    category, rows = case
    data = mmt(*rows, header=f"HDR|{category}|1|20240101120000|BUILD")
    parsed = parse(data, f"{category}_BUILD_20240101120000.csv")
    _consistent(parsed, data)
    judged = set(lines_of(parsed)) | {error.line for error in parsed.row_errors}
    assert judged == set(range(2, len(rows) + 2))  # every row is either good or has an error


@pytest.mark.parametrize(
    "data",
    [
        b"\x00" * 1000,
        HEADER.encode() + b"\x00\n" + GOOD.encode() + b"\nTRL|1\n",
        mmt(GOOD.replace("SITE1", "SITE\x001")),
        b"HDR|" + b"|" * 100_000 + b"\n",
        mmt("|" * 9_999),
        b"A" * 3_000_000,
        b"\n" * 100_000,
        mmt(GOOD) * 50,
    ],
    ids=[
        "nul",
        "nul-header",
        "nul-field",
        "wide-header",
        "10000-columns",
        "huge-line",
        "newlines",
        "joined",
    ],
)
def test_hostile_files_are_diagnosed_not_raised(data: bytes) -> None:
    parsed = parse(data, NAME)
    _consistent(parsed, data)
    assert parsed.refused or parsed.row_errors
