"""``studio report``: what an export holds, as one page of plots, tables and samples.

``write_report(out)`` reads the export folder ``out`` (streaming its manifest) and writes

- ``out/report.html``: self-contained (inline CSS and SVG plots, no scripts or network);
- ``out/report.png``: the same plots on one sheet;
- ``out/report/summary.json``: every number the page shows;
- ``out/report/thumbs/``: thumbnails of the lowest-, median- and highest-coverage samples.

The statistics (``studio.report.collect``) need only numpy; the plots need matplotlib (the
``report`` extra), imported when a report is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from studio.core.export.folder import ExportFolder
from studio.core.io.writers import json_bytes
from studio.report.collect import ExportStats, collect, pick_samples
from studio.report.plots import INSTALL_HINT, matplotlib_available, require_matplotlib

REPORT_HTML = "report.html"
REPORT_PNG = "report.png"
REPORT_DIR = "report"
SAMPLES_PER_BIN = 6

__all__ = [
    "INSTALL_HINT",
    "REPORT_HTML",
    "REPORT_PNG",
    "SAMPLES_PER_BIN",
    "Report",
    "collect",
    "matplotlib_available",
    "require_matplotlib",
    "write_report",
]


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote, and the statistics it showed."""

    html: Path
    png: Path
    summary: Path
    stats: ExportStats


def write_report(out: str | Path, samples_per_bin: int = SAMPLES_PER_BIN) -> Report:
    """Write the report of the export in ``out``.

    Raises
    ------
    StudioError
        when matplotlib is missing (the line says how to install it), or ``out`` is not a
        readable export (:class:`~studio.core.model.errors.InputError` naming the file).
    """
    require_matplotlib()
    with ExportFolder(out) as folder:
        return _write_report(folder, samples_per_bin)


def _write_report(folder: ExportFolder, samples_per_bin: int) -> Report:
    from studio.report import html, plots, thumbs

    out = folder.path
    stats = collect(out)
    picked = pick_samples(stats, samples_per_bin)
    chosen = thumbs.make_thumbs(folder, picked, f"{REPORT_DIR}/thumbs")
    figures = plots.build_plots(stats)
    svgs = [(p.id, p.section, plots.plot_svg(p)) for p in figures if p.constant is None]
    constants = [(p.title, p.constant, p.id) for p in figures if p.constant is not None]
    page = html.page(stats, svgs, chosen, constants)
    summary = stats.to_json()
    summary["shown_samples"] = {
        name: [t.row["stem"] for t in items] for name, items in chosen.items()
    }
    summary["plots"] = [p.title for p in figures if p.constant is None]
    summary["constants"] = {p.title: p.constant for p in figures if p.constant is not None}
    name = stats.job.get("preset") or out.name
    heading = (
        f"Export report: {name} · {stats.rows:,} samples · "
        f"{stats.failures.samples:,} failed · seed {stats.job.get('seed', '?')}"
    )
    report = Report(out / REPORT_HTML, out / REPORT_PNG, out / REPORT_DIR / "summary.json", stats)
    folder.write(f"{REPORT_DIR}/summary.json", json_bytes(summary))
    folder.write(REPORT_PNG, plots.sheet_png(figures, heading))
    folder.write(REPORT_HTML, page.encode("utf-8"))
    return report
