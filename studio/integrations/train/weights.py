"""The files of a run: ``model.pt`` (weights + everything needed to predict) and checkpoints.

``model.pt`` is a ``torch.save`` dict: ``format``, ``version``, ``model`` (the
:class:`ModelConfig`), ``target``, ``size`` (the training side), ``classes``,
``face_classes`` and ``state_dict``. Loading needs no other file of the run. Every file is
written to a temporary name and renamed (``studio.core.io.writers``), so ``kill -9`` never leaves
a torn checkpoint.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from studio.core.io.writers import write_bytes_atomic
from studio.core.model.errors import BackendError, InputError
from studio.integrations.train.data import Target
from studio.integrations.train.model import ModelConfig, UNet

MODEL_FILE = "model.pt"
CHECKPOINT_FILE = "checkpoint.pt"
FORMAT = "occlusion-studio/segmenter"
VERSION = 1


def save_torch(path: str | Path, obj: Any) -> None:
    """``torch.save`` to ``path`` atomically (temporary file, fsync, rename)."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    write_bytes_atomic(path, buf.getvalue())


def load_torch(path: str | Path) -> Any:
    """A file written by :func:`save_torch` (tensors on the CPU); InputError when unreadable."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise InputError("not found", path) from None
    except Exception as err:  # torch raises many kinds for a bad file
        raise InputError(f"not a readable torch file ({type(err).__name__})", path) from None


def resolve_device(device: str) -> torch.device:
    """``auto`` (CUDA when torch sees a GPU, else CPU), ``cpu`` or ``cuda``."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise BackendError("--device cuda: torch sees no CUDA GPU (a CPU build, or no device)")
    if device not in ("cpu", "cuda"):
        raise BackendError(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda":  # deterministic cuBLAS (must be set before its first use)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return torch.device(device)


def model_record(net: UNet, target: Target, size: int) -> dict[str, Any]:
    """The content of model.pt."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": net.config.to_dict(),
        "target": target.name,
        "size": int(size),
        "classes": target.classes,
        "face_classes": list(target.face_classes),
        "state_dict": {k: v.detach().cpu() for k, v in net.state_dict().items()},
    }


@dataclass
class LoadedModel:
    """A trained network ready to predict, with what it was trained for."""

    net: UNet
    target: Target
    size: int
    device: torch.device
    path: Path


def model_file(run: str | Path) -> Path:
    """``RUN/model.pt`` for a run folder, or the file itself."""
    run = Path(run)
    return run / MODEL_FILE if run.is_dir() else run


def load_model(run: str | Path, device: str = "auto") -> LoadedModel:
    """The model of a run folder (or of a model.pt file), in eval mode on ``device``."""
    path = model_file(run)
    if not path.exists():
        raise InputError(f"no {MODEL_FILE} (is this a finished `studio train` run?)", path)
    record = load_torch(path)
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise InputError("not a model written by studio train", path)
    if record.get("version") != VERSION:
        raise InputError(f"model format version {record.get('version')} is not {VERSION}", path)
    net = UNet(ModelConfig(**record["model"]))
    net.load_state_dict(record["state_dict"])
    where = resolve_device(device)
    net.to(where).eval()
    return LoadedModel(net, Target.of(record["target"]), int(record["size"]), where, path)
