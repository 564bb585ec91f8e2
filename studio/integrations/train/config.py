"""What ``studio train``, ``evaluate`` and ``compare`` take, as typed values without torch: the
commands build them from their flags, the studio from its widgets (the commands' ``arguments``
turn them back into a command line), and the jobs run them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.model.errors import InputError
from studio.core.model.vocab import TrainTarget, values

DEFAULT_EPOCHS = 10


@dataclass
class TrainConfig:
    """Everything ``studio train`` takes. One of ``epochs``, ``steps``, ``minutes`` is the
    budget (``epochs`` = 10 when none is given)."""

    data: list[str]
    out: str
    target: str = "face"
    size: int = 256
    epochs: int | None = None
    steps: int | None = None
    minutes: float | None = None
    batch: int = 8
    lr: float = 2e-3
    width: int = 16
    depth: int = 4
    seed: int = 0
    device: str = "auto"
    loader_workers: int = 0  #: DataLoader processes (0: load in the training process)
    threads: int | None = None  #: torch CPU threads (None: torch's default); results depend on it
    length: int | None = None  #: items per data set per epoch (cycles or cuts each set)
    flip: bool = True
    occlude: str | None = None  #: preset of the on-line RandomOcclusion
    occluders: str | None = None
    textures: str | None = None
    occlude_p: float = 0.5
    val: str | None = None  #: scored after each epoch (at the training size)
    val_limit: int = 100
    include_rejected: bool = False  #: keep an export's samples its review rejected
    extra: dict[str, Any] = field(default_factory=dict)  #: recorded, not used (compare's notes)

    def check(self) -> None:
        budgets = [b for b in (self.epochs, self.steps, self.minutes) if b is not None]
        if len(budgets) > 1:
            raise InputError("give one budget: --epochs, --steps or --minutes")
        if not budgets:
            self.epochs = DEFAULT_EPOCHS
        for name in ("epochs", "steps", "minutes"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise InputError(f"--{name} must be positive, got {value}")
        multiple = 2 ** (self.depth - 1)  # the U-Net's input multiple
        if self.size < 16 or self.size % multiple:
            raise InputError(f"--size must be a multiple of {multiple} and at least 16")
        if self.batch < 1:
            raise InputError("--batch must be at least 1")
        if not self.data:
            raise InputError("no training data given")
        if self.target not in values(TrainTarget):
            raise InputError(
                f"target must be one of {', '.join(values(TrainTarget))}, got {self.target!r}"
            )


@dataclass
class CompareConfig:
    presets: list[str]
    faces: str
    test: str
    out: str
    count: int = 300
    minutes: float | None = None
    steps: int | None = None
    size: int = 128
    batch: int = 8
    width: int = 16
    seed: int = 0
    device: str = "auto"
    workers: int | None = None  #: export worker processes (default: all cores)
    threads: int | None = None  #: torch CPU threads of the training
    occluders: str | None = None  #: overrides every preset's occluders
    textures: str | None = None  #: overrides every preset's textures
    val_limit: int = 100

    def check(self) -> None:
        if not self.presets:
            raise InputError("give at least one preset")
        if self.minutes is not None and self.steps is not None:
            raise InputError("give one budget: --minutes or --steps")
        if self.minutes is None and self.steps is None:
            self.minutes = 2.0
        if self.count < 1:
            raise InputError(f"--count must be positive, got {self.count}")


@dataclass
class EvaluateConfig:
    """Everything ``studio evaluate`` takes."""

    run: str  #: run folder of studio train, or its model.pt
    test: str  #: test set folder
    out: str | None = None  #: report folder (None: RUN/evaluate)
    device: str = "auto"
    limit: int | None = None  #: only the first N test images
    batch: int = 8  #: images per forward pass
    include_rejected: bool = False  #: keep an export's samples its review rejected
