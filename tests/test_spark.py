"""nem2cdr.spark in Spark's local mode: the same rows as export, the same bytes as convert.

One SparkSession per test process (local[2], two shuffle partitions: the data here is small),
with this interpreter as the workers' Python. Spark names a file by its URI
(``file:/...``); the rows are compared with export's after that one difference.
"""

from __future__ import annotations

import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nem2cdr
from nem2cdr.model import IntervalDay
from nem2cdr.spark import read_nem12, to_cdr, write_pages
from tests.helpers import CORPUS
from tests.test_corpus import GOOD
from tests.test_export import duplicated

pyspark = pytest.importorskip("pyspark")  # the [spark] extra, with Java 17
from pyspark.sql import DataFrame, SparkSession  # noqa: E402

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("nem2cdr-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def uri(path: Path | str) -> str:
    return f"file:{Path(path).resolve()}"


def rows(df: DataFrame) -> list[dict[str, Any]]:
    return sorted(df.toArrow().to_pylist(), key=_order)


def _order(row: dict[str, Any]) -> tuple[Any, ...]:
    start = row.get("interval_start") or row.get("date")
    return (row["source_file"], row["source_line"], start)


def exported(paths: list[Path], shape: str = "long") -> list[dict[str, Any]]:
    """Export's rows of each file on its own, named as Spark names the file."""
    found = []
    for path in paths:
        for row in nem2cdr.to_arrow(path, shape).read_all().to_pylist():  # type: ignore[arg-type]
            row["source_file"] = row["source_file"].replace(str(path), uri(path), 1)
            found.append(row)
    return sorted(found, key=_order)


def test_read_nem12_over_the_corpus_equals_export_row_for_row(spark: SparkSession) -> None:
    nem12_files = [path for path in GOOD if "nem13" not in path.parts]
    # Sample packs repeat NMIs across files: each file is compared with its own export.
    df = read_nem12(spark, [str(path) for path in nem12_files], resolve_duplicates=False)
    got, want = rows(df), exported(nem12_files)
    assert len(got) == len(want) > 100_000
    assert got == want  # decimals compare as numbers, times as instants


def test_the_daily_shape_and_nem13_reads_equal_export(spark: SparkSession) -> None:
    daily = [CORPUS / "nem12" / "NEM12#Scenario06#ETSAMDP#NEMMCO.zip", SAMPLE]
    assert rows(read_nem12(spark, [str(p) for p in daily], "daily")) == exported(daily, "daily")
    nem13 = sorted((CORPUS / "nem13").iterdir())[:5]
    frame = read_nem12(spark, [str(p) for p in nem13], "accumulation")
    assert rows(frame) == exported(nem13, "accumulation")


def test_a_day_in_two_files_is_resolved_like_convert(spark: SparkSession, tmp_path: Path) -> None:
    first, second = duplicated(tmp_path)
    frame = read_nem12(spark, [str(first), str(second)], "daily")
    got = [(r["date"].day, r["values"][0]) for r in rows(frame)]
    want = [(r["date"].day, r["values"][0]) for r in exported([first, second], "daily")]
    kept = nem2cdr.to_arrow([first, second], "daily").read_all().to_pylist()
    assert sorted(got) == sorted((r["date"].day, r["values"][0]) for r in kept)
    assert len(want) == 6 and len(got) == 3
    flagged = read_nem12(spark, [str(first), str(second)], "daily", keep_superseded=True)
    assert sorted(r["superseded"] for r in rows(flagged)) == [False] * 3 + [True] * 3


def one_nmi_files(source: Path, folder: Path) -> dict[str, Path]:
    """Each NMI of ``source`` in a file of its own (the file's own decimals kept)."""
    by_nmi: dict[str, list[IntervalDay]] = {}
    for record in nem2cdr.read(source, keep_text=True):
        if isinstance(record, IntervalDay):
            by_nmi.setdefault(record.stream.nmi, []).append(record)
    files = {}
    for nmi, days in by_nmi.items():
        files[nmi] = folder / f"{nmi}.csv"
        nem2cdr.write(files[nmi], days)
    return files


@pytest.mark.parametrize(
    ("source", "interval_reads", "page_size"),
    [
        (SAMPLE, "FULL", 40),
        (CORPUS / "Example_NEM12_ManyNMIs.zip", "MIN_30", 3),
        (CORPUS / "nem12" / "NEM12#Scenario06#ETSAMDP#NEMMCO.zip", "FULL", 2),
    ],
    ids=["sample-full", "many-nmis-min30", "mixed-scales-full"],
)
def test_to_cdr_equals_convert_byte_for_byte(
    spark: SparkSession, tmp_path: Path, source: Path, interval_reads: str, page_size: int
) -> None:
    frame = read_nem12(spark, str(source), values="text")
    pages = to_cdr(frame, interval_reads=interval_reads, page_size=page_size)  # type: ignore[arg-type]
    got = {(r.servicePointId, r.page): r.payload.encode() for r in pages.collect()}
    want = {}
    options = nem2cdr.ConvertOptions(interval_reads=interval_reads)  # type: ignore[arg-type]
    for nmi, path in one_nmi_files(source, tmp_path).items():
        result = nem2cdr.convert(path, os.devnull, options, page_size=page_size)
        for number in range(1, result.total_pages + 1):
            out = tmp_path / f"{nmi}-{number}.json"
            nem2cdr.convert(path, out, options, page=number, page_size=page_size)
            want[(_id(nmi, options), number)] = out.read_bytes()
    assert got.keys() == want.keys()
    assert got == want


def _id(nmi: str, options: nem2cdr.ConvertOptions) -> str:
    from nem2cdr.usage import service_point_id

    return service_point_id(nmi, options)


def test_decimal_values_give_the_same_aggregates(spark: SparkSession, tmp_path: Path) -> None:
    # interval-reads NONE carries no file text: decimal columns give the same bytes too.
    frame = read_nem12(spark, str(SAMPLE))
    pages = sorted(to_cdr(frame, page_size=1000).collect(), key=lambda row: row.page)
    assert [page.page for page in pages] == [1, 2]
    for page in pages:
        out = tmp_path / f"usage-{page.page}.json"
        nem2cdr.convert(SAMPLE, out, page=page.page, page_size=1000)
        assert page.payload.encode() == out.read_bytes()


def test_write_pages_writes_each_page_as_a_file(spark: SparkSession, tmp_path: Path) -> None:
    pages = to_cdr(read_nem12(spark, str(SAMPLE)), page_size=100)
    write_pages(pages, tmp_path / "out")
    written = sorted((tmp_path / "out").rglob("page-*.json"))
    payloads = {r.page: r.payload.encode() for r in pages.collect()}
    assert [p.name for p in written] == [f"page-{n:04d}.json" for n in sorted(payloads)]
    assert all(p.read_bytes() == payloads[int(p.stem[5:])] for p in written)


def test_a_file_with_errors_stops_the_read(spark: SparkSession, tmp_path: Path) -> None:
    broken = CORPUS / "nem12" / "NEM12#Scenario10#ETSAMDP#NEMMCO.zip"
    with pytest.raises(nem2cdr.ExportError) as raised:
        read_nem12(spark, str(broken))
    [error] = raised.value.diagnostics.errors
    assert error.code == "NEM12-E016"
    assert ":27: 300 row is broken across lines 27-29" in error.message
    assert read_nem12(spark, str(broken), keep_going=True).count() == 336
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.write(SAMPLE, SAMPLE.name)
    assert read_nem12(spark, str(archive)).count() == 140_352
