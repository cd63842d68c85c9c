"""Model -> writer -> reader gives the model back: generated files, arbitrary models, the corpus."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings

import nem2cdr
from nem2cdr.generator import generate, generate_days
from nem2cdr.model import BasicRead, IntervalDay, Record
from nem2cdr.writer import write_nem12, write_nem13
from tests.helpers import CORPUS, codes, read_bytes
from tests.strategies import interval_days


def _comparable(records: Sequence[Record], *, ignore: frozenset[str]) -> object:
    """The records as plain data without the fields that depend on the file's layout."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ignore}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return value

    return strip(msgspec.to_builtins(records))


def _written(records: Sequence[Record]) -> bytes:
    out = io.BytesIO()
    if records and isinstance(records[0], BasicRead):
        write_nem13(out, [r for r in records if isinstance(r, BasicRead)])
    else:
        write_nem12(out, [r for r in records if isinstance(r, IntervalDay)])
    return out.getvalue()


@pytest.mark.parametrize("interval", [5, 15, 30])
def test_a_generated_file_reads_back_as_the_generated_days_line_for_line(interval: int) -> None:
    out = io.BytesIO()
    generate(out, nmis=3, days=20, interval=interval, seed=3)
    reader, records = read_bytes(out.getvalue(), strict=True)
    assert codes(reader) == []
    assert records == list(generate_days(nmis=3, days=20, interval=interval, seed=3))


# -- arbitrary models ----------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(interval_days())
def test_any_model_reads_back_as_written(days: list[IntervalDay]) -> None:
    reader, records = read_bytes(_written(days))
    assert codes(reader) == []
    ignore = frozenset({"line"})
    assert _comparable(records, ignore=ignore) == _comparable(list(days), ignore=ignore)


# -- the corpus ----------------------------------------------------------------------------


def _corpus() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".csv", ".zip"))


@pytest.mark.parametrize("path", _corpus(), ids=lambda p: p.name)
def test_what_the_reader_keeps_of_a_real_file_is_written_back_exactly(path: Path) -> None:
    records = nem2cdr.read(path).records()
    for kind in (IntervalDay, BasicRead):
        kept = [r for r in records if isinstance(r, kind)]
        if not kept:
            continue
        _, again = read_bytes(_written(kept))
        # The writer spells units the spec's way, so only the normalised UOM survives.
        ignore = frozenset({"line", "uom_raw"})
        assert _comparable(again, ignore=ignore) == _comparable(kept, ignore=ignore)
