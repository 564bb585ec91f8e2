"""``studio export``: render a whole data set from a preset, resumable and in parallel."""

from __future__ import annotations

import argparse
import contextlib
import sys

from studio.commands.flags import (
    add_backend,
    add_out,
    add_progress,
    add_seed,
    add_storage_options,
    add_workers,
    byte_size,
    from_args,
    positive_int,
    to_argv,
)
from studio.commands.printer import EventPrinter, StreamClosed, say, silence
from studio.core.export import export_events
from studio.core.export.job import FAILURES
from studio.core.export.shards import DEFAULT_SAMPLES, FORMATS
from studio.core.export.spec import ExportSpec
from studio.core.jobs.cancel import cancel_on_signals
from studio.core.jobs.events import Event
from studio.core.model.errors import InputError
from studio.core.model.vocab import EngineName, OutputLayout, values
from studio.report import require_matplotlib, write_report


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a data set from a preset (resumable, parallel)",
        description="Render COUNT samples from PRESET into DIR: images, masks, occlusion masks, "
        "manifest.jsonl, failures.jsonl, job.json and stats.json. Byte-identical whatever the "
        "worker count, engine or resumes. Exit 0 when the job finished (unusable inputs are "
        "listed in failures.jsonl), 2 when it could not run, 130 when stopped (resumable).",
    )
    p.add_argument("preset", help="preset YAML file, or a shipped preset's name (studio presets)")
    add_out(
        p,
        "output folder (new/empty, or the job to resume); a URL writes to a store: "
        "s3://bucket/prefix, gs://... (the 'cloud' extra)",
    )
    p.add_argument(
        "--count", type=positive_int, help="number of samples (default: faces x count_per_face)"
    )
    add_seed(p, default=None, help="job seed (default: the preset's output.seed)")
    add_workers(p)
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the job in --out (every recorded sample's files are checked by size; "
        "missing or damaged ones are made again)",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="with --resume: also compare each recorded file's hash (reads every file)",
    )
    p.add_argument(
        "--data",
        metavar="ROOT",
        help="folder that the preset's relative source paths are relative to (default: the "
        "preset's folder); e.g. the reference generator's dataset/ folder",
    )
    p.add_argument(
        "--faces",
        help="faces: any layout (images+masks pair, X_img/ + X_mask/, CelebAMask-HQ, photos "
        "without masks); replaces the preset's faces and face_masks",
    )
    p.add_argument("--face-masks", help="mask folder of --faces (matched by file stem)")
    p.add_argument(
        "--occluders",
        help="occluders: RGBA cut-outs, images+masks, or a COCO instances .json; replaces the "
        "preset's occluders and occluder_masks",
    )
    p.add_argument("--occluder-masks", help="mask folder of --occluders (matched by file stem)")
    p.add_argument("--textures", help="texture folder tree for randocc (replaces the preset's)")
    p.add_argument("--layout", choices=values(OutputLayout), help="output folder names")
    p.add_argument(
        "--labels",
        action="store_true",
        help="also write multi-class label maps (labels/; faces with class maps: CelebAMask-HQ); "
        "the preset's output.labels",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="folder",
        help="folder: a file per image and mask (default); webdataset: tar shards under "
        "DIR/shards/, each sample's files under one key, the manifest their index",
    )
    p.add_argument(
        "--shard-samples",
        type=positive_int,
        help=f"samples a shard (webdataset; default {DEFAULT_SAMPLES}): shard k holds samples "
        "k*N to k*N+N-1, made and written by one worker",
    )
    p.add_argument(
        "--shard-bytes",
        type=byte_size,
        help="largest shard (webdataset; default 1GiB): a fuller shard goes on in another",
    )
    add_storage_options(p)
    p.add_argument("--engine", choices=values(EngineName), default="local")
    add_backend(p, default="cpu")
    p.add_argument(
        "--ray-address",
        help="Ray cluster address (with --engine ray); its nodes need no shared folder when "
        "--out and the sources are URLs",
    )
    add_progress(p)
    p.add_argument(
        "--report",
        action="store_true",
        help="write DIR/report.html and DIR/report.png when the job ends (see studio report)",
    )
    p.set_defaults(func=run)


def spec_from_args(args: argparse.Namespace) -> ExportSpec:
    """The job the command line describes."""
    return from_args(ExportSpec, args)


def arguments(spec: ExportSpec) -> list[str]:
    """The ``studio export`` arguments of ``spec`` (the studio starts its jobs with these)."""
    return ["export", *to_argv(spec, positional=("preset",))]


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    if spec.verify and not spec.resume:
        raise InputError("--verify goes with --resume (studio verify DIR checks a finished job)")
    if spec.report:
        require_matplotlib()  # now, not after the whole job
    engine = spec.make_engine()
    engine.start(spec.count)  # the workers load the engine while the job is planned
    plan = spec.plan()
    for line in plan.source_lines:
        say(line, sys.stderr)  # a closed stream: refused before any work (exit 2)
    printer = EventPrinter(args.progress)
    last: Event | None = None
    closed = False
    with cancel_on_signals() as cancel:
        try:
            for event in export_events(
                plan, engine, resume=spec.resume, verify=spec.verify, cancel=cancel
            ):
                last = event
                if spec.report and event.kind == "done" and not event.cancelled:
                    write_report(plan.out)  # before the "done" line: the studio then opens it
                if closed:
                    continue  # the samples in flight are still recorded
                try:
                    if event.kind == "note" and args.progress != "bar":  # the bar prints notes
                        say(event.message or "", sys.stderr)
                    printer(event)
                except StreamClosed:
                    closed = True
                    cancel.set()  # stop as on Ctrl-C: what was made is recorded, resumable
        finally:
            printer.close()
    assert last is not None
    failed, written = last.failed or 0, last.written or 0
    failures = f"; {failed} failed (see {plan.out / FAILURES})" if failed else ""
    stopped = (
        f"stopped: {last.done} of {plan.count} done in {plan.out}{failures}; "
        "continue with --resume"
    )
    if closed:
        with contextlib.suppress(StreamClosed):
            say(f"{stopped} (the output stream closed)", sys.stderr)
        silence()
        return 130
    log = printer.log
    if last.cancelled:
        say(stopped, log)
        return 130
    if written == 0:
        say(f"wrote no samples to {plan.out}: every sample failed{failures}", log)
        return 1
    if written < plan.count:
        say(f"wrote {written} of {plan.count} samples to {plan.out}{failures}", log)
        return 1
    replaced = " (each replaced by another draw)" if failed else ""
    say(f"wrote {written} samples to {plan.out}{failures}{replaced}", log)
    if spec.report:
        say(f"wrote {plan.out / 'report.html'} and {plan.out / 'report.png'}", log)
    return 0
