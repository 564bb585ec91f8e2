"""Optional outputs of train and compare: figures (matplotlib, the ``report`` extra) and
model.onnx (the ``onnx`` package). Each returns None when written, else a one-line note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from studio.report import INSTALL_HINT


def _figure(path: Path, name: str, *args: Any) -> str | None:
    """Draw the figure ``name`` of :mod:`.plots` into ``path``; a note without matplotlib."""
    try:
        from studio.integrations.train import plots
    except ImportError:
        return f"{path.name} skipped: {INSTALL_HINT}"
    getattr(plots, name)(*args, path)
    return None


def write_curve(path: Path, history: list[dict[str, Any]]) -> str | None:
    """curve.png: loss and validation scores per epoch."""
    return _figure(path, "training_curve", history)


def write_compare_figure(path: Path, rows: list[dict[str, Any]]) -> str | None:
    """compare.png: curves and bars of every model."""
    return _figure(path, "compare_figure", rows)


def write_onnx(net: torch.nn.Module, size: int, path: Path, device: torch.device) -> str | None:
    """model.onnx for a (1, 3, size, size) input, where the onnx package is installed."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        return f"{path.name} skipped: the onnx package is not installed"
    was_training = net.training
    net.to("cpu").eval()
    try:
        dummy = torch.zeros(1, 3, size, size)
        torch.onnx.export(net, (dummy,), str(path), dynamo=False)
    except Exception as err:  # the exporter's failures are many; the run itself is done
        return f"{path.name} skipped: the ONNX export failed ({type(err).__name__}: {err})"
    finally:
        net.to(device).train(was_training)
    return None
