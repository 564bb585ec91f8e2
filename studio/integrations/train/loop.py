"""The training loop of ``studio train``: budget, schedule, checkpoints, resume, outputs.

Determinism: the weights start from ``torch.manual_seed(seed)``, the order of epoch ``e`` is a
permutation drawn from ``(seed, e)``, augmentations from ``(seed, e, index)``, and on CUDA
torch runs with deterministic algorithms (the CPU kernels used here are); so on the CPU the
same data, config, seed and thread count give the same weights and the same
``metrics.jsonl``, whatever ``--workers`` and however often the run was resumed (a resumed
epoch restarts at its last checkpoint and replays exactly). A ``--minutes`` budget ends where
the clock says, so its length is not reproducible; ``--epochs`` and ``--steps`` are.

Checkpoints (``checkpoint.pt``: weights, optimizer, position, history) are written at the end
of every epoch, every :data:`CHECKPOINT_SECONDS` of training inside long epochs, and when the
run is stopped (SIGTERM / Ctrl-C); each one atomically. ``--resume`` continues from the last.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from studio import __version__
from studio.core.io.remote import location
from studio.core.io.writers import write_bytes_atomic, write_json
from studio.core.jobs.events import Event
from studio.core.jobs.progress import Progress
from studio.core.jobs.records import check_resumable, first_difference
from studio.core.model.errors import InputError
from studio.integrations.train.config import TrainConfig
from studio.integrations.train.data import Target, TrainSet, make_occlusion, open_sets
from studio.integrations.train.evaluate import load_val_items, score_items
from studio.integrations.train.model import ModelConfig, UNet, parameter_count
from studio.integrations.train.outputs import write_curve, write_onnx
from studio.integrations.train.weights import (
    CHECKPOINT_FILE,
    MODEL_FILE,
    LoadedModel,
    load_torch,
    model_record,
    resolve_device,
    save_torch,
)

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
TIMING_FILE = "timing.json"
CURVE_FILE = "curve.png"
ONNX_FILE = "model.onnx"
CHECKPOINT_SECONDS = 300.0
WARMUP = 0.03  #: fraction of the budget with a linear learning-rate warm-up
FINAL_LR = 0.05  #: cosine decay ends at this fraction of the learning rate



def run_record(config: TrainConfig, device: str) -> dict[str, Any]:
    """What determines the weights (compared on --resume): paths resolved, no out/loader workers."""
    rec = asdict(config)
    for key in ("out", "loader_workers", "extra", "device", "threads"):
        rec.pop(key)
    rec["data"] = [str(location(p)) for p in config.data]  # a URL stays one
    for key in ("occlude", "occluders", "textures", "val"):
        if rec[key] is not None:
            rec[key] = str(location(rec[key]))
    rec["device"] = device
    rec["threads"] = torch.get_num_threads()  # CPU results differ with the thread count
    return rec


@dataclass
class TrainResult:
    out: Path
    steps: int
    epochs: int
    history: list[dict[str, Any]]
    finished: bool
    seconds: float

    @property
    def model(self) -> Path:
        return self.out / MODEL_FILE


def segmentation_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy plus soft Dice loss of the non-background classes (mean over classes).

    Dice counts each class's pixels against its own size, so a face covering 3 % of a photo
    weighs as much as one filling the frame; cross-entropy alone lets the background win.
    """
    ce = F.cross_entropy(logits, targets)
    probs = logits.softmax(dim=1)[:, 1:]
    onehot = F.one_hot(targets, logits.shape[1]).permute(0, 3, 1, 2)[:, 1:].to(probs.dtype)
    dims = (0, 2, 3)
    inter = (probs * onehot).sum(dims)
    total = probs.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + 1) / (total + 1)
    return ce + (1 - dice).mean()


def _learning_rate(base: float, progress: float) -> float:
    """Linear warm-up, then cosine decay to FINAL_LR x base, over progress in [0, 1]."""
    p = min(max(progress, 0.0), 1.0)
    if p < WARMUP:
        return base * (0.1 + 0.9 * p / WARMUP)
    t = (p - WARMUP) / (1 - WARMUP)
    return base * (FINAL_LR + (1 - FINAL_LR) * 0.5 * (1 + math.cos(math.pi * t)))


class _Run:
    """One training run: state, budget, checkpoints."""

    def __init__(self, config: TrainConfig, resume: bool, emit: Callable[[Event], None]) -> None:
        config.check()
        self.config, self.emit = config, emit
        self.out = Path(config.out)
        if config.threads:
            torch.set_num_threads(config.threads)
        self.device = resolve_device(config.device)
        self.target = Target.of(config.target)
        self.record = run_record(config, self.device.type)
        self.data = self._data()
        self.batches = math.ceil(len(self.data) / config.batch)
        self.total = config.steps or (config.epochs * self.batches if config.epochs else None)
        torch.manual_seed(config.seed)
        if self.device.type == "cuda":
            # the CPU kernels this network uses are deterministic already; the switch costs
            # 1.5 s of imports (torch._dynamo), so it is thrown only where it matters
            torch.use_deterministic_algorithms(True, warn_only=True)
            torch.backends.cudnn.benchmark = False
        self.net = UNet(ModelConfig(self.target.classes, config.width, config.depth))
        self.net.to(self.device)
        self.optim = torch.optim.AdamW(self.net.parameters(), lr=config.lr, weight_decay=1e-4)
        self.val = None
        if config.val:
            self.val = load_val_items(config.val, self.target, config.size, config.val_limit)
        self.state: dict[str, Any] = {
            "epoch": 0,
            "batch": 0,
            "steps": 0,
            "images": 0,
            "loss_sum": 0.0,
            "loss_count": 0,
            "elapsed": 0.0,
            "history": [],
            "timing": [],
            "finished": False,
        }
        self._prepare(resume)

    def _data(self) -> TrainSet:
        c = self.config
        sets = open_sets(c.data, self.target, c.include_rejected)
        occlusion = None
        if c.occlude:
            occlusion = make_occlusion(
                c.occlude,
                self.target,
                occluders=c.occluders,
                textures=c.textures,
                p=c.occlude_p,
                seed=c.seed,
            )
        self.sources = [
            {"path": str(s.path), "layout": s.layout, "images": len(s.ids()),
             "rejected_left_out": s.left_out}
            for s in sets
        ]  # fmt: skip
        return TrainSet(
            sets, c.size, seed=c.seed, occlusion=occlusion, flip=c.flip, length=c.length
        )

    def _prepare(self, resume: bool) -> None:
        ckpt = self.out / CHECKPOINT_FILE
        if ckpt.exists():
            if not resume:
                raise InputError("holds a training run", self.out, hint="resume")
            saved = load_torch(ckpt)
            difference = first_difference(saved["config"], self.record, holder="run")
            check_resumable(difference, self.out, holder="run")
            self.net.load_state_dict(saved["model"])
            self.optim.load_state_dict(saved["optim"])
            self.state = saved["state"]
            return
        if self.out.exists() and (not self.out.is_dir() or any(self.out.iterdir())):
            raise InputError("exists and is not an empty folder (and holds no run)", self.out)
        self.out.mkdir(parents=True, exist_ok=True)
        write_json(self.out / CONFIG_FILE, self._config_file())

    def _config_file(self) -> dict[str, Any]:
        return {
            "tool": "occlusion-studio",
            "version": __version__,
            "config": self.record,
            "sources": self.sources,
            "items_per_epoch": len(self.data),
            "steps_per_epoch": self.batches,
            "model": {
                **self.net.config.to_dict(),
                "parameters": parameter_count(self.net),
                "kind": "unet",
            },
            "notes": self.config.extra,
        }

    # ---- budget ------------------------------------------------------------------------------
    def progress(self) -> float:
        if self.config.minutes:
            return self.state["elapsed"] / (self.config.minutes * 60)
        return self.state["steps"] / self.total

    def budget_spent(self) -> bool:
        return self.progress() >= 1.0

    # ---- checkpoints and outputs -------------------------------------------------------------
    def checkpoint(self) -> None:
        save_torch(
            self.out / CHECKPOINT_FILE,
            {
                "config": self.record,
                "model": self.net.state_dict(),
                "optim": self.optim.state_dict(),
                "state": self.state,
            },
        )

    def write_metrics(self) -> None:
        lines = "".join(json.dumps(row, sort_keys=True) + "\n" for row in self.state["history"])
        write_bytes_atomic(self.out / METRICS_FILE, lines.encode())
        write_json(self.out / TIMING_FILE, {"epochs": self.state["timing"]})

    def finish(self) -> None:
        save_torch(self.out / MODEL_FILE, model_record(self.net, self.target, self.config.size))
        self.write_metrics()
        notes = [
            write_curve(self.out / CURVE_FILE, self.state["history"]),
            write_onnx(self.net, self.config.size, self.out / ONNX_FILE, self.device),
        ]
        for note in notes:
            if note:
                self.emit(Event.make("note", message=note))

    def model(self) -> LoadedModel:
        return LoadedModel(
            self.net, self.target, self.config.size, self.device, self.out / MODEL_FILE
        )


def _epoch_row(run: _Run, epoch: int) -> dict[str, Any]:
    s = run.state
    row: dict[str, Any] = {
        "epoch": epoch,
        "steps": s["steps"],
        "images": s["images"],
        "loss": s["loss_sum"] / max(1, s["loss_count"]),
        "lr": run.optim.param_groups[0]["lr"],
    }
    if run.val is not None:
        run.net.eval()
        scores = score_items(run.model(), run.val)
        run.net.train()
        row.update({f"val_{k}": scores[k] for k in ("face_iou", "miou", "boundary_f")})
    return row


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    cancel: Any = None,
    on_event: Callable[[Event], None] | None = None,
) -> TrainResult:
    """Train (or continue) the run ``config.out``; see the module docstring.

    ``cancel`` (a ``threading.Event``) stops after the current step with a checkpoint; the
    result then has ``finished=False`` and ``--resume`` continues.
    """
    emit = on_event or (lambda _e: None)
    run = _Run(config, resume, emit)
    s = run.state
    emit(
        Event.make(
            "start",
            out=str(run.out),
            total=run.total,
            unit="step",
            done=s["steps"],
            minutes=config.minutes,
            items=len(run.data),
            steps_per_epoch=run.batches,
            device=run.device.type,
            resumed=bool(s["steps"]) or s["finished"],
        )
    )
    if s["finished"]:
        if not (run.out / MODEL_FILE).exists():  # killed between the last checkpoint and model.pt
            run.finish()
        return _result(run, True)
    run.net.train()
    progress = Progress(run.total, done=s["steps"])
    last_checkpoint = time.perf_counter()
    stopped = False
    while not run.budget_spent() and not stopped:
        epoch = s["epoch"]
        run.data.set_epoch(epoch)
        order = np.random.default_rng([config.seed, epoch, 3]).permutation(len(run.data))
        batches = [order[i : i + config.batch].tolist() for i in range(0, len(order), config.batch)]
        loader = torch.utils.data.DataLoader(
            run.data, batch_sampler=batches[s["batch"] :], num_workers=config.loader_workers
        )
        t_epoch = time.perf_counter()
        for images, targets in loader:
            t0 = time.perf_counter()
            lr = _learning_rate(config.lr, run.progress())
            for group in run.optim.param_groups:
                group["lr"] = lr
            logits = run.net(images.to(run.device))
            loss = segmentation_loss(logits, targets.to(run.device))
            run.optim.zero_grad(set_to_none=True)
            loss.backward()
            run.optim.step()
            s["steps"] += 1
            s["batch"] += 1
            s["images"] += len(images)
            s["loss_sum"] += float(loss.item()) * len(images)
            s["loss_count"] += len(images)
            now = time.perf_counter()
            s["elapsed"] += now - t0
            event = _progress(run, progress, epoch)
            if event is not None:
                emit(event)
            if run.budget_spent():
                break
            if cancel is not None and cancel.is_set():
                stopped = True
                break
            if now - last_checkpoint >= CHECKPOINT_SECONDS:
                run.checkpoint()
                last_checkpoint = now
        epoch_ended = s["batch"] >= len(batches)
        if stopped and not epoch_ended:
            run.checkpoint()
            break
        row = _epoch_row(run, epoch)
        s["history"].append(row)
        s["timing"].append({"epoch": epoch, "seconds": time.perf_counter() - t_epoch})
        s["epoch"], s["batch"], s["loss_sum"], s["loss_count"] = epoch + 1, 0, 0.0, 0
        s["finished"] = run.budget_spent()
        run.write_metrics()
        run.checkpoint()
        last_checkpoint = time.perf_counter()
        emit(Event.make("epoch", **row))
        if cancel is not None and cancel.is_set():
            stopped = True
    if not stopped:
        s["finished"] = True
        run.checkpoint()
        run.finish()
    return _result(run, not stopped)


def _progress(run: _Run, progress: Progress, epoch: int) -> Event | None:
    """The progress event of the step just taken (None when the last one is too recent):
    images per second of training, the ETA of a time budget or of the steps left."""
    s = run.state
    rate = s["images"] / s["elapsed"] if s["elapsed"] > 0 else 0.0
    left = None
    if run.config.minutes:
        left = max(0.0, run.config.minutes * 60 - s["elapsed"])
    elif run.total and rate > 0:
        left = (run.total - s["steps"]) * run.config.batch / rate
    return progress.update(
        s["steps"],
        rate=rate,
        eta=left,
        epoch=epoch,
        loss=s["loss_sum"] / max(1, s["loss_count"]),
        progress=min(1.0, run.progress()),
    )


def _result(run: _Run, finished: bool) -> TrainResult:
    s = run.state
    result = TrainResult(run.out, s["steps"], s["epoch"], s["history"], finished, s["elapsed"])
    run.emit(
        Event.make(
            "done",
            out=str(run.out),
            cancelled=not finished,
            steps=s["steps"],
            epochs=s["epoch"],
            finished=finished,
            model_file=str(run.out / MODEL_FILE) if finished else None,
        )
    )
    return result
