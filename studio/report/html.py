"""report.html: one self-contained page (inline SVG plots, CSS inline, no scripts, no network).

Thumbnails are small files beside it and every link is relative, so the export folder can be
moved or copied as a whole. Numbers carry ``data-*`` attributes with their exact values.
"""

from __future__ import annotations

import html
import math
from typing import Any
from urllib.parse import quote

from studio import __version__
from studio.report.collect import ExportStats
from studio.report.stats import rounded
from studio.report.thumbs import Thumb

CSS = """
:root { --ink:#23272f; --faint:#6b7587; --line:#e3e7ee; --card:#fff; --bg:#f4f6f9;
        --accent:#2f6bd8; --warn:#b54708; --warnbg:#fff6e6; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif; }
main { max-width:1280px; margin:0 auto; padding:24px 28px 48px; }
header h1 { font-size:24px; margin:0 0 2px; }
header p { margin:0; color:var(--faint); }
h2 { font-size:17px; margin:30px 0 10px; }
h2 small { color:var(--faint); font-weight:normal; font-size:13px; }
.facts { display:grid; grid-template-columns:repeat(auto-fill,minmax(180px,1fr)); gap:10px;
         margin-top:18px; }
.fact { background:var(--card); border:1px solid var(--line); border-radius:8px;
        padding:9px 12px; }
.fact b { display:block; font-size:18px; font-weight:600; }
.fact span { color:var(--faint); font-size:12px; }
.notes { background:var(--warnbg); color:var(--warn); border:1px solid #f5d19a;
         border-radius:8px; padding:8px 14px; margin-top:14px; }
.plots { display:grid; grid-template-columns:repeat(auto-fill,minmax(360px,1fr)); gap:12px; }
.plot { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:6px;
        overflow:hidden; }
.plot svg { width:100%; height:auto; display:block; }
.bin { background:var(--card); border:1px solid var(--line); border-radius:8px;
       padding:10px 12px; margin-bottom:12px; }
.bin h3 { font-size:14px; margin:0 0 8px; }
.samples { display:flex; flex-wrap:wrap; gap:12px; }
figure.sample { margin:0; width:372px; }
figure.sample .pair { display:flex; gap:4px; }
figure.sample img { display:block; width:184px; height:auto; border-radius:4px;
                    background:#ddd; }
figure.sample img:hover { outline:2px solid var(--accent); }
figcaption { font-size:12px; color:var(--faint); margin-top:3px; }
figcaption b { color:var(--ink); font-weight:600; }
.error { color:var(--warn); font-size:12px; width:372px; }
.tables { display:grid; grid-template-columns:repeat(auto-fill,minmax(390px,1fr)); gap:12px; }
table { border-collapse:collapse; width:100%; background:var(--card); font-size:12.5px; }
.tablecard { background:var(--card); border:1px solid var(--line); border-radius:8px;
             padding:8px 10px; overflow:hidden; }
.tablecard h3 { font-size:13.5px; margin:2px 0 6px; }
th, td { text-align:left; padding:3px 6px; border-bottom:1px solid var(--line); }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
td.id { word-break:break-all; }
.usage-plots { margin-bottom:12px; }
.constants { display:grid; grid-template-columns:repeat(auto-fill,minmax(240px,1fr)); gap:10px;
             margin-top:12px; }
.constants .fact b { color:var(--accent); }
.fixed { columns:3 260px; column-gap:24px; font-size:12.5px; }
.fixed div { padding:2px 0; break-inside:avoid; }
.fixed b { font-weight:600; }
.reason { background:var(--card); border:1px solid var(--line); border-radius:8px;
          padding:8px 12px; margin-bottom:8px; }
.reason ul { margin:4px 0 0; padding-left:18px; font-size:12.5px; word-break:break-all; }
.muted { color:var(--faint); }
a { color:var(--accent); text-decoration:none; }
a:hover { text-decoration:underline; }
footer { margin-top:36px; color:var(--faint); font-size:12px; }
"""

BIN_TITLES = {
    "lowest": "Lowest coverage",
    "median": "Around the median coverage",
    "highest": "Highest coverage",
}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _link(rel: str) -> str:
    """A relative URL to a file of the export (``rel`` is a POSIX path under it)."""
    return quote(rel, safe="/")


def _pct(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f"{x * 100:.{digits}f}%"


def _fact(key: str, label: str, shown: Any, value: Any = None) -> str:
    raw = shown if value is None else value
    return (
        f'<div class="fact" data-fact="{_e(key)}" data-value="{_e(raw)}">'
        f"<b>{_e(shown)}</b><span>{_e(label)}</span></div>"
    )


def _of(n: int, total: Any) -> str:
    return f"{n:,} of {total:,}" if isinstance(total, int) else f"{n:,}"


def facts(stats: ExportStats) -> list[str]:
    job, run, fail = stats.job, stats.run, stats.failures
    inputs = job.get("inputs") or {}
    cards = [
        _fact("samples", "samples written", _of(stats.rows, job.get("count")), stats.rows),
        _fact("failed_samples", "samples failed", f"{fail.samples:,}", fail.samples),
        _fact("failed_inputs", "inputs unusable", f"{fail.inputs:,}", fail.inputs),
        *(
            _fact(key, f"samples {key} in review", f"{n:,}", n)
            for key, n in stats.review.items()
            if n
        ),
        _fact(
            "coverage_mean",
            f"mean coverage (median {_pct(stats.coverage_median)})",
            _pct(stats.coverage_mean if stats.rows else None),
            stats.coverage_mean if stats.rows else "",
        ),
    ]
    for role in ("faces", "occluders", "textures"):  # faces always; the others when used
        used = getattr(stats, role).distinct
        if role == "faces" or used or inputs.get(role):
            cards.append(_fact(role, f"{role} used", _of(used, inputs.get(role)), used))
    rate, seconds = run.get("images_per_s"), run.get("seconds")
    if rate is not None:
        cards.append(
            _fact("images_per_s", f"images/s (last session, {seconds} s)", f"{rate:,.1f}", rate)
        )
    for key, label in (
        ("engine", "engine"),
        ("workers", "workers"),
    ):
        if run.get(key) is not None:
            cards.append(_fact(key, label, run[key]))
    for key, label in (
        ("preset", "preset"),
        ("mode", "mode"),
        ("seed", "seed"),
        ("backend", "backend"),
        ("layout", "layout"),
        ("version", "occlusion-studio version"),
    ):
        if job.get(key) is not None:
            cards.append(_fact(key, label, job[key]))
    if stats.sizes:
        size, _ = max(stats.sizes.items(), key=lambda kv: (kv[1], kv[0]))
        more = f" (+{len(stats.sizes) - 1} more)" if len(stats.sizes) > 1 else ""
        cards.append(_fact("size", f"image size{more}", size))
    return cards


def _usage_table(title: str, key: str, rows: list[tuple[str, int, float]], total: int) -> str:
    body = "".join(
        f'<tr data-id="{_e(i)}" data-uses="{n}" data-mean="{rounded(c)}">'
        f'<td class="id">{_e(i)}</td><td class="n">{n:,}</td>'
        f'<td class="n">{n / max(total, 1) * 100:.1f}%</td><td class="n">{_pct(c)}</td></tr>'
        for i, n, c in rows
    )
    return (
        f'<div class="tablecard"><h3>{_e(title)}</h3><table data-usage="{_e(key)}">'
        '<tr><th>id</th><th class="n">uses</th><th class="n">share</th>'
        f'<th class="n">mean coverage</th></tr>{body}</table></div>'
    )


def usage(stats: ExportStats, plots: str = "", k: int = 20) -> str:
    parts = []
    for name, table in (
        ("occluders", stats.occluders),
        ("textures", stats.textures),
        ("faces", stats.faces),
    ):
        if not table.distinct:
            continue
        top, bottom = table.top_bottom(k)
        label = name.capitalize()
        first = f"{label}: most used" if bottom else f"{label} ({table.distinct})"
        parts.append(_usage_table(first, f"{name}-top", top, table.total))
        if bottom:
            parts.append(
                _usage_table(
                    f"{label}: least used (of {table.distinct:,})",
                    f"{name}-bottom",
                    bottom,
                    table.total,
                )
            )
    if not parts:
        return ""
    cards = f'<section class="plots usage-plots">{plots}</section>' if plots else ""
    return f'<h2 id="usage">Usage</h2>{cards}<div class="tables">' + "".join(parts) + "</div>"


def failures(stats: ExportStats) -> str:
    fail = stats.failures
    head = (
        f'<h2 id="failures">Failures <small>{fail.samples:,} samples failed, '
        f"{fail.inputs:,} inputs unusable</small></h2>"
    )
    if not fail.reasons:
        return head + '<p class="muted">None.</p>'
    blocks = []
    for reason, count, files in fail.grouped():
        items = "".join(
            f"<li>{_e(f['path'])}"
            + ("" if f["index"] is None else f' <span class="muted">(sample {f["index"]})</span>')
            + "</li>"
            for f in files
        )
        more = count - len(files)
        tail = f'<li class="muted">and {more:,} more</li>' if more > 0 else ""
        blocks.append(
            f'<div class="reason" data-count="{count}"><b>{count:,}×</b> {_e(reason)}'
            f"<ul>{items}{tail}</ul></div>"
        )
    return head + "".join(blocks)


def _sample(thumb: Thumb) -> str:
    row = thumb.row
    files = row.get("files", {})
    occluder = row.get("occluder_id") or ""
    if str(occluder).startswith("shape:"):
        occluder = row.get("texture_id") or "flat colour"
    caption = (
        f"<b>{_e(row['stem'])}</b> · {_pct(float(row['coverage']))} covered · {_e(occluder)}"
        "<br>"
        + " · ".join(
            f'<a href="{_link(rel)}">{_e(kind.replace("_", " "))}</a>'
            for kind, rel in files.items()
        )
    )
    if thumb.error or not thumb.image or not thumb.labels:
        return f'<div class="error"><b>{_e(row["stem"])}</b>: {_e(thumb.error)}</div>'
    image_href = _link(files.get("image", thumb.image))
    mask_href = _link(files.get("occlusion_mask", files.get("mask", thumb.labels)))
    return (
        f'<figure class="sample" data-stem="{_e(row["stem"])}" '
        f'data-coverage="{float(row["coverage"])!r}"><div class="pair">'
        f'<a href="{image_href}"><img src="{_link(thumb.image)}" alt="{_e(row["stem"])}" '
        'title="the exported image"></a>'
        f'<a href="{mask_href}"><img src="{_link(thumb.labels)}" alt="labels" '
        'title="labels: visible face green, occluder red"></a>'
        f"</div><figcaption>{caption}</figcaption></figure>"
    )


def samples(thumbs: dict[str, list[Thumb]]) -> str:
    if not any(thumbs.values()):
        return ""
    bins = []
    for name, items in thumbs.items():
        if items:
            tiles = "".join(_sample(t) for t in items)
            bins.append(
                f'<div class="bin" data-bin="{name}"><h3>{BIN_TITLES[name]}</h3>'
                f'<div class="samples">{tiles}</div></div>'
            )
    return (
        '<h2 id="samples">Samples <small>image and labels (green: visible face, red: '
        "occluder); click to open the files</small></h2>" + "".join(bins)
    )


def fixed_table(stats: ExportStats) -> str:
    fixed = stats.fixed()
    if not fixed:
        return ""
    items = "".join(
        f'<div data-key="{_e(k)}"><span class="muted">{_e(k)}</span> <b>{_e(v)}</b></div>'
        for k, v in fixed.items()
    )
    return (
        '<h2 id="fixed">Fixed parameters <small>the same in every sample</small></h2>'
        f'<div class="tablecard fixed">{items}</div>'
    )


def _cards(plots: list[tuple[str, str, str]], section: str) -> str:
    return "".join(
        f'<div class="plot" id="{_e(anchor)}">{svg}</div>'
        for anchor, where, svg in plots
        if where == section
    )


def _constants(constants: list[tuple[str, str, str]], rows: int) -> str:
    if not constants:
        return ""
    return (
        '<section class="constants">'
        + "".join(
            f'<div class="fact" id="{_e(anchor)}" data-constant="{_e(value)}"><b>{_e(value)}</b>'
            f"<span>{_e(title)}: the same in all {rows:,} samples</span></div>"
            for title, value, anchor in constants
        )
        + "</section>"
    )


def page(
    stats: ExportStats,
    plots: list[tuple[str, str, str]],
    thumbs: dict[str, list[Thumb]],
    constants: list[tuple[str, str, str]] | None = None,
) -> str:
    """The whole report page. ``plots`` are ``(anchor, section, inline svg)`` triples,
    ``constants`` ``(title, value, anchor)`` of the named parameters that do not vary."""
    name = stats.job.get("preset") or stats.out.name
    notes = (
        '<div class="notes">' + "<br>".join(_e(n) for n in stats.notes) + "</div>"
        if stats.notes
        else ""
    )
    usage_plots = _cards(plots, "usage")
    other = _cards(plots, "other")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Export report: {_e(name)}</title><style>{CSS}</style></head><body><main>"
        f"<header><h1>Export report: {_e(name)}</h1>"
        f"<p>{_e(stats.out)}</p></header>"
        f'<section class="facts">{"".join(facts(stats))}</section>{notes}'
        '<h2 id="distributions">Distributions</h2>'
        f'<section class="plots">{_cards(plots, "main")}</section>'
        f"{_constants(constants or [], stats.rows)}"
        f"{samples(thumbs)}"
        f"{usage(stats, usage_plots)}{failures(stats)}"
        + (
            '<h2 id="other">Other parameters that vary</h2>'
            f'<section class="plots">{other}</section>'
            if other
            else ""
        )
        + f"{fixed_table(stats)}"
        f"<footer>Made by occlusion-studio {_e(__version__)} (studio report) from "
        "manifest.jsonl, failures.jsonl, job.json and stats.json; the numbers are in "
        '<a href="report/summary.json">report/summary.json</a>.</footer>'
        "</main></body></html>\n"
    )
