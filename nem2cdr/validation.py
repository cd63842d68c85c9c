"""``nem2cdr validate`` as a library call: read a file through and report what was found."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from nem2cdr.model import Diagnostic, Stats
from nem2cdr.reader import read
from nem2cdr.sources import Source


class ValidationReport(msgspec.Struct):
    """One file's findings and counts, as ``nem2cdr validate --format json`` prints them."""

    file: str
    ok: bool
    errors: list[Diagnostic]
    warnings: list[Diagnostic]
    stats: Stats
    # Diagnostics beyond the reader's keep limit are counted, not listed.
    errors_not_listed: int = 0
    warnings_not_listed: int = 0


def validate(
    source: Source,
    *,
    strict: bool = False,
    on_progress: Callable[[float], None] | None = None,
) -> ValidationReport:
    """Read ``source`` to the end, keeping only the diagnostics and the counts.

    ``on_progress(fraction)`` is called now and then with how much is read (0 to 1), when
    the size is known.
    """
    reader = read(source, strict=strict)
    for count, _ in enumerate(reader, 1):
        reader.progress.tick(count, on_progress)
    found = reader.diagnostics
    return ValidationReport(
        file=reader.name,
        ok=found.ok,
        errors=found.errors,
        warnings=found.warnings,
        stats=reader.stats,
        errors_not_listed=found.error_count - len(found.errors),
        warnings_not_listed=found.warning_count - len(found.warnings),
    )
