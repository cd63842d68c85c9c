"""The sizes as a picture: one SVG of grouped bars, experiments down, one bar per codec.

Plain SVG text, no plotting library: it opens in any browser and diffs in review.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from nem2cdr.atomic import write_atomically
from nem2cdr_experiments.runner import Run

_COLOURS = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6"]
_BAR, _GAP, _LEFT, _RIGHT = 11, 10, 250, 140
# The legend is rows under the titles, above every bar, so it never covers one.
_LEGEND_Y, _LEGEND_STEP, _LEGEND_ROW = 52, 90, 18


def svg(run: Run) -> str:
    codecs = run.codecs
    largest = max((max(r.compressed.values(), default=0) for r in run.experiments), default=1) or 1
    width = 900
    plot = width - _LEFT - _RIGHT
    group = _BAR * len(codecs) + _GAP
    per_row = (width - _LEFT) // _LEGEND_STEP
    top = _LEGEND_Y + _LEGEND_ROW * -(-len(codecs) // per_row) + 10
    height = top + group * len(run.experiments) + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">'
        f"Compressed payload size per experiment: {escape(Path(run.file).name)}</text>",
        f'<text x="{width / 2}" y="40" text-anchor="middle" fill="#555">'
        f"{run.reads:,} daily reads, {run.values:,} values; shorter is better</text>",
    ]
    parts.append('<g id="legend">')
    for index, codec in enumerate(codecs):
        row, column = divmod(index, per_row)
        x, y = _LEFT + column * _LEGEND_STEP, _LEGEND_Y + row * _LEGEND_ROW
        colour = _COLOURS[index % len(_COLOURS)]
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 18}" y="{y + 10}">{escape(codec)}</text>')
    parts.append("</g>")
    for row, result in enumerate(run.experiments):
        at = top + row * group
        label = f"{result.id} {result.name}" + ("" if result.lossless else " (lossy)")
        parts.append(
            f'<text x="{_LEFT - 8}" y="{at + group / 2}" text-anchor="end">{escape(label)}</text>'
        )
        for index, codec in enumerate(codecs):
            size = result.compressed.get(codec, 0)
            length = plot * size / largest
            colour = _COLOURS[index % len(_COLOURS)]
            y = at + index * _BAR
            parts.append(
                f'<rect x="{_LEFT}" y="{y}" width="{length:.1f}" height="{_BAR - 1}" '
                f'fill="{colour}"><title>{escape(label)}, {codec}: {size:,} bytes</title></rect>'
            )
            parts.append(
                f'<text x="{_LEFT + length + 4:.1f}" y="{y + _BAR - 2}" font-size="9" '
                f'fill="#333">{size / 1000:,.1f} kB</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_chart(run: Run, path: Path) -> None:
    write_atomically(path, svg(run).encode("utf-8"))
