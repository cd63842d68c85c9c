"""The report of a run: JSON (keys as in CLI.md), CSV, Markdown, and rows for the terminal."""

from __future__ import annotations

import csv
import io

import msgspec

from nem2cdr_experiments.cost import CostModel, ServedCpu
from nem2cdr_experiments.runner import PAGE_SIZES, Result, Run
from nem2cdr_experiments.thread_compat import PUBLISHED_CODEC

_json = msgspec.json.Encoder()


class CostBasis(msgspec.Struct, frozen=True, omit_defaults=True):
    """The cost model a report's money figures come from, the codec they are for, and the load
    run of ``nem2cdr serve`` the served figures come from (when one was given)."""

    model: CostModel
    codec: str
    served: ServedCpu | None = None


class JsonReport(msgspec.Struct, omit_defaults=True):
    """``nem2cdr experiments --format json``: the run, and what its cost columns mean."""

    file: str
    reads: int
    values: int
    codecs: list[str]
    experiments: list[Result]
    cost: CostBasis
    thread_compat: bool = False  # only with --thread-compat: 00-07 as the 2022 script wrote them
    seed: int | None = None


def json_report(run: Run) -> JsonReport:
    return JsonReport(
        run.file,
        run.reads,
        run.values,
        run.codecs,
        run.experiments,
        CostBasis(run.cost_model, cost_codec(run), run.served),
        run.thread_compat,
        run.seed,
    )


def as_json(run: Run) -> bytes:
    return msgspec.json.format(_json.encode(json_report(run)), indent=2) + b"\n"


def cost_codec(run: Run) -> str:
    """The codec the cost columns use: the first one asked for."""
    return run.codecs[0]


HEADER = ["id", "name", "lossless", "roundtrip", "raw_bytes", "change_raw_%"]


def rows(run: Run) -> tuple[list[str], list[list[str]]]:
    """Column names and text cells, shared by every tabular format."""
    codec = cost_codec(run)
    header = [
        *HEADER,
        *[f"{label}" for label in run.codecs],
        *[f"change_{label}_%" for label in run.codecs],
        "encode_ms",
        "decode_ms",
        f"mbit_s_{codec}",
        f"aud_year_{codec}",
        f"plain_mbit_s_{codec}",
        *[f"page{size}_{part}" for size in PAGE_SIZES for part in ("raw_bytes", codec)],
        "encode_cpu_ms",
        *[f"compress_cpu_ms_{label}" for label in run.codecs],
        *[f"cores_on_the_fly_{label}" for label in run.codecs],
        "rationale",
    ]
    body = [_cells(result, run.codecs, codec) for result in run.experiments]
    if run.served is not None:  # before the rationale, which stays last
        header[-1:-1] = [f"served_{part}_{label}" for part in SERVED for label in run.codecs]
        for row, result in zip(body, run.experiments, strict=True):
            row[-1:-1] = served_cells(result, run.codecs)
    if run.thread_compat:  # the 2022 table's figure beside the measured ones
        at = header.index("encode_ms")
        header.insert(at, f"published_change_{PUBLISHED_CODEC}_%")
        for row, result in zip(body, run.experiments, strict=True):
            row.insert(at, percent(result.published_gzip_change))
    return header, body


def _cells(result: Result, codecs: list[str], codec: str) -> list[str]:
    cost = result.cost.get(codec)
    return [
        result.id,
        result.name,
        "yes" if result.lossless else "no",
        result.roundtrip,
        "" if result.not_applicable else str(result.raw_bytes),
        percent(result.change_raw),
        *[str(result.compressed.get(label, "")) for label in codecs],
        *[percent(result.change.get(label)) for label in codecs],
        f"{result.encode_ms:.1f}",
        "" if result.decode_ms is None else f"{result.decode_ms:.1f}",
        "" if cost is None else f"{cost.mbit_per_second:.1f}",
        "" if cost is None else f"{cost.aud_per_year:.0f}",
        "" if cost is None else f"{cost.plain_mbit_per_second:.1f}",
        *_page_cells(result, codec),
        *_cpu_cells(result, codecs),
        result.rationale,
    ]


def _cpu_cells(result: Result, codecs: list[str]) -> list[str]:
    cpu = result.cpu
    if cpu is None:
        return [""] * (1 + 2 * len(codecs))
    return [
        f"{cpu.encode_ms:.1f}",
        *[f"{cpu.compress_ms.get(label, 0):.1f}" for label in codecs],
        *[f"{cpu.cores_on_the_fly.get(label, 0):.2f}" for label in codecs],
    ]


SERVED = ("cpu_ms", "cores")  # the served columns' figures, each per codec


def served_cells(result: Result, codecs: list[str]) -> list[str]:
    """The server's CPU per response and the cores at the model's rate, per codec ("" where
    the load run did not measure it, or the experiment is not a served response)."""
    served = result.served
    if served is None:
        return [""] * (len(SERVED) * len(codecs))
    return [
        *(_figure(served.cpu_ms.get(label), "{:.1f}") for label in codecs),
        *(_figure(served.cores.get(label), "{:.2f}") for label in codecs),
    ]


def _figure(value: float | None, form: str) -> str:
    return "" if value is None else form.format(value)


def _page_cells(result: Result, codec: str) -> list[str]:
    """First-page sizes at each page size (empty for experiments that are not responses)."""
    by_size = {page.page_size: page for page in result.pages}
    cells = []
    for size in PAGE_SIZES:
        page = by_size.get(size)
        cells += (
            ["", ""]
            if page is None
            else [
                str(page.first_page_raw_bytes),
                str(page.first_page_compressed.get(codec, "")),
            ]
        )
    return cells


def percent(value: float | None) -> str:
    """A change in percent as every format shows it: signed, two places; "" when none."""
    return "" if value is None else f"{value:+.2f}"


def as_csv(run: Run) -> str:
    header, body = rows(run)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(body)
    return out.getvalue()


def as_markdown(run: Run) -> str:
    header, body = rows(run)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in body),
    ]
    return "\n".join(lines) + "\n"
