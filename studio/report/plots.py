"""The report's plots, drawn with matplotlib (the ``report`` extra; Agg/SVG, no pyplot).

Each plot is a :class:`Plot`: a title and a function that draws on an ``Axes``, so the same
drawing goes into its own SVG (report.html) and into the one-sheet PNG (report.png). The named
plots come first (coverage, scale, rotation, centre, colour transfer, opacity, harmonisation:
the knobs and groups the parameter table, :mod:`studio.core.model.knobs`, names, in its order);
then every other parameter that varies, so new parameter groups appear without code changes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from studio.core.model.errors import StudioError
from studio.core.model.knobs import KNOBS, Group, Knob
from studio.report.collect import COVERAGE_EDGES, ExportStats
from studio.report.stats import Category, Numeric, Usage

INSTALL_HINT = (
    "the report needs matplotlib: pip install 'occlusion-studio[report]' (or pip install "
    "matplotlib)"
)
ACCENT = "#2f6bd8"
MARK = "#e4572e"
INK = "#2b2f36"
FAINT = "#8a93a3"
CARD_SIZE = (4.2, 2.7)  #: inches at 100 dpi: one plot card


def _record_key(path: tuple[str | int, ...]) -> str:
    """A RenderParams path as the report's key of it (``a.b``, ``a[0]``)."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def named_plots(table: Sequence[Knob] = KNOBS) -> dict[str, str]:
    """Key -> title of the named plots: each knob's own plot, shown even when the value is the
    same in every sample, in the table's order."""
    return {_record_key(k.path): k.plot for k in table if k.plot is not None}


def groups_and_order(table: Sequence[Knob] = KNOBS) -> tuple[dict[str, Group], dict[str, int]]:
    """Key prefix -> the group whose values it holds (their titles: ``Colour transfer: steps``),
    and key or key prefix -> its place in the table (the order of the named plots)."""
    groups: dict[str, Group] = {}
    order: dict[str, int] = {}
    for place, knob in enumerate(table):
        if not knob.path:
            continue
        order.setdefault(_record_key(knob.path), place)
        if len(knob.path) > 1 and isinstance(knob.path[1], str):
            groups.setdefault(f"{knob.path[0]}.", knob.group)
            order.setdefault(f"{knob.path[0]}.", place)
    if "harmonize." in groups:  # the spelling of older records
        groups["harmonise."], order["harmonise."] = groups["harmonize."], order["harmonize."]
    return groups, order


NAMED = named_plots()
ALWAYS = tuple(NAMED)
GROUPS, ORDER = groups_and_order()


def matplotlib_available() -> bool:
    """True when matplotlib can be imported (checked without importing it)."""
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None


def require_matplotlib() -> None:
    """Raise a one-line :class:`StudioError` when matplotlib cannot be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as err:
        raise StudioError(INSTALL_HINT) from err


@dataclass(frozen=True)
class Plot:
    """One plot: an anchor id, a title and how to draw it."""

    id: str
    title: str
    draw: Callable[[Any], None]
    section: str = "main"  #: where the page shows it: main, usage or other
    constant: str | None = None  #: the value, when it is the same in every sample


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(
        {
            "font.size": 8.5,
            "axes.titlesize": 9.5,
            "axes.titleweight": "bold",
            "axes.titlelocation": "left",
            "axes.edgecolor": "#c5cbd5",
            "axes.labelcolor": INK,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "axes.axisbelow": True,
            "grid.color": "#e6e9ef",
            "grid.linewidth": 0.8,
            "xtick.color": FAINT,
            "ytick.color": FAINT,
            "text.color": INK,
            "svg.fonttype": "none",  # text stays text (smaller, selectable)
            "svg.hashsalt": "occlusion-studio-report",  # deterministic ids
        }
    ):
        yield


def _group_of(key: str) -> str | None:
    return next((prefix for prefix in GROUPS if key.startswith(prefix)), None)


def _title_of(key: str) -> str:
    if key.startswith("len(") and key.endswith(")"):  # a list's length (shape points)
        return _title_of(key[4:-1]) + " (count)"
    if key in NAMED:
        return NAMED[key]
    prefix = _group_of(key)
    if prefix is not None:
        return f"{GROUPS[prefix].report_title}: {key[len(prefix) :].replace('_', ' ')}"
    return key.replace("_", " ")


def _named(key: str) -> bool:
    """A named plot: a knob's own, or a value of a group the report shows first."""
    prefix = _group_of(key)
    return key in NAMED or (prefix is not None and GROUPS[prefix].named)


def _rank(key: str) -> tuple[int, int, str]:
    if not _named(key):
        return 1, 0, key
    place = ORDER[key] if key in ORDER else ORDER[_group_of(key) or ""]
    return 0, place, key


def _bars(ax: Any, edges: list[float], counts: list[int], color: str = ACCENT) -> None:
    widths = [b - a for a, b in pairwise(edges)]
    ax.bar(edges[:-1], counts, width=widths, align="edge", color=color, linewidth=0)
    ax.set_ylabel("samples")


def _mean_line(ax: Any, mean: float, label: str = "mean") -> None:
    ax.axvline(mean, color=MARK, linewidth=1.2, linestyle="--")
    ax.text(
        mean,
        1.0,
        f" {label} {mean:.3g}",
        color=MARK,
        fontsize=7.5,
        va="top",
        transform=ax.get_xaxis_transform(),
    )


def _draw_number(key: str, num: Numeric, cat: Category | None) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        from matplotlib.ticker import MaxNLocator

        if not num.varies:  # one number, perhaps besides none/true/...: count them all
            merged = Category()
            merged.counts.update(cat.counts if cat is not None else {})
            merged.counts[f"{num.lo:g}"] += num.count
            _draw_category(key, merged)(ax)
            return
        if num.discrete:
            values, counts = num.bars()
            ax.bar(values, counts, width=_bar_width(values), color=ACCENT, linewidth=0)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylabel("samples")
            _mean_line(ax, num.mean)
        else:
            assert num.edges is not None and num.counts is not None
            _bars(ax, num.edges, num.counts)
            _mean_line(ax, num.mean)
        note = key
        if cat is not None:
            total = cat.total + num.count
            note += "; also " + ", ".join(
                f"{v} in {n / total * 100:.0f}%" for v, n in cat.ordered()[:3]
            )
        ax.set_xlabel(note, color=FAINT)

    return draw


def _constant(ax: Any, value: str, key: str, count: int) -> None:
    """A parameter with one value: the value, large, instead of a one-bar chart."""
    ax.set_axis_off()
    ax.text(
        0.5,
        0.56,
        value,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=26,
        color=ACCENT,
        fontweight="bold",
    )
    ax.text(
        0.5,
        0.3,
        f"{key} in all {count:,} samples" if count else key,
        transform=ax.transAxes,
        ha="center",
        va="center",
        color=FAINT,
    )


def _bar_width(values: list[float]) -> float:
    gaps = [b - a for a, b in pairwise(values)]
    return 0.8 * min(gaps) if gaps else 0.8


def _draw_category(key: str, cat: Category) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        if len(cat.counts) == 1:
            _constant(ax, next(iter(cat.counts)), key, cat.total)
            return
        items = cat.ordered()[:12]
        labels = [k for k, _ in items][::-1]
        counts = [n for _, n in items][::-1]
        ax.barh(labels, counts, height=0.55, color=ACCENT, linewidth=0)
        ax.grid(axis="y", visible=False)
        total = cat.total
        for y, n in enumerate(counts):
            ax.text(n, y, f" {n / total * 100:.0f}%", va="center", fontsize=8, color=INK)
        ax.set_xlabel(f"{key} (samples)", color=FAINT)
        ax.margins(x=0.15, y=0.2 if len(items) > 1 else 0.8)

    return draw


def _draw_coverage(stats: ExportStats) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        if not stats.rows:
            _constant(ax, "–", "no samples written yet", 0)
            return
        top = max(0.1, math.ceil(min(stats.coverage.hi, 1.0) * 10 - 1e-9) / 10)
        last = next(k for k, e in enumerate(COVERAGE_EDGES) if e >= top - 1e-12)
        _bars(ax, COVERAGE_EDGES[: last + 1], stats.coverage_counts[:last])
        ax.set_xlim(0, top)
        ax.set_xlabel("share of the face mask hidden by the occluder")
        ax.xaxis.set_major_formatter(_percent())
        _mean_line(ax, stats.coverage_median, "median")

    return draw


def _percent() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: f"{x * 100:.0f}%")


def _draw_center(stats: ExportStats) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        from matplotlib.patches import Rectangle

        heat = stats.center
        assert heat.edges is not None and heat.counts is not None
        xe, ye = heat.edges
        image = ax.imshow(
            heat.counts,
            extent=(xe[0], xe[-1], ye[-1], ye[0]),
            cmap="viridis",
            interpolation="nearest",
            aspect="auto",  # the face box is rarely square: fill the card
        )
        ax.add_patch(
            Rectangle((0, 0), 1, 1, fill=False, edgecolor=MARK, linewidth=1.4, linestyle="--")
        )
        ax.set_xlim(xe[0], xe[-1])
        ax.set_ylim(ye[-1], ye[0])
        ax.grid(False)
        ax.set_xlabel("x / face box width (dashed: the face box)")
        ax.set_ylabel("y / height")
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.05, pad=0.02)
        bar.set_label("samples")
        bar.outline.set_visible(False)

    return draw


def _draw_usage(usage: Usage, noun: str) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        ranked = usage.ranked()
        uses = [n for _, n, _ in ranked]
        mean = [c for _, _, c in ranked]
        many = len(ranked) >= 500
        ax.scatter(uses, mean, s=4 if many else 14, color=ACCENT, alpha=0.35 if many else 0.8,
                   linewidths=0)  # fmt: skip
        ax.set_xlabel(f"uses of the {noun}")
        ax.set_ylabel("its mean coverage")
        ax.yaxis.set_major_formatter(_percent())
        ax.margins(0.08)

    return draw


def _draw_face_uses(stats: ExportStats) -> Callable[[Any], None]:
    def draw(ax: Any) -> None:
        from collections import Counter

        per_use = Counter(stats.faces.uses.values())
        values = sorted(per_use)
        from matplotlib.ticker import MaxNLocator

        ax.bar(
            values,
            [per_use[v] for v in values],
            width=_bar_width(values),
            color=ACCENT,
            linewidth=0,
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if len(values) == 1:
            ax.set_xlim(values[0] - 2, values[0] + 2)
        ax.set_xlabel("samples made from the face")
        ax.set_ylabel("faces")

    return draw


def _constant_of(key: str, stats: ExportStats) -> str | None:
    num, cat = stats.numbers.get(key), stats.categories.get(key)
    if num is not None and cat is None and not num.varies:
        return f"{num.lo:g}"
    if cat is not None and num is None and len(cat.counts) == 1:
        return next(iter(cat.counts))
    return None


def build_plots(stats: ExportStats) -> list[Plot]:
    """Every plot of the report, by section: ``main`` (coverage, scale, rotation, centre,
    colour transfer, harmonisation, opacity), ``usage``, then ``other`` (every other parameter
    that varies, by key)."""
    numbers = stats.varying_numbers()
    categories = stats.varying_categories()
    for key in ALWAYS:
        if key in stats.numbers and key not in categories:
            numbers.setdefault(key, stats.numbers[key])
        elif key in stats.categories and key not in numbers:
            categories.setdefault(key, stats.categories[key])
    main = [Plot("coverage", f"Face coverage ({stats.rows:,} samples)", _draw_coverage(stats))]
    other: list[Plot] = []
    for key in sorted(set(numbers) | set(categories), key=_rank):
        anchor = "p-" + "".join(c if c.isalnum() else "-" for c in key)
        if key in numbers:
            draw = _draw_number(key, numbers[key], categories.get(key))
        else:
            draw = _draw_category(key, categories[key])
        named = _named(key)
        section = "main" if named else "other"
        plot = Plot(anchor, _title_of(key), draw, section, _constant_of(key, stats))
        (main if named else other).append(plot)
    if stats.center.count:  # after scale and rotation, as the issue lists them
        at = 1 + sum(p.id in ("p-area-ratio", "p-rotation") for p in main)
        main.insert(at, Plot("center", "Occluder centre over the face box", _draw_center(stats)))
    usage: list[Plot] = []
    for noun, table in (("occluder", stats.occluders), ("texture", stats.textures)):
        if table.distinct > 1:
            title = f"{noun.capitalize()}s: uses and mean coverage"
            usage.append(Plot(f"{noun}-usage", title, _draw_usage(table, noun), "usage"))
    if stats.faces.distinct > 1:
        title = "Faces: samples per face"
        usage.append(Plot("face-uses", title, _draw_face_uses(stats), "usage"))
    return main + usage + other


def plot_svg(plot: Plot) -> str:
    """One plot as an SVG document (no XML prolog: for inlining in HTML)."""
    from matplotlib.figure import Figure

    with _style():
        fig = Figure(figsize=CARD_SIZE, dpi=100, layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(plot.title)
        plot.draw(ax)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    start, end = text.find("<metadata>"), text.find("</metadata>")
    if 0 <= start < end:  # matplotlib's RDF block: bulk, nothing a reader sees
        text = text[:start] + text[end + len("</metadata>") :]
    return text


def sheet_png(plots: list[Plot], heading: str, columns: int = 4) -> bytes:
    """All plots on one PNG sheet, under a heading line."""
    from matplotlib.figure import Figure

    rows = max(1, math.ceil(len(plots) / columns))
    width, height = CARD_SIZE
    with _style():
        fig = Figure(figsize=(width * columns, height * rows + 0.5), dpi=100, layout="constrained")
        fig.suptitle(heading, x=0.01, ha="left", fontsize=12, fontweight="bold")
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, plot in zip(axes, plots, strict=False):
            ax.set_title(plot.title)
            plot.draw(ax)
        for ax in axes[len(plots) :]:
            ax.set_visible(False)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None}, facecolor="white")
    return buf.getvalue()
