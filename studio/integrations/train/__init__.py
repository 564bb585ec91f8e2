"""Train, evaluate and compare face-segmentation models on the studio's data (torch extra).

``studio train`` / ``studio evaluate`` / ``studio compare`` are built on these modules:

- :mod:`.metrics`: face IoU, mIoU (face + background, the paper's metric), boundary F-score;
  pure NumPy, importable without torch.
- :mod:`.model`: a compact U-Net trained from scratch (no pretrained weights, ever).
- :mod:`.data`: training and test sets read through ``studio.core.sources.open_source``.
- :mod:`.loop`: the training loop (checkpoint per epoch, ``--resume`` after ``kill -9``).
- :mod:`.evaluate`: predictions on a test set, report.json and the gallery of the worst images.
- :mod:`.compare`: the paper's experiment: a no-occlusion baseline against each preset.
- :mod:`.weights` (model.pt and checkpoints), :mod:`.outputs` and :mod:`.plots` (curves,
  figures, model.onnx: optional extras).

Everything but :mod:`.metrics` imports torch; call :func:`require_torch` first to turn a
missing install into one line that says how to get it.
"""

from __future__ import annotations

import os

from studio.core.model.errors import StudioError

INSTALL_HINT = "pip install -e '.[torch]' (or: pip install torch)"


class TorchMissing(StudioError):
    """torch is not installed (the ``torch`` extra)."""


def prepare_torch_env() -> None:
    """Let torch's OpenMP threads sleep, not spin, while they wait (``OMP_WAIT_POLICY=PASSIVE``
    unless set). Read when torch is first imported, so call this before. On a busy machine
    (the studio's preview, an export, other users) spinning threads steal each other's cores:
    on a loaded 2-core machine, 2-thread training ran 3-4x faster with it."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def require_torch(command: str) -> None:
    """Raise :class:`TorchMissing` with an install hint when torch cannot be imported."""
    prepare_torch_env()
    try:
        import torch  # noqa: F401
    except ImportError:
        raise TorchMissing(f"studio {command} needs PyTorch: {INSTALL_HINT}") from None
