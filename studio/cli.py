"""The ``studio`` command. Each sub-command lives in ``studio.commands.<name>``."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import traceback
from collections.abc import Sequence

from studio import __version__
from studio.commands.flags import apply_storage_options, error_line
from studio.commands.printer import EventPrinter, StreamClosed, silence
from studio.core.jobs.events import Event
from studio.core.model.errors import StudioError

# Sub-command modules; each defines ``register(subparsers)`` which sets ``func`` on its parser.
COMMAND_MODULES: tuple[str, ...] = (
    "render",
    "bench",
    "demo",
    "facemask",
    "inspect",
    "validate",
    "presets",
    "export",
    "verify",
    "review",
    "sheet",
    "report",
    "train",
    "evaluate",
    "compare",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Occlusion Studio: synthetic occluded faces with exact labels.",
    )
    parser.add_argument("--version", action="version", version=f"studio {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"studio.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        apply_storage_options(args)
        return int(args.func(args) or 0)
    except (StreamClosed, BrokenPipeError):
        silence()  # nothing can be shown any more; no error at exit either
        return 2
    except StudioError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"studio: error: {error_line(exc)}", file=sys.stderr)
        if getattr(args, "progress", None) == "jsonl":  # the studio reads the hint typed
            with contextlib.suppress(StreamClosed, BrokenPipeError):
                EventPrinter("jsonl")(Event.make("error", message=exc.line(), hint=exc.hint))
        return 2
    except KeyboardInterrupt:
        print("studio: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"studio: internal error: {type(exc).__name__}: {exc} (rerun with --debug)",
                file=sys.stderr,
            )
        return 1


if __name__ == "__main__":
    sys.exit(main())
