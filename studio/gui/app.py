"""Start the studio: `python main.py [--faces DIR] [--occluders DIR] [--textures DIR]
[--preset P] [--face F] [--occluder O] [--review DIR [--compare DIR]] [--screenshot OUT]`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from studio.core.export.records import is_export
from studio.core.export.review.overlays import VIEWS
from studio.core.sources.layouts import ROLES

FIRST_FRAME_TIMEOUT_MS = 60_000


def _range_filter(text: str) -> tuple[str, tuple[float, float]]:
    """``coverage=0.3:0.6`` -> ``("coverage", (0.3, 0.6))`` (an empty end is open)."""
    key, equals, span = text.partition("=")
    low, colon, high = span.partition(":")
    try:
        if not (key and equals and colon):
            raise ValueError(text)
        bounds = (float(low) if low else float("-inf"), float(high) if high else float("inf"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: want FIELD=LOW:HIGH") from None
    return key, bounds


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py", description="Open Occlusion Studio.")
    p.add_argument("--preset", help="preset YAML to open, or a shipped preset's name")
    for role in ROLES:
        p.add_argument(
            f"--{role}",
            metavar="PATH",
            help=f"open these {role} (a folder in any layout the studio reads"
            + (", or a COCO .json)" if role == "occluders" else ")"),
        )
    p.add_argument("--face", help="face id (file name in the face folder) to show first")
    p.add_argument("--occluder", help="occluder id to show first")
    p.add_argument(
        "--review", metavar="DIR", help="review the samples of an export folder (its own window)"
    )
    p.add_argument(
        "--compare", metavar="DIR", help="with --review: a second export, side by side"
    )
    p.add_argument(
        "--view",
        choices=VIEWS,
        help="with --review: what the tiles show over the images (for screenshots)",
    )
    p.add_argument(
        "--filter",
        metavar="FIELD=LOW:HIGH",
        type=_range_filter,
        action="append",
        help="with --review: keep the samples whose FIELD lies in [LOW, HIGH] (a number "
        "field, e.g. coverage=0.3:0.6; repeatable)",
    )
    p.add_argument("--sort", metavar="FIELD", help="with --review: sort the samples by FIELD")
    p.add_argument("--screenshot", metavar="OUT.png", help="save a grab of the window and exit")
    p.add_argument(
        "--tab",
        choices=("preview", "samples", "export", "evaluate"),
        default="preview",
        help="which tab to show first (for screenshots)",
    )
    return p


def freeze_heap() -> None:
    """Move the objects made at start-up (modules, Qt wrappers, the window) out of the cyclic
    garbage collector's reach: a full collection then walks only newer objects, so one
    triggered by a worker thread (scanning 30,000 names allocates a lot) no longer stops the
    UI thread for tens of milliseconds."""
    import gc

    gc.collect()
    gc.freeze()


def display_problem() -> str | None:
    """Why no window can be opened here, or None."""
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc"):
        return None
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return (
            "no display found (DISPLAY is not set): run it in a desktop session, "
            "or headless with `xvfb-run python main.py`"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.compare or args.view or args.filter or args.sort) and not args.review:
        parser.error("--compare, --view, --filter and --sort go with --review")
    for folder in (args.review, args.compare):
        if folder and not is_export(folder):  # a folder or a URL (s3://...)
            print(f"studio: error: {folder}: not an export folder (no manifest.jsonl)",
                  file=sys.stderr)  # fmt: skip
            return 2
    problem = display_problem()
    if problem:
        print(f"studio: error: {problem}", file=sys.stderr)
        return 2
    try:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QApplication
    except ImportError as err:
        print(
            f"studio: error: the studio needs PySide6 ({err}); run `make run` or "
            "`pip install -e .[gui]`",
            file=sys.stderr,
        )
        return 2
    from studio.gui.style import apply_style
    from studio.gui.window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Occlusion Studio")
    app.setOrganizationName("OcclusionStudio")
    apply_style(app)
    from studio.core.io.paths import preset_path
    from studio.core.model.errors import StudioError

    try:
        preset = preset_path(args.preset) if args.preset else None
    except StudioError as err:
        print(f"studio: error: {err.line()}", file=sys.stderr)
        return 2
    window = MainWindow(preset_path=preset)
    if window.messages and args.preset:
        print(f"studio: error: {window.messages[-1]}", file=sys.stderr)
    shown = len(window.messages)
    picks = {"faces": args.face or "", "occluders": args.occluder or ""}
    for role in ROLES:
        path = getattr(args, role)
        if path:
            window.open_path(str(Path(path).expanduser()), role, picks.pop(role, ""), replace=True)
    if picks.get("faces"):
        window.choose_face(picks["faces"])
    if picks.get("occluders"):
        window.choose_occluder(picks["occluders"])
    window.show_tab(args.tab)
    window.show()
    shown_window = window
    if args.review:
        shown_window = window.open_review(args.review, args.compare)
        shown_window.view.ask(args.view, dict(args.filter or ()), args.sort)
    freeze_heap()
    if not args.screenshot:
        return app.exec()

    def report_messages() -> None:  # sources that did not open, said once in the shell
        review = [] if shown_window is window else shown_window.messages
        for line in window.messages[shown:] + review:
            print(f"studio: error: {line}", file=sys.stderr)

    status = {"code": 1}

    def grab() -> None:
        report_messages()
        out = Path(args.screenshot)
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = shown_window.grab().save(str(out))
        status["code"] = 0 if ok else 2
        if not ok:
            print(f"studio: error: {out}: cannot write the screenshot", file=sys.stderr)
        window.shutdown()
        app.quit()

    def ready() -> None:  # the review waits for its thumbnails in view
        QTimer.singleShot(400, lambda: shown_window.when_idle(grab))

    def timeout() -> None:
        print("studio: error: no preview frame within 60 s", file=sys.stderr)
        window.shutdown()
        app.exit(2)

    if window.preview.last_frame is not None or window.canvas.has_notice:
        ready()
    else:
        window.firstFrame.connect(ready)
    QTimer.singleShot(FIRST_FRAME_TIMEOUT_MS, timeout)
    app.exec()
    return status["code"]
