"""The rules ``check`` had missed, and the standard's null convention, case by case.

Each case breaks (or keeps valid) the hand-built response of ``test_check.valid`` in one place
and names exactly the (code, JSON path) pairs that must come back; every case runs through the
library and through ``nem2cdr check`` on a file. The reasons for the cases the standard leaves
to be read closely are in docs/cdr-mapping.md ("What check adds to the schema").
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest

import nem2cdr
from tests.test_check import INTERVAL0, READ0, Json, Pairs, encode, problems, reads, run, valid

SELF = "https://data.holder.example/cds-au/v1/energy/usage"
Change = Callable[[dict[str, Json]], object]


def _set(path: list[str | int], value: Json) -> Change:
    """Set the member at ``path`` (from the root) to ``value``."""

    def change(payload: dict[str, Json]) -> None:
        target: Json = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _then(*changes: Change) -> Change:
    def change(payload: dict[str, Json]) -> None:
        for each in changes:
            each(payload)

    return change


def _paged(page: int, pages: int, size: int, listed: int, *present: str) -> Change:
    """Page ``page`` of ``pages`` with ``size`` records a page, ``listed`` copies of the
    aggregate-only read, and only the ``present`` links beside ``self``."""

    def change(payload: dict[str, Json]) -> None:
        one = reads(payload)[1]
        payload["data"]["reads"] = [copy.deepcopy(one) for _ in range(listed)]
        payload["meta"] = {"totalRecords": (pages - 1) * size + listed, "totalPages": pages}
        links = {"self": f"{SELF}?page={page}&page-size={size}"}
        targets = {"first": 1, "prev": page - 1, "next": page + 1, "last": pages}
        links |= {name: f"{SELF}?page={targets[name]}&page-size={size}" for name in present}
        payload["links"] = links

    return change


def _multi_day(values: int, end: str = "2024-01-03") -> Change:
    def change(payload: dict[str, Json]) -> None:
        read = reads(payload)[0]
        read["readStartDate"], read["readEndDate"] = "2024-01-02", end
        read["intervalRead"] = {
            "readIntervalLength": 30,
            "aggregateValue": values // 2,
            "intervalReads": [0.5] * values,
            "readQualities": [{"startInterval": 90, "endInterval": 96, "quality": "SUBSTITUTE"}],
        }
        reads(payload)[1]["readStartDate"] = "2024-01-01"

    return change


def _a_b_a(payload: dict[str, Json]) -> None:
    reads(payload)[2]["readStartDate"] = "2023-12-31"
    reads(payload).append(copy.deepcopy(reads(payload)[1]))
    reads(payload)[3]["readStartDate"] = "2023-12-01"
    payload["meta"]["totalRecords"] = 4


NULL = None
# name: (change, the problems it must give)
CASES: dict[str, tuple[Change, Pairs]] = {
    # -- null means absent: valid wherever the field is optional -------------------------------
    "null-register-id": (_set(["data", "reads", 0, "registerId"], NULL), []),
    "null-meter-id": (_set(["data", "reads", 0, "meterId"], NULL), []),
    "null-controlled-load": (_set(["data", "reads", 0, "controlledLoad"], NULL), []),
    "null-read-end-date": (_set(["data", "reads", 2, "readEndDate"], NULL), []),
    "null-unit": (_set(["data", "reads", 2, "unitOfMeasure"], NULL), []),
    "null-other-union-member-of-basic": (_set(["data", "reads", 2, "intervalRead"], NULL), []),
    "null-other-union-member-of-interval": (_set(["data", "reads", 0, "basicRead"], NULL), []),
    "null-basic-quality": (_set(["data", "reads", 2, "basicRead", "quality"], NULL), []),
    "null-interval-length-without-values": (
        _set(["data", "reads", 1, "intervalRead", "readIntervalLength"], NULL),
        [],
    ),
    "null-interval-reads": (_set(["data", "reads", 1, "intervalRead", "intervalReads"], NULL), []),
    "null-read-qualities": (_set(["data", "reads", 0, "intervalRead", "readQualities"], NULL), []),
    "null-links-first": (_set(["links", "first"], NULL), []),
    "null-links-prev": (_set(["links", "prev"], NULL), []),
    "null-links-next": (_set(["links", "next"], NULL), []),
    "null-links-last": (_set(["links", "last"], NULL), []),
    # -- null in a mandatory field is a missing field; in an array it is a wrong value ------
    "null-service-point-id": (
        _set(["data", "reads", 0, "servicePointId"], NULL),
        [("CDR-E002", READ0)],
    ),
    "null-aggregate": (
        _set(["data", "reads", 1, "intervalRead", "aggregateValue"], NULL),
        [("CDR-E002", "$.data.reads[1].intervalRead")],
    ),
    "null-links-self": (_set(["links", "self"], NULL), [("CDR-E002", "$.links")]),
    "null-meta": (_set(["meta"], NULL), [("CDR-E002", "$")]),
    "null-in-interval-reads": (
        _set(["data", "reads", 0, "intervalRead", "intervalReads", 5], NULL),
        [("CDR-E002", f"{INTERVAL0}.intervalReads[5]")],
    ),
    "null-interval-length-with-values": (
        _set(["data", "reads", 0, "intervalRead", "readIntervalLength"], NULL),
        [("CDR-E004", f"{INTERVAL0}.readIntervalLength")],
    ),
    # -- CDR-E014 servicePointId is an ASCIIString ---------------------------------------------
    "ascii-service-point-id": (_set(["data", "reads", 2, "servicePointId"], "SP-2_x.~"), []),
    "non-ascii-service-point-id": (
        _set(["data", "reads", 2, "servicePointId"], "sp-ü"),
        [("CDR-E014", "$.data.reads[2].servicePointId")],
    ),
    # -- CDR-E015 readIntervalLength is a PositiveInteger, with or without values ---------------
    "zero-length-without-values": (
        _set(["data", "reads", 1, "intervalRead", "readIntervalLength"], 0),
        [("CDR-E015", "$.data.reads[1].intervalRead.readIntervalLength")],
    ),
    "negative-length-without-values": (
        _set(["data", "reads", 1, "intervalRead", "readIntervalLength"], -30),
        [("CDR-E015", "$.data.reads[1].intervalRead.readIntervalLength")],
    ),
    "zero-length-with-values": (
        _set(["data", "reads", 0, "intervalRead", "readIntervalLength"], 0),
        [("CDR-E015", f"{INTERVAL0}.readIntervalLength")],
    ),
    "negative-length-with-values": (
        _set(["data", "reads", 0, "intervalRead", "readIntervalLength"], -30),
        [("CDR-E015", f"{INTERVAL0}.readIntervalLength")],
    ),
    "length-without-values": (
        _set(["data", "reads", 1, "intervalRead", "readIntervalLength"], 5),
        [],
    ),
    # -- a number with a fraction is no integer: OpenAPI 3.0's JSON Schema ---------------------
    "integer-written-30.0": (
        _set(["data", "reads", 1, "intervalRead", "readIntervalLength"], 30.0),
        [("CDR-E002", "$.data.reads[1].intervalRead.readIntervalLength")],
    ),
    # -- a multi-day interval read: the values run on from midnight of readStartDate ---------
    "two-days-of-96-half-hours": (_multi_day(96), []),
    "two-days-of-48-half-hours": (
        _multi_day(48),
        [("CDR-E004", f"{INTERVAL0}.intervalReads")],
    ),
    # -- both union members ------------------------------------------------------------------
    "both-union-members": (
        _set(["data", "reads", 2, "intervalRead"], {"aggregateValue": 1234.5}),
        [("CDR-E003", "$.data.reads[2].intervalRead")],
    ),
    # -- CDR-E016 one service point's reads together -----------------------------------------
    "service-points-a-b-a": (_a_b_a, [("CDR-E016", "$.data.reads[3].servicePointId")]),
    # -- CDR-E017 the links a page needs -------------------------------------------------------
    "middle-page-with-every-link": (_paged(2, 3, 2, 2, "first", "prev", "next", "last"), []),
    "first-page-with-next-and-last": (_paged(1, 3, 2, 2, "next", "last"), []),
    "last-page-with-first-and-prev": (_paged(3, 3, 2, 1, "first", "prev"), []),
    "later-page-without-first-and-prev": (
        _paged(3, 3, 2, 1),
        [("CDR-E017", "$.links.first"), ("CDR-E017", "$.links.prev")],
    ),
    "earlier-page-without-next-and-last": (
        _paged(2, 3, 2, 2, "first", "prev"),
        [("CDR-E017", "$.links.last"), ("CDR-E017", "$.links.next")],
    ),
    # -- CDR-E018 links are URIs ---------------------------------------------------------------
    "self-with-escapes-and-query": (_set(["links", "self"], f"{SELF}?a=%20b&c=d#e"), []),
    "self-no-uri": (_set(["links", "self"], "not a uri"), [("CDR-E018", "$.links.self")]),
    "self-relative": (_set(["links", "self"], "/cds-au/v1/usage"), [("CDR-E018", "$.links.self")]),
    "self-with-a-space": (_set(["links", "self"], f"{SELF} x"), [("CDR-E018", "$.links.self")]),
    "self-bad-escape": (_set(["links", "self"], f"{SELF}?%zz"), [("CDR-E018", "$.links.self")]),
    "next-no-uri": (_set(["links", "next"], "page 2"), [("CDR-E018", "$.links.next")]),
    # -- CDR-E019 at most 1,000 reads a page ---------------------------------------------------
    "1000-reads": (_paged(1, 1, 1000, 1000), []),
    "1001-reads": (
        _paged(1, 2, 1001, 1001, "next", "last"),
        [("CDR-E019", "$.data.reads")],
    ),
    "more-reads-than-the-page-size": (
        _then(_paged(1, 2, 2, 3, "next", "last"), _set(["meta", "totalRecords"], 4)),
        [("CDR-E019", "$.data.reads")],
    ),
    # -- CDR-E010 meta against the page size ----------------------------------------------------
    "negative-total-pages": (_set(["meta", "totalPages"], -1), [("CDR-E010", "$.meta.totalPages")]),
    "negative-total-records": (
        _set(["meta", "totalRecords"], -3),
        [("CDR-E010", "$.meta.totalRecords")],
    ),
    "too-few-pages-for-the-page-size": (
        _then(_paged(1, 2, 2, 2, "next", "last"), _set(["meta", "totalRecords"], 5)),
        [("CDR-E010", "$.meta.totalPages")],
    ),
    "pages-for-the-page-size": (_paged(1, 3, 2, 2, "next", "last"), []),
    "more-pages-than-the-page-size-gives": (
        _then(_paged(1, 3, 2, 2, "next", "last"), _set(["meta", "totalRecords"], 4)),
        [("CDR-E010", "$.meta.totalPages")],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_through_the_library(name: str) -> None:
    change, expected = CASES[name]
    payload = valid()
    change(payload)
    assert problems(payload) == expected


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_through_the_cli(name: str, tmp_path: Path) -> None:
    change, expected = CASES[name]
    payload = valid()
    change(payload)
    path = tmp_path / "usage.json"
    path.write_bytes(encode(payload))
    result = run("--format", "json", str(path))
    [report] = json.loads(result.output)
    assert sorted((found["code"], found["where"]) for found in report["problems"]) == expected
    assert result.exit_code == (1 if expected else 0)


# -- CDR-E013 a key twice in one object ---------------------------------------------------------


def _twice(text: bytes, member: bytes, again: bytes) -> bytes:
    """``text`` with ``again`` inserted after the first ``member``."""
    assert member in text
    return text.replace(member, member + again, 1)


def test_a_key_twice_in_one_object_is_e013_at_that_key() -> None:
    text = encode(valid())
    twice_meta = text[:-1] + b', "meta": {"totalRecords": 3, "totalPages": 1}}'
    assert problems(twice_meta) == [("CDR-E013", "$.meta")]
    twice_id = _twice(text, b'"servicePointId": "sp-2", ', b'"servicePointId": "sp-3", ')
    assert problems(twice_id) == [("CDR-E013", "$.data.reads[2].servicePointId")]
    # A null copy is a copy all the same: JSON leaves open which one counts.
    twice_null = _twice(text, b'"registerId": "1", ', b'"registerId": null, ')
    assert problems(twice_null) == [("CDR-E013", "$.data.reads[0].registerId")]


def test_the_same_key_in_different_objects_is_valid() -> None:
    assert problems(encode(valid())) == []  # servicePointId in every read, quality twice


def test_a_key_twice_in_a_json_line_is_e013() -> None:
    line = encode(reads(valid())[2])
    assert problems(_twice(line, b'"readUType": "basicRead", ', b'"readUType": "basicRead", ')) == [
        ("CDR-E013", "$[0].readUType")
    ]


def test_cli_names_a_key_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.json"
    path.write_bytes(encode(valid())[:-1] + b', "links": {"self": "https://x.example/"}}')
    result = run(str(path))
    assert result.exit_code == 1
    assert "CDR-E013 $.links" in result.output


# -- nulls in JSON Lines ------------------------------------------------------------------------


def test_null_optional_fields_in_json_lines_are_valid() -> None:
    lines = reads(valid())
    lines[0]["registerId"] = lines[2]["readEndDate"] = lines[1]["basicRead"] = None
    lines[2]["basicRead"]["quality"] = None
    assert problems(b"".join(encode(line) + b"\n" for line in lines)) == []


# -- messages in the payload's terms -----------------------------------------------------------


def messages(payload: dict[str, Json]) -> list[str]:
    return [problem.message for problem in nem2cdr.check(encode(payload))]


def test_messages_show_json_values_not_python_reprs() -> None:
    payload = valid()
    interval = reads(payload)[0]["intervalRead"]
    interval["readIntervalLength"] = 30.0
    interval["intervalReads"][3] = None
    reads(payload)[1]["controlledLoad"] = "yes"
    reads(payload)[2]["readUType"] = "intervalRead"
    text = "\n".join(messages(payload))
    assert "30.0 is not of type" in text
    assert "null is not of type" in text
    assert '"yes" is not of type "boolean"' in text
    assert 'readUType is "intervalRead"' in text
    for python in ("None", "Decimal(", "True", "False", "'"):
        assert python not in text


def test_a_missing_field_is_named_in_json() -> None:
    payload = valid()
    del reads(payload)[0]["registerSuffix"]
    assert messages(payload) == ['"registerSuffix" is required (absent or null)']


@pytest.mark.parametrize(
    "path",
    [
        ["data", "reads", 0, "servicePointId"],  # CDR-E014
        ["data", "reads", 2, "basicRead", "quality"],  # the enum
        ["links", "self"],  # CDR-E018
    ],
)
def test_a_huge_string_makes_a_short_message(path: list[str | int]) -> None:
    payload = valid()
    _set(path, "ü" * 5_000_000)(payload)
    [problem] = nem2cdr.check(encode(payload))
    assert len(problem.message) <= 300
    assert "5,000,000 characters" in problem.message


def test_a_huge_key_makes_a_short_path() -> None:
    key = b'"' + b"x" * 1_000_000 + b'": "https://x.example/", '
    [problem] = nem2cdr.check(_twice(encode(valid()), b'"links": {', key * 2))
    assert problem.code == "CDR-E013"
    assert len(problem.where or "") <= 300 and len(problem.message) <= 300
