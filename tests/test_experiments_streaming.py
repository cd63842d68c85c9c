"""The streaming runner against the whole-payload reference: same bytes, sizes and verdicts.

The reference is what the suite did before it streamed: encode the whole data in one call,
compress that payload in one call per codec, decode it whole and compare. The streamed run
must report the same raw and compressed sizes and round-trip verdicts on every file of the
corpus and the bundled sample, and its ``--out-dir`` payloads must be the reference's bytes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import nem2cdr_experiments as experiments
from nem2cdr.generator import generate
from nem2cdr_experiments.base import REGISTRY, Experiment
from nem2cdr_experiments.codecs import ONE_CALL_LIMIT, Sizes, parse
from nem2cdr_experiments.data import LoadError, UsageData, load
from nem2cdr_experiments.runner import first_difference

ROOT = Path(__file__).parent.parent
CORPUS = ROOT / "tests" / "data" / "nem12-examples"
FILES = sorted(
    [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix.lower() in (".csv", ".zip")]
    + [ROOT / "samples" / "NEM12#sample-solar-house#NEM2CDR#SAMPLE.csv"]
)
CODECS = parse("default")


def whole(experiment: Experiment, data: UsageData) -> tuple[bytes | None, dict[str, int], str]:
    """The reference: the payload, its compressed sizes and the round-trip verdict."""
    try:
        payload = experiment.encode(data)
    except Exception:
        return None, {}, "failed"
    sizes = {codec.label: len(codec.compress(payload)) for codec in CODECS}
    if not experiment.lossless:
        return payload, sizes, "n/a"
    try:
        back = experiment.decode(payload, data.source)
    except Exception:
        return payload, sizes, "failed"
    return payload, sizes, "ok" if first_difference(data, back) is None else "failed"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_streaming_reports_what_the_whole_payload_gives(path: Path, tmp_path: Path) -> None:
    """A file with errors is refused whole (and writes no payload); any other streams to the
    sizes, round trips and payload bytes of the whole-payload reference."""
    out_dir = tmp_path / "payloads"
    try:
        data = load(path)
    except LoadError:
        with pytest.raises(LoadError):
            experiments.run(path, out_dir=out_dir)
        assert not out_dir.exists()
        return
    results = experiments.run(path, out_dir=out_dir).experiments
    for result in results:
        payload, sizes, verdict = whole(REGISTRY[result.id], data)
        assert (result.id, result.roundtrip) == (result.id, verdict)
        if payload is None:
            continue
        assert (result.id, result.raw_bytes, result.compressed) == (result.id, len(payload), sizes)
        experiment = REGISTRY[result.id]
        written = tmp_path / "payloads" / f"{result.id}-{result.name}{experiment.suffix}"
        assert written.read_bytes() == payload, result.id


def test_a_file_in_no_order_with_repeated_days_streams_like_the_whole(tmp_path: Path) -> None:
    """NMIs out of order and a day given twice: the store sorts and keeps the latest copy."""
    generated = tmp_path / "gen.csv"
    generate(generated, nmis=3, days=4, interval=15, seed=7)
    lines = generated.read_bytes().splitlines(keepends=True)
    # The middle NMI's block moved to the end; its first day repeated with other values.
    starts = [i for i, line in enumerate(lines) if line.startswith(b"200,")]
    blocks = [lines[a:b] for a, b in zip(starts, [*starts[1:], len(lines) - 1], strict=True)]
    nmis = {block[0].split(b",")[1] for block in blocks}
    middle = sorted(nmis)[1]
    moved = [block for block in blocks if block[0].split(b",")[1] == middle]
    kept = [block for block in blocks if block[0].split(b",")[1] != middle]
    fields = moved[0][1].split(b",")
    repeat = [moved[0][0], b",".join([*fields[:2], b"9.999", *fields[3:]])]
    body = [line for block in kept + moved for line in block] + repeat
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_bytes(b"".join([lines[0], *body, lines[-1]]))
    data = load(shuffled)
    results = experiments.run(shuffled, out_dir=tmp_path / "payloads").experiments
    assert [read.nmi for read in data.reads] == sorted(read.nmi for read in data.reads)
    suffix, day = moved[0][0].split(b",")[4].decode(), fields[1].decode()
    day = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    key = (middle.decode(), suffix, day)
    (repeated,) = [r for r in data.reads if (r.nmi, r.suffix, r.date) == key]
    assert repeated.values[0] == 9.999  # the later copy won
    for result in results:
        payload, sizes, verdict = whole(REGISTRY[result.id], data)
        assert (result.id, result.roundtrip, result.raw_bytes) == (
            result.id,
            verdict,
            len(payload or b""),
        )
        assert result.compressed == sizes


def test_the_cpu_of_streamed_compression_is_counted() -> None:
    # Past the one-call limit a payload streams into the codecs: their CPU is counted piece by
    # piece (it once counted only the final flush, a few per cent of the work).
    codec = parse("gzip:6")[0]
    text = b"".join(b'{"value":%d.%03d},' % (i % 97, i % 1000) for i in range(900_000))
    assert len(text) > 3 * ONE_CALL_LIMIT
    sizes = Sizes([codec])
    for start in range(0, len(text), 1 << 16):
        sizes.write(text[start : start + (1 << 16)])
    sizes.close()
    before = time.process_time()
    codec.compress(text)
    one_call_ms = (time.process_time() - before) * 1000
    assert sizes.cpu_ms()[codec.label] > 0.5 * one_call_ms
