"""The experiments suite around the encodings: cost model, codecs, report formats, the CLI."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import brotli
import msgspec
import pytest
import zstandard
from click.testing import CliRunner, Result

import nem2cdr_experiments as experiments
from nem2cdr.generator import generate
from nem2cdr_cli.nem2cdr_commands import cli
from nem2cdr_experiments import chart, report
from nem2cdr_experiments.base import REGISTRY, Experiment
from nem2cdr_experiments.codecs import Codec, parse
from nem2cdr_experiments.cost import KIB, CostModel, cost
from nem2cdr_experiments.data import Totals, UsageData
from nem2cdr_experiments.runner import Run

SAMPLE = Path(__file__).parent.parent / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"
INVALID = (
    Path(__file__).parent
    / "data"
    / "nem12-examples"
    / "invalid"
    / "Example_NEM12_15min_200_30min_300.csv"
)
SVG = "{http://www.w3.org/2000/svg}"
MAX_LABELS = ["gzip-6", "zstd-3", "brotli-5", "gzip-9", "zstd-19", "brotli-11"]  # --codecs max


@pytest.fixture(scope="module")
def run() -> Run:
    """One real run of every experiment on the bundled sample, default codecs, two workers."""
    return experiments.run(SAMPLE, workers=2)


def _untimed(report: Run) -> bytes:
    """The report as JSON with its timings zeroed: the rest must not depend on the workers."""
    results = [
        msgspec.structs.replace(result, encode_ms=0.0, decode_ms=None, cpu=None)
        for result in report.experiments
    ]
    return msgspec.json.encode(msgspec.structs.replace(report, experiments=results))


def test_one_worker_reports_what_two_workers_report(run: Run) -> None:
    assert _untimed(experiments.run(SAMPLE, workers=1)) == _untimed(run)


# -- the cost model ------------------------------------------------------------------------

# The thread: "300 Requests 609KB = 178MB of data; 178MB / 4.5 seconds = 39MB/sec = 315mbit;
# 315mbit x $51K/year = $16.06mil per year". It rounded at each step, the model does not.
THREAD = cost(609 * KIB, CostModel())


def within_one_percent(value: float, published: float) -> bool:
    return abs(value - published) <= 0.01 * published


@pytest.mark.parametrize(
    ("figure", "published"),
    [
        ("burst_mib", 178),
        ("mbit_per_second", 315),
        ("aud_per_year", 16.06e6),
    ],
)
def test_the_cost_model_lands_within_one_percent_of_the_thread(
    figure: str, published: float
) -> None:
    assert within_one_percent(getattr(THREAD, figure), published), getattr(THREAD, figure)


def test_the_thread_truncated_its_39_mb_per_second() -> None:
    # 178.4 MiB / 4.5 s = 39.65 MiB/s, which the thread wrote as "39" (truncated, not rounded:
    # 1.7% off); its next figure, 315 Mbit/s, is 39.4 x 8, so its own steps disagree.
    assert int(THREAD.mib_per_second) == 39
    assert 39.6 < THREAD.mib_per_second < 39.7


def test_the_cost_model_without_rounding() -> None:
    assert THREAD.burst_mib == pytest.approx(178.418, abs=1e-3)
    assert THREAD.mib_per_second == pytest.approx(39.648, abs=1e-3)
    assert THREAD.mbit_per_second == pytest.approx(317.19, abs=1e-2)
    assert THREAD.aud_per_year == pytest.approx(16_176_562.5)
    # The plain model has no time budget: requests per second x bytes x 8.
    assert THREAD.plain_mbit_per_second == pytest.approx(300 * 609 * KIB * 8 / 2**20)


def test_every_input_of_the_cost_model_is_an_option() -> None:
    halved = cost(609 * KIB, CostModel(requests=150, budget_seconds=9.0, aud_per_mbit_year=1.0))
    assert halved.mbit_per_second == pytest.approx(THREAD.mbit_per_second / 4)
    assert halved.aud_per_year == pytest.approx(THREAD.mbit_per_second / 4)


# -- codecs --------------------------------------------------------------------------------


def test_codec_specs() -> None:
    assert parse("default") == [Codec("gzip", 6), Codec("zstd", 3), Codec("brotli", 5)]
    assert [c.label for c in parse("max")] == MAX_LABELS
    assert parse("gzip:1,zstd:19") == [Codec("gzip", 1), Codec("zstd", 19)]
    assert parse(" GZIP:6 , gzip:6,") == [Codec("gzip", 6)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("lz4:1", "unknown codec 'lz4': use gzip, zstd or brotli"),
        ("gzip:10", "gzip level must be 0-9, not '10'"),
        ("zstd:0", "zstd level must be 1-22, not '0'"),
        ("brotli", "brotli level must be 0-11, not ''"),
        ("gzip:six", "gzip level must be 0-9, not 'six'"),
        ("", "no codec given"),
        (" , ", "no codec given"),
    ],
)
def test_a_bad_codec_spec_says_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse(spec)


def test_compressed_sizes_are_reproducible_and_decompress() -> None:
    payload = SAMPLE.read_bytes()[:200_000]
    zipped = Codec("gzip", 6).compress(payload)
    assert zipped == Codec("gzip", 6).compress(payload)  # fixed mtime: same bytes every time
    assert gzip.decompress(zipped) == payload
    assert zstandard.ZstdDecompressor().decompress(Codec("zstd", 3).compress(payload)) == payload
    assert brotli.decompress(Codec("brotli", 5).compress(payload)) == payload


# -- report formats ------------------------------------------------------------------------


def test_json_report_has_the_keys_cli_md_promises(run: Run) -> None:
    document = json.loads(report.as_json(run))
    assert document["file"] == str(SAMPLE)
    assert "cost" in document
    assert len(document["experiments"]) == len(run.experiments)
    for item in document["experiments"]:
        assert isinstance(item["id"], str) and isinstance(item["name"], str)
        assert isinstance(item["lossless"], bool)
        assert item["roundtrip"] in ("ok", "failed", "n/a")
        assert isinstance(item["raw_bytes"], int) and item["raw_bytes"] > 0
        assert set(item["compressed"]) == {"gzip-6", "zstd-3", "brotli-5"}
        assert all(isinstance(size, int) for size in item["compressed"].values())
        assert isinstance(item["encode_ms"], (int, float))
    baseline = document["experiments"][0]
    assert baseline["id"] == "00" and baseline["change_raw"] == 0


def test_csv_report_has_the_header_and_one_row_per_experiment(run: Run) -> None:
    table = list(csv.reader(io.StringIO(report.as_csv(run))))
    header, body = table[0], table[1:]
    assert header[:6] == ["id", "name", "lossless", "roundtrip", "raw_bytes", "change_raw_%"]
    assert {"gzip-6", "change_gzip-6_%", "encode_ms", "rationale"} <= set(header)
    assert [row[0] for row in body] == [r.id for r in run.experiments]
    assert all(len(row) == len(header) for row in body)


def test_markdown_report_is_a_well_formed_table(run: Run) -> None:
    lines = report.as_markdown(run).splitlines()
    assert len(lines) == 2 + len(run.experiments)
    cells = [re.split(r"(?<!\\)\|", line) for line in lines]
    assert all(row[0] == "" and row[-1] == "" for row in cells)  # starts and ends with a pipe
    assert len({len(row) for row in cells}) == 1
    assert all(re.fullmatch(r"-{3,}", cell) for cell in cells[1][1:-1])


def bars_of(root: ET.Element) -> list[ET.Element]:
    """The bars: the rects with a tooltip (the background and the legend have none)."""
    return [rect for rect in root.iter(f"{SVG}rect") if rect.find(f"{SVG}title") is not None]


def test_the_chart_is_svg_with_one_bar_per_experiment_and_codec(run: Run) -> None:
    root = ET.fromstring(chart.svg(run))
    assert root.tag == f"{SVG}svg"
    bars = bars_of(root)
    assert len(bars) == len(run.experiments) * len(run.codecs)
    assert all(float(bar.get("width", "-1")) > 0 for bar in bars)


# -- the CLI -------------------------------------------------------------------------------


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(cli, ["experiments", *args])
    # CliRunner turns an escaped exception into exit 1 too: only SystemExit is a real exit.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize("output_format", ["json", "csv", "markdown", "table"])
def test_cli_prints_every_format(output_format: str) -> None:
    result = invoke(str(SAMPLE), "--only", "00,08", "--format", output_format)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    if output_format == "json":
        ids = [item["id"] for item in json.loads(result.stdout)["experiments"]]
        assert ids == ["00", "08"]
    else:
        assert "cdr-full" in result.stdout and "baseline" in result.stdout


def test_cli_max_codecs_on_every_experiment(tmp_path: Path) -> None:
    # A week of generated data: brotli 11 on the sample's megabyte takes seconds.
    small = tmp_path / "week.csv"
    with small.open("wb") as out:
        generate(out, nmis=2, days=7, interval=30, seed=1)
    result = invoke(str(small), "--codecs", "max", "--format", "json")
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)["experiments"]
    assert [item["id"] for item in found] == sorted(REGISTRY)
    for item in found:
        assert list(item["compressed"]) == MAX_LABELS


def test_cli_writes_each_payload_and_the_chart(tmp_path: Path) -> None:
    """Into folders that do not exist yet: they are made, as for ``convert -o``."""
    only = ["00", "08", "11", "13"]
    out, drawn = tmp_path / "payloads", tmp_path / "charts" / "new" / "sizes.svg"
    result = invoke(
        str(SAMPLE),
        "--only",
        ",".join(only),
        "--out-dir",
        str(out),
        "--chart",
        str(drawn),
        "--format",
        "csv",
    )
    assert result.exit_code == 0, result.stderr
    written = sorted(out.iterdir())
    assert [path.name.split("-")[0] for path in written] == only
    assert json.loads(written[1].read_bytes())["meta"]["totalRecords"] == 1462
    assert msgspec.msgpack.decode(written[2].read_bytes())["meta"]["totalRecords"] == 1462
    assert written[3].read_bytes().startswith(b"100,NEM12,")
    assert len(bars_of(ET.parse(drawn).getroot())) == 4 * 3


def test_an_interrupted_run_adds_no_payload_to_the_out_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after some experiments wrote their payloads: the folder gets none of them."""
    out = tmp_path / "payloads"
    real_encode = REGISTRY["08"].encode_part

    def interrupted(data: UsageData) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(REGISTRY["08"], "encode_part", interrupted)
    with pytest.raises(KeyboardInterrupt):
        experiments.run(SAMPLE, only=["00", "01", "08"], codecs="gzip:1", out_dir=out)
    assert sorted(path.name for path in tmp_path.iterdir()) == []
    monkeypatch.setattr(REGISTRY["08"], "encode_part", real_encode)
    experiments.run(SAMPLE, only=["00", "01", "08"], codecs="gzip:1", out_dir=out)
    assert [path.name[:2] for path in sorted(out.iterdir())] == ["00", "01", "08"]


def test_cli_refuses_a_file_with_errors_in_one_line() -> None:
    result = invoke(str(INVALID))
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("nem2cdr experiments: ") and "NEM12-E012" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--only", "00,77"], "unknown experiment 77"),
        (["--codecs", "gzip:12"], "gzip level must be 0-9, not '12'"),
        (["--codecs", "lz4:1"], "unknown codec 'lz4'"),
    ],
)
def test_cli_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = invoke(str(SAMPLE), *args)
    assert result.exit_code == 2
    assert message in result.stderr


class _LosesAValue(Experiment):
    """08's payload, decoded with its first value changed: a round trip that must fail."""

    id = "99"
    name = "loses-a-value"
    rationale = "a broken decoder, to see the run refuse it"

    def encode(self, data: UsageData) -> bytes:
        return REGISTRY["08"].encode(data)

    def frame(self, totals: Totals) -> tuple[bytes, bytes]:
        return REGISTRY["08"].frame(totals)

    def encode_part(self, part: UsageData) -> bytes:
        return REGISTRY["08"].encode_part(part)

    def decode(self, payload: bytes, source: str) -> UsageData:
        back = REGISTRY["08"].decode(payload, source)
        first = back.reads[0]
        values = [first.values[0] + 1, *first.values[1:]]
        back.reads[0] = msgspec.structs.replace(first, values=values)
        return back


def test_a_failed_round_trip_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REGISTRY, "99", _LosesAValue())
    result = invoke(str(SAMPLE), "--only", "08,99", "--format", "json")
    assert result.exit_code == 1
    verdicts = {e["id"]: e["roundtrip"] for e in json.loads(result.stdout)["experiments"]}
    assert verdicts == {"08": "ok", "99": "failed"}
    assert result.stderr == (
        "nem2cdr experiments: 99 loses-a-value does not round-trip: "
        "read 0 (6102000001 B1 2024-12-31): values differs\n"
    )


def test_an_encoder_that_raises_is_a_failed_experiment_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    class Raising(Experiment):
        id = "98"
        name = "raises"
        rationale = "a deliberately broken encoder"

        def encode(self, data: UsageData) -> bytes:
            raise RuntimeError("boom")

    monkeypatch.setitem(REGISTRY, "98", Raising())
    result = CliRunner().invoke(cli, ["experiments", str(SAMPLE), "--only", "00,98"])
    assert result.exit_code == 1
    assert "98 raises does not round-trip: encode raised RuntimeError: boom" in result.output
    assert "Traceback" not in result.output


def _boxes(elements: list[ET.Element]) -> list[tuple[float, float, float, float]]:
    """Each rect's or text's box (left, top, right, bottom); a text's width is estimated
    generously at 0.62 of its font size per character."""
    boxes = []
    for element in elements:
        x, y = float(element.get("x", 0)), float(element.get("y", 0))
        if element.tag == f"{SVG}rect":
            boxes.append(
                (x, y, x + float(element.get("width", 0)), y + float(element.get("height", 0)))
            )
            continue
        size = float(element.get("font-size", 12))
        width = len(element.text or "") * size * 0.62
        anchor = element.get("text-anchor", "start")
        left = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
        boxes.append((left, y - size, left + width, y))
    return boxes


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("count", [1, 3, 6, 20])
def test_the_chart_legend_covers_no_bar_and_no_label(run: Run, count: int) -> None:
    codecs = [f"zstd-{level}" for level in range(1, count + 1)]
    # The largest sizes give the longest bars and the longest labels after them.
    results = [
        msgspec.structs.replace(r, compressed={c: 10**9 - i for i, c in enumerate(codecs)})
        for r in run.experiments
    ]
    root = ET.fromstring(
        chart.svg(msgspec.structs.replace(run, codecs=codecs, experiments=results))
    )
    legend_group = root.find(f"{SVG}g")
    assert legend_group is not None and legend_group.get("id") == "legend"
    legend = _boxes(list(legend_group))
    in_legend = set(map(id, legend_group))
    others = _boxes(
        [
            e
            for e in root.iter()
            if e.tag in (f"{SVG}rect", f"{SVG}text") and id(e) not in in_legend
        ][1:]
    )  # [1:]: the white background
    width = float(root.get("width", 0))
    assert all(box[2] <= width for box in legend + others)
    assert not [(a, b) for a in legend for b in others if _overlap(a, b)]
