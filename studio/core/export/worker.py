"""Rendering one planned sample and writing its files (runs in worker processes).

Sample ``i`` draws everything from its own generator, seeded by ``SeedSequence(job seed,
spawn_key=(i,))``: which occluder or texture it uses, then its parameters. Each worker keeps
bounded caches of decoded inputs; they change speed, never bytes.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.errors import InputError, PlacementError, RenderError, StudioError
from studio.core.export.inputs import open_sources
from studio.core.export.plan import JobPlan
from studio.core.inputs import Face, Occluder, Texture
from studio.core.render import RenderCache, render
from studio.core.sample import sample
from studio.core.writers import encode_image, write_bytes_atomic

MAX_ATTEMPTS = 3  #: occluders tried per sample before it is recorded as failed
DEFAULT_CACHE_MB = 256  #: per-worker bound of the decoded-input cache


@dataclass
class Outcome:
    """What one sample gave: a manifest row, or failure rows (path + reason)."""

    index: int
    row: dict[str, Any] | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)
    pid: int = 0  #: worker process (for memory reports; not recorded in the manifest)
    rss_mb: float = 0.0  #: its resident memory after this sample


def _rss_mb() -> float:
    """Resident memory of this process in MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class ByteLRU:
    """An LRU cache of decoded inputs bounded by their array bytes (errors are cached too)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0
        self._items: OrderedDict[str, tuple[Any, int]] = OrderedDict()

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            value = self._items[key][0]
        else:
            try:
                value = make()
            except InputError as err:
                value = err
            size = _nbytes(value)
            self._items[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self.bytes -= dropped
        if isinstance(value, InputError):
            raise value
        return value


def _nbytes(value: Any) -> int:
    arrays = [getattr(value, name, None) for name in ("image", "alpha", "mask", "labels")]
    return 256 + sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


class SampleMaker:
    """Per-worker state: sources built from the plan, and bounded caches."""

    def __init__(self, plan: JobPlan, cache_mb: int = DEFAULT_CACHE_MB) -> None:
        self.plan = plan
        self.spec = plan.preset.engine()
        opened = open_sources(plan.preset, plan.sources)
        self.faces = opened.faces
        self.occluders = opened.occluders
        self.textures = opened.textures
        budget = cache_mb * 2**20
        self.input_cache = ByteLRU(budget * 3 // 4)
        self.face_cache = ByteLRU(budget // 4)
        self.render_cache = RenderCache(max_items=16)

    def _face(self, face_id: str) -> Face:
        return self.face_cache.get(face_id, lambda: self.faces.load(face_id))

    def _occluder(self, rng: np.random.Generator) -> tuple[str, Occluder | Texture | None]:
        plan = self.plan
        if plan.occluder_ids:
            item = plan.occluder_ids[int(rng.integers(len(plan.occluder_ids)))]
            return item, self.input_cache.get("o:" + item, lambda: self.occluders.load(item))
        if plan.texture_ids:
            item = plan.texture_ids[int(rng.integers(len(plan.texture_ids)))]
            return item, self.input_cache.get("t:" + item, lambda: self.textures.load(item))
        return "", None

    def make(self, index: int) -> Outcome:
        """Render sample ``index`` and write its files; the manifest row is returned."""
        outcome = self._make(index)
        outcome.pid, outcome.rss_mb = os.getpid(), _rss_mb()
        return outcome

    def _make(self, index: int) -> Outcome:
        plan = self.plan
        face_id = plan.face_for(index)
        outcome = Outcome(index)
        try:
            face = self._face(face_id)
        except InputError as err:
            outcome.failures.append(
                _failure(index, err, plan.sources.faces / face_id, plan.stem_for(index))
            )
            return outcome
        rng = np.random.default_rng(np.random.SeedSequence(plan.seed, spawn_key=(index,)))
        last: StudioError | None = None
        for attempt in range(1, MAX_ATTEMPTS + 1):
            item = ""
            try:
                item, occluder = self._occluder(rng)
                params = sample(self.spec, rng, face, occluder, self.render_cache)
                result = render(
                    face, occluder, params, backend=self.plan.backend, cache=self.render_cache
                )
            except InputError as err:
                root = plan.sources.occluders or plan.sources.textures
                outcome.failures.append(_failure(None, err, root / item if item else err.path))
                last = err
                continue
            except (PlacementError, RenderError) as err:
                last = err
                continue
            outcome.row = self._write(index, face, params, result, attempt)
            if outcome.row is None:
                outcome.failures.append(
                    _failure(
                        index,
                        InputError("multi-class labels are on but the face has no label map"),
                        plan.sources.faces / face_id,
                        plan.stem_for(index),
                    )
                )
            return outcome
        reason = last.reason if last else "no attempt made"
        outcome.failures.append(
            {
                "index": index,
                "stem": plan.stem_for(index),
                "path": str(plan.sources.faces / face_id),
                "reason": f"sample failed after {MAX_ATTEMPTS} occluders: {reason}",
            }
        )
        return outcome

    def _write(
        self, index: int, face: Face, params: Any, result: Any, attempts: int
    ) -> dict[str, Any] | None:
        plan, out = self.plan, self.plan.out
        output = plan.preset.output
        if output.labels and result.labels is None:
            return None
        stem = plan.stem_for(index)
        folders = plan.folders
        ext = output.image_format
        files = {
            "image": f"{folders['image']}/{stem}.{ext}",
            "mask": f"{folders['mask']}/{stem}.png",
        }
        payload = {
            "image": encode_image(result.image, ext, output.jpeg_quality),
            "mask": encode_image(result.face_mask, "png"),
        }
        if output.occlusion_mask:
            files["occlusion_mask"] = f"{folders['occlusion_mask']}/{stem}.png"
            payload["occlusion_mask"] = encode_image(result.occlusion_mask, "png")
        if output.labels:
            files["labels"] = f"{folders['labels']}/{stem}.png"
            payload["labels"] = encode_image(result.labels, "png")
        for key, rel in files.items():
            write_bytes_atomic(out / rel, payload[key])
        h, w = result.image.shape[:2]
        return {
            "index": index,
            "stem": stem,
            "seed": plan.seed,
            "face_id": params.face_id,
            "occluder_id": params.occluder_id,
            "texture_id": params.texture_id,
            "attempts": attempts,
            "coverage": result.stats["coverage"],
            "occluder_bbox": result.stats["occluder_bbox"],
            "size": [w, h],
            "files": files,
            "params": params.to_dict(),
        }


def _failure(
    index: int | None, err: StudioError, path: Any, stem: str | None = None
) -> dict[str, Any]:
    """A failures.jsonl row: ``index`` and ``stem`` for a failed sample, None for an input
    that was skipped (the sample then used another one)."""
    row: dict[str, Any] = {"index": index, "path": str(err.path or path), "reason": err.reason}
    if stem is not None:
        row["stem"] = stem
    return row


# --- process-level state for pool and Ray workers -------------------------------------------

_MAKERS: dict[str, SampleMaker] = {}


def init_worker(
    plan: JobPlan, cache_mb: int = DEFAULT_CACHE_MB, single_thread: bool = True
) -> None:
    """Pool initializer: ignore Ctrl-C (the parent stops the job) and build the state."""
    import signal

    import cv2

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if single_thread:
        cv2.setNumThreads(1)
    _MAKERS.clear()
    _MAKERS["pool"] = SampleMaker(plan, cache_mb)


def make_in_worker(indices: list[int]) -> list[Outcome]:
    """Pool task: make a batch of samples with the state set up by :func:`init_worker`."""
    maker = _MAKERS["pool"]
    return [maker.make(i) for i in indices]


def make_batch_cached(plan: JobPlan, indices: list[int], cache_mb: int) -> list[Outcome]:
    """Ray task body: reuse one SampleMaker per plan in a long-lived worker process."""
    key = plan.token
    maker = _MAKERS.get(key)
    if maker is None:
        import cv2

        cv2.setNumThreads(1)
        _MAKERS.clear()
        maker = _MAKERS[key] = SampleMaker(plan, cache_mb)
    return [maker.make(i) for i in indices]
