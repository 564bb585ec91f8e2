"""Old module paths of ``studio.core`` (before its regroup into model/engine/ops/io/...): they
keep importing, with a DeprecationWarning, for one release (0.2 drops them).

``import studio.core.render`` gives the module ``studio.core.engine.render`` itself (the same
object, so classes and functions are identical); ``studio.core.preset`` gives a module with the
names of both its new homes, :mod:`studio.core.model.preset` and :mod:`studio.core.io.presets`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
import warnings
from collections.abc import Sequence

#: old path -> new path(s) (several: one module with the public names of each)
MOVED: dict[str, tuple[str, ...]] = {
    "studio.core.errors": ("studio.core.model.errors",),
    "studio.core.vocab": ("studio.core.model.vocab",),
    "studio.core.params": ("studio.core.model.params",),
    "studio.core.spec": ("studio.core.model.spec",),
    "studio.core.inputs": ("studio.core.model.inputs",),
    "studio.core.preset": ("studio.core.model.preset", "studio.core.io.presets"),
    "studio.core.sample": ("studio.core.engine.sample",),
    "studio.core.resolve": ("studio.core.engine.resolve",),
    "studio.core.placement": ("studio.core.engine.placement",),
    "studio.core.prepare": ("studio.core.engine.prepare",),
    "studio.core.harmonize": ("studio.core.engine.harmonize",),
    "studio.core.render": ("studio.core.engine.render",),
    "studio.core.cache": ("studio.core.engine.cache",),
    "studio.core.coords": ("studio.core.engine.coords",),
    "studio.core.draw": ("studio.core.engine.draw",),
    "studio.core.sources.pool": ("studio.core.engine.pool",),
    "studio.core.backend": ("studio.core.ops.backend",),
    "studio.core.resample": ("studio.core.ops.resample",),
    "studio.core.imageio": ("studio.core.io.imageio",),
    "studio.core.writers": ("studio.core.io.writers",),
    "studio.core.safe_yaml": ("studio.core.io.safe_yaml",),
    "studio.core.paths": ("studio.core.io.paths",),
    "studio.core.thumbnails": ("studio.core.io.thumbnails",),
    "studio.core.contact_sheet": ("studio.core.io.contact_sheet",),
    "studio.core.facemask": ("studio.core.io.facemask",),
    "studio.core.synthetic": ("studio.core.sources.synthetic",),
}


def _caller_level() -> int:
    """``stacklevel`` of the first frame outside the import machinery and this module."""
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and (
        frame.f_code.co_filename.startswith("<frozen importlib")
        or frame.f_code.co_filename == __file__
    ):
        frame, level = frame.f_back, level + 1
    return level


class _MovedLoader(importlib.abc.Loader):
    def __init__(self, old: str, new: Sequence[str]) -> None:
        self.old, self.new = old, tuple(new)
        self.own_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        warnings.warn(
            f"{self.old} moved to {' and '.join(self.new)}; the old path goes in 0.2",
            DeprecationWarning,
            stacklevel=_caller_level(),
        )
        modules = [importlib.import_module(name) for name in self.new]
        if len(modules) == 1:
            self.own_spec = modules[0].__spec__  # the import machinery overwrites it
            return modules[0]
        merged = types.ModuleType(self.old, modules[0].__doc__)
        for module in modules:
            merged.__dict__.update(
                {k: v for k, v in vars(module).items() if not k.startswith("__")}
            )
        return merged

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run (the module was imported under its new path); its own spec back."""
        if self.own_spec is not None:
            module.__spec__ = self.own_spec


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _MovedLoader(fullname, new))


def install() -> None:
    """Let the old paths import (once per process)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
