"""How mmtlite's tables line up: text columns to the left, numbers to the right."""

from __future__ import annotations

import io

from rich.console import Console

from mmtlite.migration_report import ReasonCount, Report
from nem2cdr_cli.mmtlite_render import exclusion_table

REPORT = Report(
    env="build",
    generated_at="2024-05-01T12:00:00Z",
    meters=123_456,
    by_status={"0Z": 12_345},
    exclusions=[ReasonCount("0Z", "NONCOMM", "NC01", True, 12_345, 12_000, 345, 0.028)],
    conflicts=[],
    tranches=[],
)


def rendered() -> list[str]:
    out = io.StringIO()
    Console(file=out, width=200, color_system=None).print(exclusion_table(REPORT))
    return out.getvalue().splitlines()


def test_status_and_site_wide_are_left_justified_numbers_right() -> None:
    justify = {str(column.header): column.justify for column in exclusion_table(REPORT).columns}
    assert justify == {
        "status": "left",
        "reason": "left",
        "code": "left",
        "site-wide": "left",
        "meters": "right",
        "direct": "right",
        "via site": "right",
        "site share": "right",
    }


def test_the_rendered_row_lines_up_with_its_headers() -> None:
    lines = rendered()
    [header] = [line for line in lines if "site-wide" in line]
    [row] = [line for line in lines if "NONCOMM" in line]
    # Left: a value starts where its header starts.
    assert row.index("0Z") == header.index("status")
    assert row.index("yes") == header.index("site-wide")
    # Right: a number ends where its header ends.
    assert row.index("12,345") + len("12,345") == header.index("meters") + len("meters")
    assert row.index("3%") + len("3%") == header.index("site share") + len("site share")
