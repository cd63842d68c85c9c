"""NEM12/NEM13 files as Arrow record batches and DataFrames: ``to_arrow``, ``to_polars``,
``to_pandas``.

``to_arrow`` streams: it returns a ``pyarrow.RecordBatchReader`` whose batches are built as the
files are read a second time, so a file of any size passes through in bounded memory (polars,
DuckDB and ``pyarrow.parquet`` take the reader as it is). The DataFrame functions gather every
batch into one frame. The libraries are optional extras: ``pip install 'nem2cdr[arrow]'``
(``[polars]``, ``[pandas]``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, cast

from nem2cdr.diagnostics import Diagnostics
from nem2cdr.sources import Source
from nem2cdr.survey import Input, Survey, second_read, survey
from nem2cdr.tables import BATCH_ROWS, Options, Shape, batches, check_width, need, schema

Sources = Source | Sequence[Source]


class ExportError(Exception):
    """The inputs have errors and ``keep_going`` was not given: nothing is exported.

    ``diagnostics`` holds every finding, as ``validate`` reports them.
    """

    def __init__(self, diagnostics: Diagnostics) -> None:
        self.diagnostics = diagnostics
        first = diagnostics.errors[0] if diagnostics.errors else None
        super().__init__(f"{diagnostics.error_count} errors, the first: {first}")


def as_list(sources: Sources) -> list[Source]:
    """One input or several, as a list."""
    if isinstance(sources, (str, os.PathLike)) or hasattr(sources, "read"):
        return [cast(Source, sources)]
    return list(sources)


def surveyed(
    sources: Sequence[Input],
    *,
    strict: bool,
    keep_going: bool,
    keep_superseded: bool,
    found: Survey | None = None,
) -> tuple[Survey, Options]:
    """The first read (unless ``found`` is its result already), and the tables' options from
    it; ``ExportError`` when the inputs have errors and ``keep_going`` is not given."""
    if found is None:
        found = survey(sources, strict=strict)
    if not found.diagnostics.ok and not keep_going:
        raise ExportError(found.diagnostics)
    check_width(found.digits)
    return found, Options(found.digits, keep_superseded)


def to_arrow(
    sources: Sources,
    shape: Shape = "long",
    *,
    keep_superseded: bool = False,
    keep_going: bool = False,
    strict: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> Any:
    """A ``pyarrow.RecordBatchReader`` of table ``shape`` of the inputs (read as one input).

    ``shape`` is ``"long"`` (a row per interval), ``"daily"`` (a row per NMI, suffix and day)
    or ``"accumulation"`` (a row per NEM13 read). The inputs are read once here (errors,
    superseded days, the decimals' width) and again as the batches are taken. Raises
    ``ExportError`` when they have errors, unless ``keep_going``; ``MissingExtra`` without
    pyarrow.
    """
    pa = need("pyarrow", "arrow")
    inputs = as_list(sources)
    found, options = surveyed(
        inputs, strict=strict, keep_going=keep_going, keep_superseded=keep_superseded
    )
    items = second_read(inputs, found, strict=strict, keep_superseded=keep_superseded)
    return pa.RecordBatchReader.from_batches(
        schema(shape, options), batches(shape, options, items, batch_rows)
    )


def to_polars(sources: Sources, shape: Shape = "long", **options: Any) -> Any:
    """``to_arrow``'s table as a ``polars.DataFrame`` (decimals stay decimals)."""
    pl = need("polars", "polars")
    return pl.from_arrow(to_arrow(sources, shape, **options).read_all())


def to_pandas(sources: Sources, shape: Shape = "long", **options: Any) -> Any:
    """``to_arrow``'s table as a ``pandas.DataFrame`` (decimals as ``decimal.Decimal``)."""
    need("pandas", "pandas")
    return to_arrow(sources, shape, **options).read_all().to_pandas()
