"""How mmtlite's tables line up: text columns to the left, numbers to the right."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from mmtlite.migration_report import Conflict, ReasonCount, Report, TrancheProgress
from nem2cdr_cli.mmtlite_render import conflict_table, exclusion_table, tranche_table

REPORT = Report(
    env="build",
    generated_at="2024-05-01T12:00:00Z",
    meters=123_456,
    by_status={"0Z": 12_345},
    exclusions=[ReasonCount("0Z", "NONCOMM", "NC01", True, 12_345, 12_000, 345, 0.028)],
    conflicts=[Conflict("T1", "NONCOMM", "NC01", 1_234)],
    tranches=[
        TrancheProgress(
            "T1",
            "2024-05-01T12:00:00Z",
            100_000,
            99_876,
            54_321,
            {"1": 99_876},
            {"accepted": 98_000, "rejected": 1_000, "awaiting": 876},
            {"noted": 0, "ok": 0, "fail": 0, "awaiting": 0},
            {"notified": 0, "ok": 0, "fail": 0, "awaiting": 0},
            1_234,
            [],
        )
    ],
)


def rendered(table: Table) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(table)
    return out.getvalue().splitlines()


def test_status_and_site_wide_are_left_justified_numbers_right() -> None:
    justify = {str(column.header): column.justify for column in exclusion_table(REPORT).columns}
    assert justify == {
        "status": "left",
        "reason": "left",
        "code": "left",
        "description": "left",
        "site-wide": "left",
        "meters": "right",
        "direct": "right",
        "via site": "right",
        "site share": "right",
    }


def test_the_rendered_row_lines_up_with_its_headers() -> None:
    lines = rendered(exclusion_table(REPORT))
    [header] = [line for line in lines if "site-wide" in line]
    [row] = [line for line in lines if "NONCOMM" in line]
    # Left: a value starts where its header starts.
    assert row.index("0Z") == header.index("status")
    assert row.index("yes") == header.index("site-wide")
    # Right: a number ends where its header ends.
    assert row.index("12,345") + len("12,345") == header.index("meters") + len("meters")
    assert row.index("3%") + len("3%") == header.index("site share") + len("site share")


def test_the_conflicts_and_tranches_tables_right_justify_their_numbers() -> None:
    assert {str(c.header): c.justify for c in conflict_table(REPORT).columns} == {
        "tranche": "left",
        "reason": "left",
        "code": "left",
        "description": "left",
        "meters": "right",
    }
    justify = {str(c.header): c.justify for c in tranche_table(REPORT).columns}
    assert justify.pop("tranche") == justify.pop("selected") == "left"
    assert set(justify.values()) == {"right"}, justify
    lines = rendered(tranche_table(REPORT))
    [header] = [line for line in lines if "sites" in line]
    [row] = [line for line in lines if "T1" in line]
    assert row.index("54,321") + len("54,321") == header.index("sites") + len("sites")
    [header] = [line for line in rendered(conflict_table(REPORT)) if "reason" in line]
    [row] = [line for line in rendered(conflict_table(REPORT)) if "T1" in line]
    assert row.index("1,234") + len("1,234") == header.index("meters") + len("meters")
