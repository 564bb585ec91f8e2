"""Optional outputs of train and compare: figures (matplotlib, the ``report`` extra) and
model.onnx (the ``onnx`` package). Each returns None when written, else a one-line note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch


def write_curve(path: Path, history: list[dict[str, Any]]) -> str | None:
    """curve.png: loss and validation scores per epoch."""
    try:
        from studio.integrations.train.plots import training_curve
    except ImportError:
        return f"{path.name} skipped: matplotlib is not installed (pip install -e '.[report]')"
    training_curve(history, path)
    return None


def write_compare_figure(path: Path, rows: list[dict[str, Any]]) -> str | None:
    """compare.png: curves and bars of every model."""
    try:
        from studio.integrations.train.plots import compare_figure
    except ImportError:
        return f"{path.name} skipped: matplotlib is not installed (pip install -e '.[report]')"
    compare_figure(rows, path)
    return None


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
