"""``studio export``: render a whole data set from a preset, resumable and in parallel."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from studio.core.export import ExportEvent, export_events, make_engine, make_plan
from studio.core.export.inputs import POOL_ROLE
from studio.core.export.job import FAILURES
from studio.core.io import paths
from studio.core.io.presets import load_preset
from studio.core.model.errors import InputError
from studio.core.model.preset import Preset
from studio.core.model.vocab import BackendName, EngineName, OutputLayout, values
from studio.core.sources import SourceRef, refs_from_preset
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
    p.add_argument("--out", required=True, help="output folder (new/empty, or the job to resume)")
    p.add_argument("--count", type=int, help="number of samples (default: faces x count_per_face)")
    p.add_argument("--seed", type=int, help="job seed (default: the preset's output.seed)")
    p.add_argument("--workers", type=int, help="worker processes (default: all cores)")
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
    p.add_argument("--engine", choices=values(EngineName), default="local")
    p.add_argument(
        "--backend",
        choices=values(BackendName),
        default="cpu",
        help="compute backend of the renders (auto: CUDA when usable, else CPU)",
    )
    p.add_argument("--ray-address", help="Ray cluster address (with --engine ray)")
    p.add_argument(
        "--progress",
        choices=["bar", "jsonl", "none"],
        default="bar",
        help="bar: tqdm on stderr; jsonl: one JSON event per line on stdout (for the GUI)",
    )
    p.add_argument(
        "--report",
        action="store_true",
        help="write DIR/report.html and DIR/report.png when the job ends (see studio report)",
    )
    p.set_defaults(func=run)


class _Reporter:
    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.bar: Any = None

    def __call__(self, event: ExportEvent) -> None:
        if self.mode == "jsonl":
            sys.stdout.write(json.dumps(event.to_json()) + "\n")
            sys.stdout.flush()
            return
        if self.mode != "bar":
            return
        if event.event == "start":
            from tqdm import tqdm

            self.bar = tqdm(total=event.total, initial=event.done, unit="img", dynamic_ncols=True)
        elif event.event == "progress" and self.bar is not None:
            self.bar.update(event.done - self.bar.n)
            self.bar.set_postfix(failed=event.failed, refresh=False)
        elif event.event == "done" and self.bar is not None:
            self.bar.close()


def job_sources(preset: Preset, preset_path: Path, args: argparse.Namespace) -> dict:
    """The refs of the job: the preset's sources under the data root, with the command
    line's folders in place of the preset's. A preset folder that does not exist is named
    with the data root it was looked for under."""
    base = Path(args.data).expanduser() if args.data else preset_path.resolve().parent
    if args.data and not base.is_dir():
        raise InputError("--data: folder not found" if not base.exists() else "not a folder", base)
    overrides = {
        "faces": args.faces,
        "face_masks": args.face_masks,
        "occluders": args.occluders,
        "occluder_masks": args.occluder_masks,
        "textures": args.textures,
    }
    refs: dict[str, SourceRef] = refs_from_preset(preset.sources, base, overrides)
    needed = {"faces", POOL_ROLE[preset.mode]}
    for role, ref in refs.items():
        if role in needed and overrides.get(role) is None and not Path(ref.path).exists():
            hint = "" if args.data else " (pass --data ROOT, the folder that holds it)"
            raise InputError(
                f"folder not found: sources.{role} of the preset, under {base.resolve()}{hint}",
                ref.path,
            )
    return refs


def run(args: argparse.Namespace) -> int:
    if args.verify and not args.resume:
        raise InputError("--verify goes with --resume (studio verify DIR checks a finished job)")
    if args.report:
        require_matplotlib()  # now, not after the whole job
    preset_path = paths.preset_path(args.preset)
    preset = load_preset(preset_path)
    sources = job_sources(preset, preset_path, args)
    engine = make_engine(args.engine, args.workers, args.ray_address)
    engine.start(args.count)  # the workers load the engine while the job is planned
    plan = make_plan(
        preset,
        sources,
        args.out,
        seed=args.seed,
        count=args.count,
        layout=args.layout,
        backend=args.backend,
    )
    for line in plan.source_lines:
        print(line, file=sys.stderr)
    cancel = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        cancel.set()

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    reporter = _Reporter(args.progress)
    last: ExportEvent | None = None
    try:
        events = export_events(
            plan, engine, resume=args.resume, verify=args.verify, cancel=cancel
        )
        for event in events:
            if args.report and event.event == "done" and not event.cancelled:
                write_report(plan.out)  # before the "done" line: the GUI then opens it
            if event.event == "start" and event.repaired is not None and event.repaired.changed:
                _say_repaired(event.repaired)
            reporter(event)
            last = event
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    assert last is not None
    log = sys.stderr if args.progress == "jsonl" else sys.stdout
    failures = f"; {last.failed} failed (see {plan.out / FAILURES})" if last.failed else ""
    if last.cancelled:
        print(
            f"stopped: {last.done} of {plan.count} done in {plan.out}{failures}; "
            "continue with --resume",
            file=log,
        )
        return 130
    if last.written == 0:
        print(f"wrote no samples to {plan.out}: every sample failed{failures}", file=log)
        return 1
    print(f"wrote {last.written} samples to {plan.out}{failures}", file=log)
    if args.report:
        print(f"wrote {plan.out / 'report.html'} and {plan.out / 'report.png'}", file=log)
    return 0


def _say_repaired(repair: Any) -> None:
    """One stderr line on what the resume found damaged in the records (made again)."""
    parts = []
    if repair.damaged:
        index, reason = repair.damaged[0]
        count = len(repair.damaged)
        parts.append(f"{count} recorded samples damaged (first: sample {index}, {reason})")
    if repair.duplicate_rows:
        parts.append(f"{repair.duplicate_rows} duplicate manifest rows")
    if repair.torn_lines:
        parts.append("a torn last manifest line")
    print(f"resume: {'; '.join(parts)}: made again", file=sys.stderr)
