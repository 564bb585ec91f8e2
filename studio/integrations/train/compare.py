"""``studio compare``: is a preset better training data than no occlusion, for these faces?

The paper's experiment in one command. For the faces ``--faces`` (an images + masks folder):

1. each preset's data set is made by the project's exporter (``studio.core.export``):
   ``count`` samples of the faces, seed ``seed``, into ``OUT/data/<preset>`` (resumable,
   byte-identical for a seed). Exporting rather than occluding on the fly makes every training
   step cost the same for every model, and leaves data sets one can open and inspect;
2. the **baseline** trains on the unoccluded faces, and each preset's model on the faces plus
   the preset's export (the paper's "CelebAMask-HQ-WO + NatOcc"); each data set gives
   ``count`` items per epoch (the faces are cycled), so originals and synthetic samples weigh
   the same. Same seed, model, size, batch and number of steps for all: with ``--minutes`` the
   baseline trains for that long and its step count becomes every preset's budget (so a
   busy machine changes the times, never the budgets); ``--steps`` fixes it for all;
3. every model is scored on ``--test`` after each epoch (curves, at the training size) and at
   the end at full resolution (``studio evaluate``: report.json and gallery.png in
   ``OUT/eval/<model>``).

Writes ``OUT/compare.json`` (config, one row per model with scores, deltas to the baseline and
curves) and ``OUT/compare.png`` (curves and bars), and returns the table.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from studio.core.export import JOB, job_sources, make_engine, make_plan, run_export
from studio.core.io.presets import load_preset
from studio.core.io.writers import write_json
from studio.core.jobs.events import Event
from studio.core.model.errors import InputError
from studio.core.sources import open_source
from studio.integrations.train.config import CompareConfig
from studio.integrations.train.data import Target, open_test_set
from studio.integrations.train.evaluate import evaluate
from studio.integrations.train.loop import TrainConfig, train
from studio.integrations.train.outputs import write_compare_figure

COMPARE_FILE = "compare.json"
FIGURE_FILE = "compare.png"
BASELINE = "baseline"



class Cancelled(Exception):
    """The compare was stopped (it can be resumed)."""


def _names(presets: list[str]) -> list[str]:
    names: list[str] = []
    for p in presets:
        stem = Path(p).stem or "preset"
        name, k = stem, 2
        while name in names or name == BASELINE:
            name, k = f"{stem}-{k}", k + 1
        names.append(name)
    return names


def _face_folders(faces: str | Path) -> tuple[str, str | None]:
    """The faces folder and its mask folder (None where the layout has none), as the input
    layer recognises them: any face layout the exporter reads."""
    ref = open_source(faces, "faces").ref
    return ref.path, ref.masks


def _check_out(out: Path, resume: bool) -> None:
    if out.exists() and any(out.iterdir()) and not resume:
        raise InputError("is not empty (and holds no compare to resume)", out, hint="resume")
    out.mkdir(parents=True, exist_ok=True)


def format_table(rows: list[dict[str, Any]]) -> str:
    """The comparison as a text table (scores at full resolution, deltas to the baseline)."""
    name_w = max(len("model"), *(len(r["name"]) for r in rows))
    lines = [
        f"{'model':<{name_w}}  {'items/epoch':>11}  {'steps':>6}  {'face IoU':>8}  "
        f"{'mIoU':>6}  {'d mIoU':>7}  {'boundary F':>10}"
    ]
    for r in rows:
        delta = "" if r["name"] == BASELINE else f"{r['delta_miou']:+.4f}"
        lines.append(
            f"{r['name']:<{name_w}}  {r['items_per_epoch']:>11}  {r['steps']:>6}  "
            f"{r['face_iou']:>8.4f}  {r['miou']:>6.4f}  {delta:>7}  {r['boundary_f']:>10.4f}"
        )
    return "\n".join(lines)


class _Compare:
    def __init__(
        self, config: CompareConfig, resume: bool, cancel: Any, emit: Callable[[Event], None]
    ) -> None:
        config.check()
        self.config, self.resume, self.cancel, self.emit = config, resume, cancel, emit
        self.out = Path(config.out).resolve()
        self.images, self.masks = _face_folders(config.faces)
        self.names = _names(config.presets)
        for p in config.presets:
            load_preset(p)  # a bad preset fails now, not after the baseline's training
        if not open_test_set(config.test, Target.of("face")).ids():
            raise InputError("no usable test images found", config.test)

    def stopped(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled

    def tagged(self, model: str, stage: str) -> Callable[[Event], None]:
        return lambda event: self.emit(event.replace(model=model, stage=stage))

    def export(self, name: str, preset_path: str) -> Path:
        c = self.config
        preset = load_preset(preset_path)
        overrides = {
            "faces": self.images,
            "face_masks": self.masks,
            "occluders": c.occluders,
            "textures": c.textures,
        }
        sources = job_sources(preset, preset_path, overrides)
        data = self.out / "data" / name
        plan = make_plan(preset, sources, data, seed=c.seed, count=c.count)
        self.emit(Event.make("stage", model=name, stage="export", count=c.count))
        summary = run_export(
            plan,
            make_engine("local", c.workers),
            resume=(data / JOB).exists(),
            cancel=self.cancel,
            on_event=self.tagged(name, "export"),
        )
        if summary.cancelled:
            raise Cancelled
        return data

    def train(self, name: str, data: list[Path], steps: int | None) -> Any:
        c = self.config
        config = TrainConfig(
            data=[str(p) for p in data],
            out=str(self.out / "runs" / name),
            size=c.size,
            minutes=None if steps else c.minutes,
            steps=steps,
            batch=c.batch,
            width=c.width,
            seed=c.seed,
            device=c.device,
            threads=c.threads,
            length=c.count,
            val=c.test,
            val_limit=c.val_limit,
            extra={"compare": str(self.out), "model": name},
        )
        self.emit(Event.make("stage", model=name, stage="train"))
        result = train(config, resume=True, cancel=self.cancel, on_event=self.tagged(name, "train"))
        if not result.finished:
            raise Cancelled
        return result

    def evaluate(self, name: str) -> dict[str, Any]:
        self.emit(Event.make("stage", model=name, stage="evaluate"))
        ev = evaluate(
            self.out / "runs" / name,
            self.config.test,
            self.out / "eval" / name,
            device=self.config.device,
            batch=self.config.batch,
            on_event=self.tagged(name, "evaluate"),
            cancel=self.cancel,
        )
        return ev.report

    def model_row(
        self, name: str, preset: str | None, data: list[Path], result: Any
    ) -> dict[str, Any]:
        report = self.evaluate(name)
        row = {
            "name": name,
            "preset": None if preset is None else str(Path(preset).resolve()),
            "data": [str(p) for p in data],
            "items_per_epoch": self.config.count * len(data),
            "steps": result.steps,
            "epochs": result.epochs,
            "train_seconds": round(result.seconds, 1),
            **{
                k: report[k]
                for k in ("face_iou", "miou", "boundary_f", "face_iou_pooled", "miou_pooled")
            },
            "test_images": report["count"],
            "report": str(self.out / "eval" / name / "report.json"),
            "gallery": str(self.out / "eval" / name / "gallery.png"),
            "history": result.history,
        }
        scores = {k: v for k, v in row.items() if k != "history"}
        self.emit(Event.make("result", **{**scores, "model": name}))
        return row

    def run(self) -> dict[str, Any]:
        c = self.config
        _check_out(self.out, self.resume)
        t0 = time.perf_counter()
        self.emit(Event.make("plan", models=[BASELINE, *self.names], out=str(self.out)))
        rows = []
        faces = [Path(c.faces).resolve()]
        baseline = self.train(BASELINE, faces, c.steps)
        rows.append(self.model_row(BASELINE, None, faces, baseline))
        self.stopped()
        for name, preset in zip(self.names, c.presets, strict=True):
            data = [*faces, self.export(name, preset)]
            self.stopped()
            result = self.train(name, data, baseline.steps)
            rows.append(self.model_row(name, preset, data, result))
            self.stopped()
        for row in rows:
            row["delta_miou"] = row["miou"] - rows[0]["miou"]
            row["delta_face_iou"] = row["face_iou"] - rows[0]["face_iou"]
        summary = {
            "config": {**asdict(c), "minutes": c.minutes if c.steps is None else None},
            "budget_steps": baseline.steps,
            "models": rows,
        }
        write_json(self.out / COMPARE_FILE, summary)
        note = write_compare_figure(self.out / FIGURE_FILE, rows)
        if note:
            self.emit(Event.make("note", message=note))
        table = [{k: v for k, v in r.items() if k != "history"} for r in rows]
        self.emit(
            Event.make(
                "done",
                out=str(self.out),
                cancelled=False,
                compare=str(self.out / COMPARE_FILE),
                figure=None if note else str(self.out / FIGURE_FILE),
                table=table,
                seconds=round(time.perf_counter() - t0, 1),
            )
        )
        return summary


def compare(
    config: CompareConfig,
    *,
    resume: bool = False,
    cancel: Any = None,
    on_event: Callable[[Event], None] | None = None,
) -> dict[str, Any]:
    """Run the comparison (see the module docstring); raises :class:`Cancelled` when
    ``cancel`` was set (every finished part is kept: ``resume=True`` goes on)."""
    return _Compare(config, resume, cancel, on_event or (lambda _e: None)).run()
