"""The flags several commands share, defined once with one meaning each, and the command
line's words for the hints that core errors carry.

- ``--out``: where the command writes (a folder, or a file for ``facemask``/``sheet``).
- ``--seed``: the seed of everything the command draws (a non-negative integer).
- ``--workers``: processes that render samples (export, and the exports of a compare).
  Training's DataLoader processes are ``--loader-workers``.
- ``--backend``: where arrays are computed: ``auto`` (CUDA when usable), ``cpu``, ``cuda``;
  ``--device`` is the same flag (torch's word), kept as an alias.
- ``--progress``: ``bar`` (tqdm on stderr), ``jsonl`` (one job event per stdout line, what
  the studio reads), ``none``.
- ``--labels`` (export): also write multi-class label maps, as the preset's ``output.labels``.
- ``--storage-option KEY=VALUE`` (repeatable; every command that reads or writes exports or
  data sets, which may be URLs: ``s3://bucket/prefix``): an option of the store (an
  endpoint, a profile, ``anon=true``), beside what the environment sets (``AWS_ENDPOINT_URL``).
- ``--include-rejected``: read an export's samples that its review rejected (review.jsonl)
  too; without it they are left out (train, evaluate).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from studio.core.model.errors import Hint, StudioError
from studio.core.model.vocab import BackendName, values

PROGRESS_MODES = ("bar", "jsonl", "none")
T = TypeVar("T")

#: the command line's words for each hint of a core error (:data:`~studio.core.model.errors.Hint`)
HINTS: dict[Hint, str] = {
    "resume": "pass --resume to continue it, or choose another --out",
    "out": "choose another --out",
    "data": "pass --data ROOT, the folder that holds the preset's sources",
    "faces": "pass --faces DIR",
    "occluders": "pass --occluders DIR",
    "textures": "pass --textures DIR",
    "occluder_masks": "pass --occluder-masks DIR",
    "face_mask": "pass --face-mask MASK.png",
    "occluder_mask": "pass --occluder-mask MASK.png",
    "engine": "pass --engine ray",
}


def error_line(err: StudioError) -> str:
    """The one line a command prints for ``err``: its message and, when it carries one, the
    hint in the command line's words."""
    words = HINTS.get(err.hint) if err.hint is not None else None
    return f"{err.line()} ({words})" if words else err.line()


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def byte_size(text: str) -> int:
    """A size in bytes: ``1000000``, ``512MiB``, ``1GiB`` (K/M/G/T, with or without ``iB``)."""
    t = text.strip().lower().removesuffix("ib").removesuffix("b")
    unit = t[-1:] if t[-1:] in _UNITS else ""
    try:
        value = float(t[: len(t) - len(unit)]) * _UNITS[unit]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 512MiB, 1GiB)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 byte or more, got {text!r}")
    return int(value)


def add_storage_options(p: argparse.ArgumentParser) -> None:
    """``--storage-option KEY=VALUE``: options of the stores URLs point into (repeatable)."""
    p.add_argument(
        "--storage-option",
        action="append",
        metavar="KEY=VALUE",
        help="an option of the store behind s3://, gs://... URLs (repeatable): endpoint_url=, "
        "profile=, anon=true, ...; AWS_ENDPOINT_URL and the other usual variables apply too",
    )


def apply_storage_options(args: argparse.Namespace) -> None:
    """Give the command's ``--storage-option`` values to every store it opens."""
    from studio.core.io import remote

    remote.set_storage_options(remote.parse_options(getattr(args, "storage_option", None) or []))


def add_out(p: argparse.ArgumentParser, help: str, **kwargs: Any) -> None:
    """``--out``: where the command writes (``required=True`` unless a default is given)."""
    if "default" not in kwargs:
        kwargs.setdefault("required", True)
    p.add_argument("--out", help=help, **kwargs)


def add_seed(p: argparse.ArgumentParser, default: int | None = 0, help: str | None = None) -> None:
    """``--seed``: a non-negative integer."""
    text = help or ("random seed" + ("" if default is None else f" (default {default})"))
    p.add_argument("--seed", type=non_negative_int, default=default, help=text)


def add_workers(p: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--workers``: processes that render samples (default: all cores)."""
    p.add_argument(
        "--workers",
        type=positive_int,
        help=help or "worker processes that render samples (default: all cores)",
    )


def add_backend(p: argparse.ArgumentParser, default: str = "auto") -> None:
    """``--backend`` (alias ``--device``): auto, cpu or cuda."""
    p.add_argument(
        "--backend",
        "--device",
        dest="backend",
        choices=values(BackendName),
        default=default,
        help=f"where to compute: auto (CUDA when usable, else CPU), cpu or cuda "
        f"(default {default}; --device is the same flag)",
    )


def add_progress(p: argparse.ArgumentParser) -> None:
    """``--progress``: bar, jsonl or none."""
    p.add_argument(
        "--progress",
        choices=PROGRESS_MODES,
        default="bar",
        help="bar: tqdm on stderr; jsonl: one JSON event per line on stdout (for the studio)",
    )


def add_include_rejected(p: argparse.ArgumentParser) -> None:
    """``--include-rejected``: an export's rejected samples are read too."""
    p.add_argument(
        "--include-rejected",
        action="store_true",
        help="also read the samples an export's review rejected (review.jsonl; by default "
        "they are left out)",
    )


def flag_of(name: str, renames: Mapping[str, str] | None = None) -> str:
    """The flag of a spec field: ``--field-name`` unless renamed."""
    return (renames or {}).get(name, "--" + name.replace("_", "-"))


def to_argv(
    spec: Any,
    positional: Sequence[str] = (),
    renames: Mapping[str, str] | None = None,
    skip: Sequence[str] = (),
) -> list[str]:
    """The command-line arguments that make a command build ``spec`` again: the
    ``positional`` fields first (a list spreads), then a flag for every field that differs
    from its default (a true bool as a bare flag), except the ``skip`` ones (no flag). The
    inverse of :func:`from_args`."""
    argv: list[str] = []
    for name in positional:
        value = getattr(spec, name)
        argv += [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]
    for f in dataclasses.fields(spec):
        if f.name in positional or f.name in skip:
            continue
        value = getattr(spec, f.name)
        default = f.default if f.default is not dataclasses.MISSING else dataclasses.MISSING
        if value == default or value is None:
            continue
        flag = flag_of(f.name, renames)
        if isinstance(value, bool):
            if value:
                argv.append(flag)
            continue
        if isinstance(value, (list, tuple)):
            for item in value:
                argv += [flag, str(item)]
            continue
        argv += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return argv


def from_args(cls: type[T], args: argparse.Namespace, dests: Mapping[str, str] | None = None) -> T:
    """A spec of ``cls`` from parsed arguments: each field from the argument of the same name
    (or ``dests[field]``), left at its default when the parser has no such argument."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        dest = (dests or {}).get(f.name, f.name)
        if hasattr(args, dest):
            value = getattr(args, dest)
            values[f.name] = list(value) if isinstance(value, tuple) else value
    return cls(**values)
