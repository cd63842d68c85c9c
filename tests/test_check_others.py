"""Other producers' usage payloads (tests/data/others, provenance in its SOURCE.md): the verdict
the standard's text gives, and why, pinned as the codes ``check`` finds.

None of them is valid, and all pass the standards body's schemas: what they break lives in the
standard's prose (a DateString, a PositiveInteger that divides the day, the union, URIs).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import nem2cdr

OTHERS = Path(__file__).parent / "data" / "others"

VERDICTS = {
    # The standards body's test-data generator: readStartDate a date-time where a DateString is
    # due (E008); readIntervalLength drawn apart from the ten values, 7 or 53 minutes, no
    # divisor of the day (E004); quality ranges past the last interval (E006).
    "dsb-testdata-usage.json": {"CDR-E008": 25, "CDR-E004": 25, "CDR-E006": 5},
    # The Node mock data holder serves the same generator's data: the same faults.
    "dsb-mock-holder-nodejs-usage-1.33.0.json": {"CDR-E008": 25, "CDR-E004": 25, "CDR-E006": 5},
    # The standard's example, rendered from the schema: both union members (E003), "string"
    # for a date (E008) and for every link (E018), meta that does not match the one read (E010).
    "standards-example-usage.json": {"CDR-E003": 1, "CDR-E008": 1, "CDR-E018": 5, "CDR-E010": 1},
}


def test_every_file_has_a_verdict() -> None:
    assert sorted(path.name for path in OTHERS.glob("*.json")) == sorted(VERDICTS)


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_the_verdict_of_the_standard_s_text(name: str) -> None:
    found = nem2cdr.check(OTHERS / name)
    assert Counter(problem.code for problem in found) == VERDICTS[name]
    assert "CDR-E002" not in {problem.code for problem in found}  # the schema alone passes it
