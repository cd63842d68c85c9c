"""``nem2cdr.check`` and ``nem2cdr check``: what makes a CDR usage payload valid, and what not.

Every payload here is built by hand from the standard (``EnergyUsageListResponse``, CDS
v1.36.0) and CDR-MAPPING.md's "Validity" rules, never by ``convert``: the checker is the judge
of the converter, so it must be tested without it. Each problem code has a test that breaks a
valid payload in one place and pins exactly the (code, JSON path) pairs that must come back.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nem2cdr
from nem2cdr.diagnostics import CODES
from nem2cdr_cli.nem2cdr_commands import cli

Json = Any  # what json.loads gives
Pairs = list[tuple[str, str]]

SCHEMA_FOLDER = resources.files("nem2cdr") / "schema"
READ0 = "$.data.reads[0]"
INTERVAL0 = f"{READ0}.intervalRead"

CHECKS = {code for code in CODES if code.startswith("CDR-")}  # what check can find


# -- a valid payload, by hand ----------------------------------------------------------------


def valid() -> dict[str, Json]:
    """A small valid response: two days of one service point (FULL and NONE style), one basic
    read of another, in the standard's order (readStartDate descending per service point)."""
    return {
        "data": {
            "reads": [
                {
                    "servicePointId": "sp-1",
                    "registerId": "1",
                    "registerSuffix": "E1",
                    "meterId": "METER1",
                    "readStartDate": "2024-01-02",
                    "readEndDate": "2024-01-02",
                    "unitOfMeasure": "kWh",
                    "readUType": "intervalRead",
                    "intervalRead": {
                        "readIntervalLength": 30,
                        "aggregateValue": 24,  # 48 x 0.5
                        "intervalReads": [0.5] * 48,
                        "readQualities": [
                            {"startInterval": 1, "endInterval": 4, "quality": "SUBSTITUTE"},
                            {"startInterval": 10, "endInterval": 10, "quality": "FINAL_SUBSTITUTE"},
                        ],
                    },
                },
                {
                    "servicePointId": "sp-1",
                    "registerSuffix": "E1",
                    "readStartDate": "2024-01-01",
                    "readUType": "intervalRead",
                    "intervalRead": {"aggregateValue": 12.5},
                },
                {
                    "servicePointId": "sp-2",
                    "registerSuffix": "11",
                    "readStartDate": "2023-10-01",
                    "readEndDate": "2023-12-31",
                    "unitOfMeasure": "kWh",
                    "readUType": "basicRead",
                    "basicRead": {"quality": "ACTUAL", "value": 1234.5},
                },
            ]
        },
        "links": {"self": "https://data.holder.example/cds-au/v1/energy/usage"},
        "meta": {"totalRecords": 3, "totalPages": 1},
    }


def with_interval(values: list[str], aggregate: str) -> bytes:
    """The valid payload whose first read holds ``values`` (decimal texts, written as they are)
    summed to ``aggregate``; the interval length fits the count, no readQualities."""
    payload = valid()
    payload["data"]["reads"][0]["intervalRead"] = {
        "readIntervalLength": 1440 // len(values),
        "aggregateValue": "@AGGREGATE@",
        "intervalReads": "@VALUES@",
    }
    text = encode(payload)
    text = text.replace(b'"@AGGREGATE@"', aggregate.encode())
    return text.replace(b'"@VALUES@"', ("[" + ",".join(values) + "]").encode())


def encode(payload: Json) -> bytes:
    return json.dumps(payload).encode()


def problems(payload: Json) -> Pairs:
    """(code, path) of every problem, sorted; bytes are checked as they are."""
    data = payload if isinstance(payload, bytes) else encode(payload)
    return sorted((problem.code, problem.where or "") for problem in nem2cdr.check(data))


def broken(change: Callable[[dict[str, Json]], object]) -> Pairs:
    payload = valid()
    change(payload)
    return problems(payload)


def reads(payload: dict[str, Json]) -> list[dict[str, Json]]:
    result: list[dict[str, Json]] = payload["data"]["reads"]
    return result


# -- the shipped schema -------------------------------------------------------------------------


def test_the_shipped_schema_is_the_one_source_md_names() -> None:
    source = (SCHEMA_FOLDER / "SOURCE.md").read_text("utf-8")
    [recorded] = re.findall(r"^\| SHA-256 \| `([0-9a-f]{64})` \|$", source, re.MULTILINE)
    shipped = (SCHEMA_FOLDER / "cds_energy.json").read_bytes()
    assert hashlib.sha256(shipped).hexdigest() == recorded


def test_the_shipped_schema_is_the_version_source_md_names() -> None:
    source = (SCHEMA_FOLDER / "SOURCE.md").read_text("utf-8")
    [version] = re.findall(r"Consumer Data Standards v(\d+\.\d+\.\d+)", source)
    document = json.loads((SCHEMA_FOLDER / "cds_energy.json").read_bytes())
    assert document["info"]["version"] == version
    assert "EnergyUsageListResponse" in document["components"]["schemas"]


_AUDITED_CHECK = """
import json, sys
import nem2cdr
payload = sys.stdin.buffer.read()
events = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes)):
        events.append(["open", str(args[0])])
    elif event.split(".")[0] in ("socket", "urllib", "http", "ftplib", "smtplib"):
        events.append([event, ""])
sys.addaudithook(hook)
found = nem2cdr.check(payload)
print(json.dumps({"problems": len(found), "events": events}))
"""


def test_check_needs_no_network_and_no_file_outside_the_installation(tmp_path: Path) -> None:
    # A fresh interpreter, so that the schema is loaded inside the audited call.
    done = subprocess.run(
        [sys.executable, "-c", _AUDITED_CHECK],
        input=encode(valid()),
        capture_output=True,
        cwd=tmp_path,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["problems"] == 0
    events = report["events"]
    assert [event for event, _ in events if event != "open"] == []
    opened = [Path(path).resolve() for _, path in events]
    assert any(path.name == "cds_energy.json" for path in opened)  # the audit sees the schema
    package = Path(nem2cdr.__file__).resolve().parent
    installation = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    outside = [
        path
        for path in opened
        if not path.is_relative_to(package) and not any(map(path.is_relative_to, installation))
    ]
    assert outside == []
    assert not [path for path in opened if "shared" in path.parts]


# -- valid payloads -----------------------------------------------------------------------------


def test_a_hand_built_response_is_valid() -> None:
    assert nem2cdr.check(encode(valid())) == []


def test_a_path_is_read_like_its_bytes(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(encode(valid()))
    bad.write_bytes(b"{")
    assert nem2cdr.check(good) == []
    assert nem2cdr.check(str(good)) == []
    assert [problem.code for problem in nem2cdr.check(bad)] == ["CDR-E001"]


def test_an_empty_response_is_valid() -> None:
    payload = valid()
    payload["data"]["reads"] = []
    payload["meta"] = {"totalRecords": 0, "totalPages": 0}
    assert problems(payload) == []


def test_optional_fields_may_be_left_out() -> None:
    # Only servicePointId, registerSuffix, readStartDate, readUType and its object are required.
    payload = valid()
    for read in reads(payload):
        for field in ("registerId", "meterId", "readEndDate", "unitOfMeasure"):
            read.pop(field, None)
    del reads(payload)[2]["basicRead"]["quality"]
    assert problems(payload) == []


def test_a_page_in_the_middle_may_list_fewer_reads_than_the_total() -> None:
    payload = valid()
    payload["meta"] = {"totalRecords": 30, "totalPages": 10}
    links = payload["links"]
    for name, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 10)):
        links[name] = f"{links['self']}?page={page}&page-size=3"
    assert problems(payload) == []


def test_equal_read_start_dates_of_one_service_point_are_in_order() -> None:
    # Two registers of one NMI on the same day: ties are ordered by registerSuffix, not date.
    payload = valid()
    second = copy.deepcopy(reads(payload)[0])
    second["registerSuffix"] = "B1"
    second["intervalRead"]["aggregateValue"] = -24
    second["intervalRead"]["intervalReads"] = [-0.5] * 48
    reads(payload).insert(0, second)
    payload["meta"]["totalRecords"] = 4
    assert problems(payload) == []


# -- CDR-E001 not JSON --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b'{"data": {"reads": [}', b"\xff\xfe\xfa", b"<html>503</html>", b"{'a': 1}"],
    ids=["empty", "brace", "truncated", "not-utf8", "html", "python-dict"],
)
def test_not_json_is_e001_at_the_root(data: bytes) -> None:
    assert problems(data) == [("CDR-E001", "$")]


# -- CDR-E002 the official schema ---------------------------------------------------------------


def test_a_missing_required_field_is_e002_at_its_object() -> None:
    assert broken(lambda p: reads(p)[0].pop("servicePointId")) == [("CDR-E002", READ0)]
    assert broken(lambda p: reads(p)[2]["basicRead"].pop("value")) == [
        ("CDR-E002", "$.data.reads[2].basicRead")
    ]
    assert broken(lambda p: p.pop("meta")) == [("CDR-E002", "$")]


def test_a_quality_outside_the_enum_is_e002() -> None:
    def estimated(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["readQualities"][1]["quality"] = "ESTIMATED"

    assert broken(estimated) == [("CDR-E002", f"{INTERVAL0}.readQualities[1].quality")]


def test_actual_is_no_interval_quality_but_is_a_basic_read_quality() -> None:
    # readQualities lists only what is not ACTUAL: the enum there has no ACTUAL.
    def actual(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["readQualities"][0]["quality"] = "ACTUAL"

    assert broken(actual) == [("CDR-E002", f"{INTERVAL0}.readQualities[0].quality")]

    def lowercase(payload: dict[str, Json]) -> None:
        reads(payload)[2]["basicRead"]["quality"] = "actual"

    assert broken(lowercase) == [("CDR-E002", "$.data.reads[2].basicRead.quality")]


def test_a_wrong_type_is_e002_at_the_value() -> None:
    def text_aggregate(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["aggregateValue"] = "24"

    def float_length(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["readIntervalLength"] = 30.5

    def numeric_suffix(payload: dict[str, Json]) -> None:
        reads(payload)[1]["registerSuffix"] = 1

    def text_records(payload: dict[str, Json]) -> None:
        payload["meta"]["totalRecords"] = "3"

    assert broken(text_aggregate) == [("CDR-E002", f"{INTERVAL0}.aggregateValue")]
    # 30.5 is no integer (and so no interval length: intervalReads lose their count).
    assert broken(float_length) == [
        ("CDR-E002", f"{INTERVAL0}.readIntervalLength"),
        ("CDR-E004", f"{INTERVAL0}.readIntervalLength"),
    ]
    assert broken(numeric_suffix) == [("CDR-E002", "$.data.reads[1].registerSuffix")]
    assert broken(text_records) == [("CDR-E002", "$.meta.totalRecords")]


def test_a_boolean_is_not_a_number() -> None:
    def boolean(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["intervalReads"][5] = True

    assert broken(boolean) == [("CDR-E002", f"{INTERVAL0}.intervalReads[5]")]


def test_links_without_self_is_e002() -> None:
    assert broken(lambda p: p["links"].pop("self")) == [("CDR-E002", "$.links")]


def test_a_read_utype_outside_the_enum_is_e002_and_its_object_is_unexpected() -> None:
    def meter(payload: dict[str, Json]) -> None:
        reads(payload)[1]["readUType"] = "meterRead"

    assert broken(meter) == [
        ("CDR-E002", "$.data.reads[1].readUType"),
        ("CDR-E003", "$.data.reads[1].intervalRead"),
    ]


# -- CDR-E003 readUType union -------------------------------------------------------------------


def test_a_basic_read_under_read_utype_interval_read_is_e003() -> None:
    def relabelled(payload: dict[str, Json]) -> None:
        reads(payload)[2]["readUType"] = "intervalRead"

    # Both halves of the union are wrong: intervalRead is missing, basicRead is not allowed.
    assert broken(relabelled) == [
        ("CDR-E003", "$.data.reads[2].basicRead"),
        ("CDR-E003", "$.data.reads[2].intervalRead"),
    ]


def test_a_basic_read_beside_the_interval_read_is_e003() -> None:
    def both(payload: dict[str, Json]) -> None:
        reads(payload)[1]["basicRead"] = {"value": 12.5}

    assert broken(both) == [("CDR-E003", "$.data.reads[1].basicRead")]


def test_an_interval_read_missing_under_its_read_utype_is_e003() -> None:
    assert broken(lambda p: reads(p)[1].pop("intervalRead")) == [
        ("CDR-E003", "$.data.reads[1].intervalRead")
    ]


# -- CDR-E004 interval count --------------------------------------------------------------------


def test_47_half_hours_are_e004() -> None:
    def short(payload: dict[str, Json]) -> None:
        interval = reads(payload)[0]["intervalRead"]
        interval["intervalReads"].pop()
        interval["aggregateValue"] = 23.5  # still the exact sum: only the count is wrong

    assert broken(short) == [("CDR-E004", f"{INTERVAL0}.intervalReads")]


def test_48_values_of_15_minutes_are_e004() -> None:
    def quarter(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["readIntervalLength"] = 15

    assert broken(quarter) == [("CDR-E004", f"{INTERVAL0}.intervalReads")]


@pytest.mark.parametrize("length", [7, 11, 2000])
def test_an_interval_length_that_does_not_divide_the_day_is_e004(length: int) -> None:
    def odd(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["readIntervalLength"] = length

    assert broken(odd) == [("CDR-E004", f"{INTERVAL0}.readIntervalLength")]


def test_interval_reads_without_an_interval_length_are_e004() -> None:
    assert broken(lambda p: reads(p)[0]["intervalRead"].pop("readIntervalLength")) == [
        ("CDR-E004", f"{INTERVAL0}.readIntervalLength")
    ]


@pytest.mark.parametrize("length", [1, 5, 10, 15, 30, 60, 1440])
def test_any_length_that_divides_the_day_is_valid_with_its_count(length: int) -> None:
    values = ["0.25"] * (1440 // length)
    assert problems(with_interval(values, str(Decimal("0.25") * len(values)))) == []


# -- CDR-E005 exact aggregateValue --------------------------------------------------------------


def test_an_aggregate_that_is_not_the_sum_is_e005() -> None:
    def off(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["aggregateValue"] = 24.001

    assert broken(off) == [("CDR-E005", f"{INTERVAL0}.aggregateValue")]


def test_the_sum_is_exact_decimal_not_float() -> None:
    # In floats 0.1 + 0.2 is 0.30000000000000004; in the decimals the JSON denotes, it is 0.3.
    assert problems(with_interval(["0.1", "0.2"], "0.3")) == []
    assert problems(with_interval(["0.1", "0.2"], "0.30000000000000004")) == [
        ("CDR-E005", f"{INTERVAL0}.aggregateValue")
    ]


def test_trailing_zeros_and_exponents_denote_the_same_decimal() -> None:
    assert problems(with_interval(["1.500", "0.5"], "2.0000")) == []
    assert problems(with_interval(["1E-3", "2e-3"], "0.003")) == []
    assert problems(with_interval(["-0.048", "0.048"], "0")) == []


def test_export_sums_negative() -> None:
    assert problems(with_interval(["-1.25", "-0.75", "0"], "-2")) == []
    assert problems(with_interval(["-1.25", "-0.75", "0"], "2")) == [
        ("CDR-E005", f"{INTERVAL0}.aggregateValue")
    ]


_DECIMALS = st.decimals(
    min_value=Decimal("-9999999999.99999"),
    max_value=Decimal("9999999999.99999"),
    places=5,
    allow_nan=False,
    allow_infinity=False,
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([1, 2, 3, 4, 6, 8, 12, 16, 24, 48, 96, 288]).flatmap(
        lambda count: st.lists(_DECIMALS, min_size=count, max_size=count)
    )
)
def test_the_exact_sum_passes_and_one_unit_off_fails(values: list[Decimal]) -> None:
    # NUM(15,5)-sized values, as NEM12 carries: the exact sum, and the exact sum +- 0.00001.
    total = sum(values, Decimal(0))
    texts = [str(value) for value in values]
    assert problems(with_interval(texts, str(total))) == []
    for off in (Decimal("0.00001"), Decimal("-0.00001")):
        assert problems(with_interval(texts, str(total + off))) == [
            ("CDR-E005", f"{INTERVAL0}.aggregateValue")
        ]


def test_the_sum_is_exact_beyond_28_significant_digits() -> None:
    values = ["1", "0.0000000000000000000000000001"]  # the exact sum has 29 digits
    assert problems(with_interval(values, "1.0000000000000000000000000001")) == []
    assert problems(with_interval(values, "1")) == [("CDR-E005", f"{INTERVAL0}.aggregateValue")]


def test_an_aggregate_only_read_has_nothing_to_add_up() -> None:
    # interval-reads NONE: no intervalReads, so any aggregateValue stands.
    def different(payload: dict[str, Json]) -> None:
        reads(payload)[1]["intervalRead"]["aggregateValue"] = -3.75

    assert broken(different) == []


# -- CDR-E006 and CDR-E007 readQualities --------------------------------------------------------


def quality(start: int, end: int, value: str = "SUBSTITUTE") -> dict[str, Json]:
    return {"startInterval": start, "endInterval": end, "quality": value}


def with_qualities(*ranges: dict[str, Json]) -> Pairs:
    def put(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["readQualities"] = list(ranges)

    return broken(put)


QUALITIES = f"{INTERVAL0}.readQualities"


def test_ranges_covering_the_whole_day_and_touching_are_valid() -> None:
    assert with_qualities(quality(1, 48)) == []
    assert with_qualities(quality(1, 1), quality(2, 47, "FINAL_SUBSTITUTE"), quality(48, 48)) == []
    # Listed out of order, still not overlapping.
    assert with_qualities(quality(30, 48), quality(1, 29)) == []


@pytest.mark.parametrize(
    ("start", "end"),
    [(40, 49), (49, 49), (0, 4), (-1, 2), (5, 3)],
    ids=["past-the-end", "after-the-end", "zero", "negative", "reversed"],
)
def test_a_range_outside_1_to_n_or_reversed_is_e006(start: int, end: int) -> None:
    assert with_qualities(quality(20, 30), quality(start, end)) == [("CDR-E006", f"{QUALITIES}[1]")]


def test_without_an_interval_length_a_range_must_still_not_be_reversed() -> None:
    def only_qualities(payload: dict[str, Json]) -> None:
        reads(payload)[1]["intervalRead"]["readQualities"] = [quality(1, 4), quality(9, 8)]

    assert broken(only_qualities) == [("CDR-E006", "$.data.reads[1].intervalRead.readQualities[1]")]


def test_overlapping_ranges_are_e007_at_the_later_one() -> None:
    assert with_qualities(quality(1, 4), quality(4, 6, "FINAL_SUBSTITUTE")) == [
        ("CDR-E007", f"{QUALITIES}[1]")
    ]
    # Listed in reverse, the one that starts later is named.
    assert with_qualities(quality(10, 20), quality(1, 10)) == [("CDR-E007", f"{QUALITIES}[0]")]
    assert with_qualities(quality(5, 5), quality(5, 5)) != []


def test_a_range_inside_another_is_e007() -> None:
    assert with_qualities(quality(1, 48), quality(10, 12)) == [("CDR-E007", f"{QUALITIES}[1]")]


def test_every_range_that_overlaps_an_earlier_one_is_e007() -> None:
    assert with_qualities(quality(1, 10), quality(2, 3), quality(5, 6)) == [
        ("CDR-E007", f"{QUALITIES}[1]"),
        ("CDR-E007", f"{QUALITIES}[2]"),
    ]


# -- CDR-E008 dates -----------------------------------------------------------------------------


def test_a_read_end_date_before_the_start_is_e008() -> None:
    def reversed_dates(payload: dict[str, Json]) -> None:
        reads(payload)[2]["readEndDate"] = "2023-09-30"

    assert broken(reversed_dates) == [("CDR-E008", "$.data.reads[2].readEndDate")]


@pytest.mark.parametrize("text", ["2024-02-30", "20240101", "2024-1-01", "01/01/2024", ""])
def test_a_read_start_date_that_is_no_yyyy_mm_dd_date_is_e008(text: str) -> None:
    def bad(payload: dict[str, Json]) -> None:
        reads(payload)[2]["readStartDate"] = text

    assert broken(bad) == [("CDR-E008", "$.data.reads[2].readStartDate")]


def test_an_invalid_read_end_date_is_e008() -> None:
    def bad(payload: dict[str, Json]) -> None:
        reads(payload)[2]["readEndDate"] = "2023-12-32"

    assert broken(bad) == [("CDR-E008", "$.data.reads[2].readEndDate")]


def test_a_missing_read_start_date_is_both_a_schema_and_a_date_problem() -> None:
    assert broken(lambda p: reads(p)[2].pop("readStartDate")) == [
        ("CDR-E002", "$.data.reads[2]"),
        ("CDR-E008", "$.data.reads[2].readStartDate"),
    ]


def test_an_iso_week_date_is_no_date_string() -> None:
    def week(payload: dict[str, Json]) -> None:
        reads(payload)[2]["readStartDate"] = "2023-W40-1"

    assert broken(week) == [("CDR-E008", "$.data.reads[2].readStartDate")]


# -- CDR-E009 order -----------------------------------------------------------------------------


def test_an_older_day_before_a_newer_one_of_the_same_service_point_is_e009() -> None:
    def ascending(payload: dict[str, Json]) -> None:
        first = reads(payload)[0]
        first["readStartDate"] = first["readEndDate"] = "2023-12-31"

    assert broken(ascending) == [("CDR-E009", "$.data.reads[1].readStartDate")]


def test_a_new_service_point_starts_its_own_order() -> None:
    def older_second_point(payload: dict[str, Json]) -> None:
        reads(payload)[2]["readStartDate"] = "2024-06-01"  # later than sp-1's last read
        reads(payload)[2]["readEndDate"] = "2024-06-30"

    assert broken(older_second_point) == []


# -- CDR-E010 meta ------------------------------------------------------------------------------


def test_no_records_on_one_page_is_e010() -> None:
    def empty(payload: dict[str, Json]) -> None:
        payload["data"]["reads"] = []
        payload["meta"] = {"totalRecords": 0, "totalPages": 1}

    assert broken(empty) == [("CDR-E010", "$.meta.totalPages")]


def test_records_on_no_page_is_e010() -> None:
    def none(payload: dict[str, Json]) -> None:
        payload["meta"]["totalPages"] = 0

    assert broken(none) == [("CDR-E010", "$.meta.totalPages")]


def test_more_reads_listed_than_records_is_e010() -> None:
    def fewer(payload: dict[str, Json]) -> None:
        payload["meta"]["totalRecords"] = 2

    assert broken(fewer) == [("CDR-E010", "$.meta.totalRecords")]


def test_more_pages_than_records_is_e010() -> None:
    def many(payload: dict[str, Json]) -> None:
        payload["meta"] = {"totalRecords": 3, "totalPages": 4}

    assert broken(many) == [("CDR-E010", "$.meta.totalPages")]


def test_the_only_page_lists_every_record() -> None:
    def missing(payload: dict[str, Json]) -> None:
        payload["meta"] = {"totalRecords": 5, "totalPages": 1}

    assert broken(missing) == [("CDR-E010", "$.meta.totalRecords")]


# -- every code -------------------------------------------------------------------------------


def test_each_check_code_has_a_test_here() -> None:
    here = Path(__file__).parent.glob("test_check*.py")
    tested = {code for path in here for code in re.findall(r"CDR-E\d{3}", path.read_text("utf-8"))}
    assert set(CHECKS) <= tested
    assert sorted(CHECKS) == [f"CDR-E{n:03d}" for n in range(1, 21)]


def test_problems_on_several_reads_are_all_reported() -> None:
    def many(payload: dict[str, Json]) -> None:
        reads(payload)[0]["intervalRead"]["aggregateValue"] = 1
        reads(payload)[1]["readEndDate"] = "2023-01-01"
        reads(payload)[2]["basicRead"]["quality"] = "ESTIMATE"

    assert broken(many) == [
        ("CDR-E002", "$.data.reads[2].basicRead.quality"),
        ("CDR-E005", f"{INTERVAL0}.aggregateValue"),
        ("CDR-E008", "$.data.reads[1].readEndDate"),
    ]


# -- JSON Lines -------------------------------------------------------------------------------


def jsonl(lines: list[Json]) -> bytes:
    return b"".join(encode(line) + b"\n" for line in lines)


def test_json_lines_of_reads_are_valid() -> None:
    assert problems(jsonl(reads(valid()))) == []
    assert problems(jsonl(reads(valid())).replace(b"\n", b"\r\n")) == []


def test_json_lines_are_checked_line_by_line() -> None:
    lines = copy.deepcopy(reads(valid()))
    lines[1]["intervalRead"]["readQualities"] = [quality(2, 1)]
    lines[2]["readUType"] = "intervalRead"
    assert problems(jsonl(lines)) == [
        ("CDR-E003", "$[2].basicRead"),
        ("CDR-E003", "$[2].intervalRead"),
        ("CDR-E006", "$[1].intervalRead.readQualities[0]"),
    ]


def test_a_json_line_that_is_no_json_or_no_read() -> None:
    lines = reads(valid())
    data = encode(lines[0]) + b"\n{not json\n" + encode(lines[1]) + b"\n[]\n"
    assert problems(data) == [("CDR-E001", "$[1]"), ("CDR-E002", "$[3]")]


def test_a_json_line_missing_a_required_field() -> None:
    lines = copy.deepcopy(reads(valid()))
    del lines[0]["registerSuffix"]
    lines[1]["intervalRead"]["aggregateValue"] = "12.5"
    assert problems(jsonl(lines)) == [
        ("CDR-E002", "$[0]"),
        ("CDR-E002", "$[1].intervalRead.aggregateValue"),
    ]


def test_json_lines_of_one_read_are_valid() -> None:
    text = (
        "100,NEM12,202401020300,MDP1,RETAILER\r\n"
        "200,6102000001,E1,1,E1,N1,METER1,kWh,30,\r\n"
        f"300,20240101,{','.join(['0.5'] * 48)},A,,,20240102030000,20240102040000\r\n"
        "900\r\n"
    )
    out = io.BytesIO()
    assert nem2cdr.convert(io.BytesIO(text.encode()), out, jsonl=True).ok
    assert out.getvalue().count(b"\n") == 1
    assert nem2cdr.check(out.getvalue()) == []


# -- never a crash ------------------------------------------------------------------------------

VALID_BYTES = encode(valid())
PRETTY_BYTES = json.dumps(valid(), indent=2).encode()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_give_problems_never_an_exception(data: bytes) -> None:
    found = nem2cdr.check(data)
    assert all(isinstance(problem, nem2cdr.Diagnostic) for problem in found)
    assert all(problem.code in CHECKS for problem in found)


@settings(max_examples=200)
@given(st.data())
def test_a_truncated_payload_is_e001(data: st.DataObject) -> None:
    # One line: every proper prefix of a JSON object is not JSON.
    cut = data.draw(st.integers(0, len(VALID_BYTES) - 1))
    assert problems(VALID_BYTES[:cut]) == [("CDR-E001", "$")]


@settings(max_examples=200)
@given(st.data())
def test_a_truncated_pretty_payload_has_problems(data: st.DataObject) -> None:
    # Several lines: the checker tries them as JSON Lines, and its first line "{" is no JSON.
    cut = data.draw(st.integers(0, len(PRETTY_BYTES) - 2))
    found = nem2cdr.check(PRETTY_BYTES[:cut])
    assert found != []
    assert {problem.code for problem in found} <= set(CHECKS)


@settings(max_examples=300)
@given(st.data())
def test_changed_bytes_give_problems_or_none_never_an_exception(data: st.DataObject) -> None:
    payload = bytearray(data.draw(st.sampled_from([VALID_BYTES, PRETTY_BYTES])))
    for _ in range(data.draw(st.integers(1, 8))):
        payload[data.draw(st.integers(0, len(payload) - 1))] = data.draw(st.integers(0, 255))
    found = nem2cdr.check(bytes(payload))
    assert all(problem.code in CHECKS for problem in found)


_ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_FIELDS = [
    ["data"],
    ["data", "reads"],
    ["links"],
    ["meta"],
    ["meta", "totalPages"],
    ["data", "reads", 0],
    ["data", "reads", 0, "readUType"],
    ["data", "reads", 0, "readStartDate"],
    ["data", "reads", 0, "intervalRead"],
    ["data", "reads", 0, "intervalRead", "readIntervalLength"],
    ["data", "reads", 0, "intervalRead", "intervalReads"],
    ["data", "reads", 0, "intervalRead", "aggregateValue"],
    ["data", "reads", 0, "intervalRead", "readQualities"],
    ["data", "reads", 0, "intervalRead", "readQualities", 0],
    ["data", "reads", 0, "intervalRead", "readQualities", 0, "startInterval"],
    ["data", "reads", 2, "basicRead"],
    ["data", "reads", 1, "servicePointId"],
]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_FIELDS), _ANY_JSON)
def test_any_json_in_any_place_gives_problems_never_an_exception(
    where: list[str | int], value: Json
) -> None:
    payload: Json = valid()
    target = payload
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    found = nem2cdr.check(encode(payload))
    assert all(problem.code in CHECKS for problem in found)


@settings(max_examples=100)
@given(_ANY_JSON)
def test_any_json_document_gives_problems_never_an_exception(value: Json) -> None:
    found = nem2cdr.check(encode(value))
    assert found or (isinstance(value, dict) and {"data", "links", "meta"} <= set(value))
    assert all(problem.code in CHECKS for problem in found)


def test_deeply_nested_brackets_are_a_problem_not_an_exception() -> None:
    assert problems(b"[" * 100_000 + b"]" * 100_000) != []


_BOUNDED_CHECK = """
import resource, sys
import nem2cdr
payload = sys.stdin.buffer.read()
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # 1 GiB for everything
found = nem2cdr.check(payload)
print(max((len(problem.message) for problem in found), default=0))
"""


@pytest.mark.parametrize(
    ("values", "aggregate"),
    [(["1e999999999", "0"], "0"), (["1", "1e-999999999"], "1")],
    ids=["huge", "tiny"],
)
def test_a_huge_exponent_is_checked_in_bounded_memory(values: list[str], aggregate: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BOUNDED_CHECK],
        input=with_interval(values, aggregate),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()[-300:]
    assert int(done.stdout) < 1000  # a problem message is a line, not the whole number


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(constant: str) -> None:
    assert problems(with_interval(["1", "2"], constant)) != []


@pytest.mark.parametrize(
    ("values", "aggregate"),
    [(["1e101", "0"], "1e101"), (["1", "1e-101"], "1"), (["1", "2"], "3e200")],
)
def test_a_number_too_wild_to_add_up_is_e011_not_a_wrong_sum(
    values: list[str], aggregate: str
) -> None:
    assert problems(with_interval(values, aggregate)) == [
        ("CDR-E011", f"{INTERVAL0}.intervalReads")
    ]


def test_exponents_up_to_100_are_still_added_exactly() -> None:
    assert problems(with_interval(["1e100", "1e-100"], "1e100")) == [
        ("CDR-E005", f"{INTERVAL0}.aggregateValue")
    ]
    exact = "1" + "0" * 99 + "." + "0" * 99 + "1"
    assert problems(with_interval(["1e99", "1e-100"], exact)) == []


def test_a_file_that_cannot_be_read_is_e012(tmp_path: Path) -> None:
    [problem] = nem2cdr.check(tmp_path / "missing.json")
    assert (problem.code, problem.where) == ("CDR-E012", "$")
    assert "missing.json" in problem.message


# -- the CLI ------------------------------------------------------------------------------------


def run(*args: str, input: bytes | None = None) -> Result:
    result = CliRunner().invoke(cli, ["check", *args], input=input)
    # CliRunner turns an escaped exception into exit 1 too: only SystemExit is a real exit.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    path = tmp_path / "good.json"
    path.write_bytes(encode(valid()))
    return path


@pytest.fixture
def bad_file(tmp_path: Path) -> Path:
    payload = valid()
    reads(payload)[0]["intervalRead"]["aggregateValue"] = 25
    path = tmp_path / "bad.json"
    path.write_bytes(encode(payload))
    return path


def test_cli_exit_0_on_a_valid_file(good_file: Path) -> None:
    result = run(str(good_file))
    assert result.exit_code == 0
    assert result.output.split() == ["ok", str(good_file)]


def test_cli_exit_1_with_the_problem_listed(bad_file: Path) -> None:
    result = run(str(bad_file))
    assert result.exit_code == 1
    assert "CDR-E005" in result.output
    assert f"{INTERVAL0}.aggregateValue" in result.output


def test_cli_json_names_file_and_problems(good_file: Path, bad_file: Path) -> None:
    result = run("--format", "json", str(good_file), str(bad_file))
    assert result.exit_code == 1
    reports = json.loads(result.output)
    assert [report["file"] for report in reports] == [str(good_file), str(bad_file)]
    assert reports[0]["problems"] == []
    [problem] = reports[1]["problems"]
    # The one finding type, fields in its order: code, file, line, where, message.
    assert list(problem) == ["code", "file", "line", "where", "message"]
    assert (problem["code"], problem["file"], problem["line"], problem["where"]) == (
        "CDR-E005",
        str(bad_file),
        None,
        f"{INTERVAL0}.aggregateValue",
    )
    assert "24" in problem["message"] and "25" in problem["message"]


def test_cli_json_exit_0_when_all_valid(good_file: Path) -> None:
    result = run("--format", "json", str(good_file), str(good_file))
    assert result.exit_code == 0
    assert json.loads(result.output) == [{"file": str(good_file), "problems": []}] * 2


def test_cli_reads_standard_input() -> None:
    assert run("-", input=VALID_BYTES).exit_code == 0
    result = run("--format", "json", "-", input=VALID_BYTES[:-1])
    assert result.exit_code == 1
    [report] = json.loads(result.output)
    assert report["file"] == "-"
    assert [problem["code"] for problem in report["problems"]] == ["CDR-E001"]


def test_cli_checks_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "reads.jsonl"
    path.write_bytes(jsonl(reads(valid())))
    assert run(str(path)).exit_code == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=200)
    | st.sampled_from([VALID_BYTES, PRETTY_BYTES]).flatmap(
        lambda payload: st.integers(0, len(payload)).map(lambda cut: payload[:cut])
    )
)
def test_cli_never_a_traceback_on_garbage(data: bytes) -> None:
    result = run("--format", "json", "-", input=data)
    [report] = json.loads(result.output)
    assert result.exit_code == (1 if report["problems"] else 0)


def test_cli_a_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    result = run(str(tmp_path / "missing.json"))
    assert result.exit_code in (1, 2)
