"""Stable diagnostic codes, the one catalogue of them, and the collector the reader reports into.

Codes never change meaning once released: scripts match on them. ``NEM12-E`` codes are errors
(the affected day or record is skipped, never guessed); ``NEM12-W`` codes are deviations the
reader tolerates without losing anything, and become errors under ``strict``. ``CDR-E`` codes
are what ``check`` finds in a usage payload. Every code here is produced by some test, and no
code is produced that is not here (tests/conftest.py checks both at the end of a full run).
"""

from __future__ import annotations

from collections import Counter

from nem2cdr.model import Diagnostic, Severity

CODES: dict[str, str] = {
    # errors
    "NEM12-E001": "the file holds no data records",
    "NEM12-E002": "not an MDFF (NEM12/NEM13) file",
    "NEM12-E003": "unknown record indicator",
    "NEM12-E004": "record out of the grammar's order",
    "NEM12-E005": "malformed 200 record (its 300 rows are skipped)",
    "NEM12-E006": "malformed 100 header",
    "NEM12-E007": "the file cannot be read (I/O, zip or encoding failure)",
    "NEM12-E010": "invalid date or datetime",
    "NEM12-E011": "interval value is not a decimal number",
    "NEM12-E012": "wrong number of interval values for the 200's IntervalLength",
    "NEM12-E013": "negative interval value",
    "NEM12-E014": "value has more digits than the model carries exactly",
    "NEM12-E015": "invalid QualityMethod or ReasonCode",
    "NEM12-E016": "300 row broken across lines",
    "NEM12-E017": "more fields than the record has, and the extra ones are not empty",
    "NEM12-E018": "line longer than any record (1 MiB): skipped",
    "NEM12-E020": "QualityMethod V without 400 records",
    "NEM12-E021": "400 ranges overlap",
    "NEM12-E022": "400 ranges leave intervals uncovered",
    "NEM12-E023": "400 range runs past the number of intervals",
    "NEM12-E024": "400 record with QualityMethod V",
    "NEM12-E025": "malformed 400 record",
    "NEM12-E026": "400 records after a 300 whose QualityMethod is not V",
    "NEM12-E030": "malformed 250 record",
    "NEM12-E031": "malformed 500 or 550 record",
    "NEM12-E040": "record the CDR payload cannot carry as asked (convert)",
    # tolerated deviations
    "NEM12-W001": "no 100 header",
    "NEM12-W002": "no 900 end record",
    "NEM12-W003": "blank line",
    "NEM12-W004": "several 100..900 blocks in one file",
    "NEM12-W005": "trailing-comma padding",
    "NEM12-W006": "missing optional trailing fields",
    "NEM12-W007": "leading or trailing spaces in a datetime",
    "NEM12-W008": "decimal without a leading zero (.048)",
    "NEM12-W009": "UOM not in the spec's spelling",
    "NEM12-W010": "non-spec IntervalLength that divides 1440",
    "NEM12-W011": "the same (NMI, suffix, date) twice: the later UpdateDateTime wins",
    "NEM12-W012": "text field is not UTF-8 (read as Latin-1)",
    "NEM12-W013": "unknown UOM",
    "NEM12-W020": "null data (quality N) sent as SUBSTITUTE (convert)",
    # a usage payload (check)
    "CDR-E001": "not JSON",
    "CDR-E002": "not valid against the official schema",
    "CDR-E003": "readUType does not match basicRead / intervalRead",
    "CDR-E004": "intervalReads does not hold 1440 / readIntervalLength values",
    "CDR-E005": "aggregateValue is not the exact sum of intervalReads",
    "CDR-E006": "readQualities range outside 1..N or reversed",
    "CDR-E007": "readQualities ranges overlap",
    "CDR-E008": "invalid date, or readEndDate before readStartDate",
    "CDR-E009": "reads of one service point not in readStartDate descending order",
    "CDR-E010": "meta does not add up (negative, or pages against records and page size)",
    "CDR-E011": "a number too large or too small to add up exactly (|exponent| > 100)",
    "CDR-E012": "the file cannot be read",
    "CDR-E013": "an object holds the same key twice",
    "CDR-E014": "servicePointId is not ASCII (an ASCIIString)",
    "CDR-E015": "readIntervalLength is not a positive number of minutes",
    "CDR-E016": "one service point's reads are not together",
    "CDR-E017": "links lacks first/prev (not the first page) or next/last (not the last page)",
    "CDR-E018": "a link is not an absolute URI (URIString)",
    "CDR-E019": "more reads on one page than its page size (at most 1,000)",
    "CDR-E020": "more problems than check lists (the first 1,000 are listed, the rest counted)",
}

# Keep at most this many diagnostics of each severity in memory; the rest are counted. A garbage
# file of a gigabyte must not need gigabytes of diagnostics.
DEFAULT_KEEP = 1000


class Diagnostics:
    """Collects what the reader finds about one or more files."""

    def __init__(self, strict: bool = False, keep: int = DEFAULT_KEEP) -> None:
        self.strict = strict
        self.keep = keep
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.counts: Counter[Severity] = Counter()
        self.by_code: Counter[str] = Counter()

    def add(self, code: str, file: str, line: int | None, message: str) -> None:
        severity: Severity = "error" if code[6] == "E" or self.strict else "warning"
        self.counts[severity] += 1
        self.by_code[code] += 1
        kept = self.errors if severity == "error" else self.warnings
        if len(kept) < self.keep:
            kept.append(Diagnostic(code, file, line, None, message))

    def absorb(self, other: Diagnostics) -> None:
        """Add ``other``'s findings after these (the later part of the same file)."""
        for kept, theirs in ((self.errors, other.errors), (self.warnings, other.warnings)):
            kept.extend(theirs[: max(0, self.keep - len(kept))])
        self.counts.update(other.counts)
        self.by_code.update(other.by_code)

    @property
    def error_count(self) -> int:
        return self.counts["error"]

    @property
    def warning_count(self) -> int:
        return self.counts["warning"]

    @property
    def ok(self) -> bool:
        return self.counts["error"] == 0
