"""``mmtlite report --html``: the report as one self-contained page a manager can open.

No script, no font, no image from anywhere: the styles are inline and the charts are SVG drawn
here, so the page opens offline and can be mailed as it is. Every figure carries a
``data-figure`` attribute naming where it comes from in ``report --format json``
(``by_status.0S``, ``exclusions.0Z NONCOMM NC01.via_site``, ``tranches.T1.dcc.accepted``):
the tests read the page in a browser and compare.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from html import escape

from mmtlite.migration_report import Report
from mmtlite.rules import MEANING, TRANCHE_STATUSES
from mmtlite.writing import write_file

_COLOURS = {
    "0": "#e0a526",
    "0S": "#3a8f4b",
    "0Z": "#c8423b",
    "1": "#3c6fb6",
    "1R": "#7a3c96",
    "1a": "#2a9db0",
    "2": "#1d4f73",
}
_DIRECT, _VIA_SITE = "#c8423b", "#f0a39c"

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 80rem; color: #222;
       padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; }
.sub { color: #666; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1.2rem 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem .9rem; min-width: 7.5rem; }
.card b { display: block; font-size: 1.5rem; }
.card > span { color: #555; font-size: .85rem; }
table { border-collapse: collapse; width: 100%; margin-top: .6rem; }
th, td { padding: .3rem .55rem; border-bottom: 1px solid #e5e5e5; text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
.legend span { display: inline-block; margin-right: 1rem; }
.legend i { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
            vertical-align: -1px; }
.empty { color: #777; font-style: italic; }
table.compact { font-size: 13px; }
table.compact th, table.compact td { padding: .25rem .35rem; }
th.group { text-align: center; border-bottom: 2px solid #bbb; }
@media print {
  @page { size: A4 landscape; margin: 10mm; }
  body { margin: 0; max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; } tr, svg { break-inside: avoid; }
  table.compact { font-size: 10px; }
  table.compact th, table.compact td { padding: .15rem .2rem; }
}
"""


def write_page(made: Report, path: str | os.PathLike[str]) -> None:
    """The page as the file ``path`` (``-``: standard output), written whole or not at all
    (``OutputError`` when it cannot be)."""
    write_file(path, page(made).encode("utf-8"))


def page(made: Report) -> str:
    """The whole page."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Meter migration, {escape(made.env)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Meter migration: {escape(made.env)}</h1>",
        f'<p class="sub">{_figure("meters", made.meters)} meters, report of '
        f"{escape(made.generated_at)}</p>",
        _status_section(made),
        _exclusion_section(made),
        _conflict_section(made),
        _tranche_section(made),
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def _figure(name: str, value: int | float, text: str | None = None) -> str:
    shown = text if text is not None else f"{value:,}"
    return f'<span data-figure="{escape(name)}" data-value="{value}">{escape(shown)}</span>'


def _status_section(made: Report) -> str:
    cards = "".join(
        f'<div class="card"><b>{_figure(f"by_status.{name}", count)}</b>'
        f"<span>{escape(name)} {escape(MEANING[name])}</span></div>"
        for name, count in made.by_status.items()
    )
    bars = [
        (f"{name} {MEANING[name]}", [(count, _COLOURS[name])])
        for name, count in made.by_status.items()
    ]
    return f'<h2>Meters by status</h2><div class="cards">{cards}</div>{_bars(bars)}'


def _exclusion_section(made: Report) -> str:
    if not made.exclusions:
        return '<h2>Excluded and held, by first cause</h2><p class="empty">none</p>'
    rows = []
    for r in made.exclusions:
        key = f"exclusions.{r.status} {r.reason} {r.code}"
        rows.append(
            f"<tr><td>{escape(r.status)}</td><td>{escape(r.reason)}</td><td>{escape(r.code)}</td>"
            f"<td>{escape(r.description)}</td><td>{'yes' if r.site_wide else 'no'}</td>"
            f'<td class="n">{_figure(key + ".meters", r.meters)}</td>'
            f'<td class="n">{_figure(key + ".direct", r.direct)}</td>'
            f'<td class="n">{_figure(key + ".via_site", r.via_site)}</td>'
            f'<td class="n">{_figure(key + ".site_share", r.site_share, f"{r.site_share:.0%}")}'
            "</td></tr>"
        )
    bars = [
        (f"{r.status} {r.reason} {r.code}", [(r.direct, _DIRECT), (r.via_site, _VIA_SITE)])
        for r in made.exclusions
    ]
    legend = (
        f'<p class="legend"><span><i style="background:{_DIRECT}"></i>the meter itself</span>'
        f'<span><i style="background:{_VIA_SITE}"></i>through a site-mate</span></p>'
    )
    header = "".join(
        f'<th class="{"n" if n > 4 else ""}">{name}</th>'
        for n, name in enumerate(
            (
                "status",
                "reason",
                "code",
                "description",
                "site-wide",
                "meters",
                "direct",
                "via site",
                "share",
            )
        )
    )
    return (
        "<h2>Excluded and held, by first cause</h2>"
        "<p>Each meter counted once, under its first cause; <em>via site</em> are meters "
        "excluded or held because of a meter at their site.</p>"
        f"{legend}{_bars(bars)}<table><tr>{header}</tr>{''.join(rows)}</table>"
    )


def _conflict_section(made: Report) -> str:
    if not made.conflicts:
        return '<h2>Conflicts</h2><p class="empty">none: no tranche meter is excluded or held</p>'
    rows = "".join(
        f"<tr><td>{escape(c.tranche_id)}</td><td>{escape(c.reason)}</td><td>{escape(c.code)}</td>"
        f"<td>{escape(c.description)}</td>"
        f'<td class="n">{_figure(f"conflicts.{c.tranche_id} {c.reason} {c.code}", c.meters)}'
        "</td></tr>"
        for c in made.conflicts
    )
    return (
        "<h2>Conflicts</h2><p>Meters already in a tranche that the lists now exclude or hold: "
        "they keep their tranche status until someone decides.</p>"
        "<table><tr><th>tranche</th><th>reason</th><th>code</th><th>description</th>"
        '<th class="n">meters</th></tr>'
        f"{rows}</table>"
    )


def _tranche_section(made: Report) -> str:
    if not made.tranches:
        return '<h2>Tranches</h2><p class="empty">no tranche selected yet</p>'
    bars = [
        (t.tranche_id, [(t.by_status[name], _COLOURS[name]) for name in TRANCHE_STATUSES])
        for t in made.tranches
    ]
    legend = "".join(
        f'<span><i style="background:{_COLOURS[name]}"></i>{name} {escape(MEANING[name])}</span>'
        for name in TRANCHE_STATUSES
    )
    rows = []
    for t in made.tranches:
        key = f"tranches.{t.tranche_id}"
        cells = [
            f'<td class="n">{_figure(f"{key}.{measure}", value)}</td>'
            for measure, value in (
                ("requested", t.requested),
                ("meters", t.meters),
                *((f"by_status.{k}", v) for k, v in t.by_status.items()),
                ("sites", t.sites),
                *((f"dcc.{k}", v) for k, v in t.dcc.items()),
                *((f"cs.{k}", v) for k, v in t.cs.items()),
                *((f"mdm.{k}", v) for k, v in t.mdm.items()),
                ("conflicts", t.conflicts),
            )
        ]
        rows.append(
            f"<tr><td>{escape(t.tranche_id)}</td><td>{_breakable(t.selected_at)}</td>"
            f"{''.join(cells)}</tr>"
        )
    # Two header rows: the groups over short names, so 21 columns fit 1,400 px and A4 landscape.
    groups = [("", 4), ("meters by status", len(TRANCHE_STATUSES)), ("", 1)]
    groups += [("DCC", 3), ("CS", 4), ("MDM", 4), ("", 1)]
    top = "".join(
        f'<th colspan="{span}" class="group">{name}</th>' if span > 1 else "<th></th>"
        for name, span in groups
    )
    names = ["tranche", "selected", "asked", "meters", *TRANCHE_STATUSES, "sites"]
    names += ["acc.", "rej.", "wait", "noted", "OK", "fail", "wait", "sent", "OK", "fail", "wait"]
    names.append("conflicts")
    header = "".join(
        f'<th class="{"n" if n > 1 else ""}">{name}</th>' for n, name in enumerate(names)
    )
    files = "".join(
        f"<li>{escape(t.tranche_id)}: {escape(', '.join(t.files))}</li>" for t in made.tranches
    )
    return (
        f'<h2>Tranches</h2><p class="legend">{legend}</p>{_bars(bars)}'
        f'<table class="compact"><tr>{top}</tr><tr>{header}</tr>{"".join(rows)}</table>'
        f"<h2>Files written</h2><ul>{files}</ul>"
    )


def _breakable(moment: str) -> str:
    """An ISO time that may wrap between its date and its time of day."""
    return escape(moment).replace("T", "T<wbr>", 1)


def _bars(bars: Sequence[tuple[str, Sequence[tuple[int, str]]]]) -> str:
    """Horizontal bars, each of stacked segments (value, colour), scaled to the largest."""
    label_width, bar_width, height, gap = 260, 560, 18, 6
    largest = max((sum(value for value, _ in segments) for _, segments in bars), default=0) or 1
    rows = []
    for n, (label, segments) in enumerate(bars):
        y = n * (height + gap)
        rows.append(
            f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
        )
        x = float(label_width)
        for value, colour in segments:
            width = bar_width * value / largest
            if width > 0:
                rows.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{height}" '
                    f'fill="{colour}"><title>{value:,}</title></rect>'
                )
            x += width
        total = sum(value for value, _ in segments)
        rows.append(f'<text x="{x + 6:.1f}" y="{y + 13}">{total:,}</text>')
    total_height = len(bars) * (height + gap)
    width = label_width + bar_width + 80
    return (
        f'<svg role="img" width="{width}" height="{total_height}" style="max-width: 100%; '
        'height: auto" '
        f'viewBox="0 0 {width} {total_height}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(rows)}</svg>"
    )
