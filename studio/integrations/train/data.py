"""Training and test data: any face source the input layer reads, as (image, target) pairs.

An export (``job.json`` + ``manifest.jsonl``: a folder or a URL, files or WebDataset shards)
is read as :class:`~studio.core.export.ExportSamples`: the samples its manifest records (inside
its sample folders or shards, regular, of the recorded size; never through a link). Every
other folder (or URL) is opened with ``studio.core.sources.open_source(path, "faces")``: a
CelebAMask-HQ root, any images + masks folder. An item that cannot be read is skipped with one
warning line naming it (the next readable item takes its place). The target of an item is

- ``face``: the (visible) face mask, class 1 (the paper's setting);
- ``occlusion``: the occluder mask, class 1. An export's ``occlusion_masks/`` are read through
  the same input layer; any other source's faces count as unoccluded (all 0);
- ``classes``: the face-parsing label map (CelebAMask-HQ classes 0..18) with the occluder as
  class 19; needs a source with label maps (CelebAMask-HQ).

Images are resized to ``size`` x ``size`` (area filter; targets nearest neighbour). Training
items can be occluded on the fly by the project's :class:`RandomOcclusion` and are flipped
left-right at random; both draw from ``(seed, epoch, index)`` only, so an epoch is the same
whatever ``num_workers`` and however often the run was resumed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from studio.core.engine.cache import BoundedCache
from studio.core.export import (
    LAYOUTS,
    ExportSamples,
    Refused,
    is_export,
    job_sources,
)
from studio.core.io.imageio import resize_nearest
from studio.core.io.presets import load_preset
from studio.core.io.remote import location
from studio.core.model.errors import InputError
from studio.core.model.vocab import TrainTarget, pool_required, pool_role, values
from studio.core.sources import (
    CLASSES,
    FACE_PARTS,
    OCCLUDER_CLASS,
    PHOTOS,
    open_ref,
    open_source,
)

TARGETS = values(TrainTarget)
#: left/right classes swapped by a horizontal flip (CelebAMask-HQ ids)
_MIRROR_PAIRS = ((4, 5), (6, 7), (8, 9))
CACHE_BYTES = 512 * 2**20  #: resized items kept in memory per process


@dataclass(frozen=True)
class Target:
    """What a model predicts: its name, number of classes and the classes that are face."""

    name: str
    classes: int
    face_classes: tuple[int, ...]

    @classmethod
    def of(cls, name: str) -> Target:
        if name == "face":
            return cls("face", 2, (1,))
        if name == "occlusion":
            return cls("occlusion", 2, ())
        if name == "classes":
            face = tuple(CLASSES.index(p) for p in FACE_PARTS)
            return cls("classes", OCCLUDER_CLASS + 1, face)
        raise InputError(f"target must be one of {', '.join(TARGETS)}, got {name!r}")

    @property
    def positive(self) -> str:
        """What class 1 (or the face classes) of a binary prediction is called."""
        return "occluder" if self.name == "occlusion" else "face"


@dataclass
class Item:
    """One loaded image: RGB, its face mask (for placing occluders) and its target map."""

    id: str
    image: np.ndarray  #: HxWx3 uint8
    face_mask: np.ndarray  #: HxW bool
    target: np.ndarray  #: HxW uint8 class ids

    @property
    def nbytes(self) -> int:
        return self.image.nbytes + self.face_mask.nbytes + self.target.nbytes


def _warn(line: str) -> None:
    print(f"studio: warning: {line}", file=sys.stderr, flush=True)


def _occlusion_masks(faces: Any) -> Any | None:
    """The occluder masks of an export, as a face source over the same images (or None)."""
    root = getattr(faces, "root", None)
    if root is None:
        return None
    for layout in LAYOUTS.values():
        folder = root.parent / layout["occlusion_mask"]
        if root.name == layout["image"] and folder.is_dir():
            return open_source(root, "faces", masks=folder)
    return None


class LabelledSource:
    """One data set read through the input layer, with the targets of ``target``; an
    export's rejected samples are left out unless ``include_rejected``."""

    def __init__(self, path: str | Path, target: Target, include_rejected: bool = False) -> None:
        self.path = location(path)  # a folder, or a URL (an export or a data set in a store)
        self.target = target
        self.export = (
            ExportSamples(self.path, warn=_warn, include_rejected=include_rejected)
            if is_export(self.path)
            else None
        )
        self.left_out = 0 if self.export is None else self.export.rejected  #: rejected, left out
        self.faces = self.export or open_source(path, "faces")
        wanted = target.name == "occlusion" and self.export is None
        self.occlusion = _occlusion_masks(self.faces) if wanted else None
        self._ids: list[str] | None = None

    @property
    def layout(self) -> str:
        return str(getattr(self.faces, "layout", type(self.faces).__name__))

    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids = list(self.faces.ids())
        return self._ids

    def load(self, item_id: str) -> Item:
        """The item ``item_id`` at its own size (InputError naming the file when unusable)."""
        face = self.faces.load(item_id)
        if self.target.name == "face":
            target = face.mask.astype(np.uint8)
        elif self.target.name == "occlusion":
            target = self._occluder(item_id, face.mask.shape)
        else:
            target = self._classes(face.labels)
        return Item(item_id, face.image, face.mask, target)

    def _occluder(self, item_id: str, shape: tuple[int, int]) -> np.ndarray:
        if self.export is not None:
            return self.export.occlusion(item_id, shape)
        if self.occlusion is None:
            return np.zeros(shape, np.uint8)  # not an export: unoccluded faces
        try:
            return self.occlusion.load(item_id).mask.astype(np.uint8)
        except InputError as err:
            if "mask is empty" not in err.reason:
                raise
            return np.zeros(shape, np.uint8)

    def _classes(self, labels: np.ndarray | None) -> np.ndarray:
        if labels is None:
            raise InputError(
                "target 'classes' needs face-parsing label maps (a CelebAMask-HQ folder); "
                f"this {self.layout} source has none",
                self.path,
            )
        return labels


def open_test_set(
    path: str | Path, model_target: Target, include_rejected: bool = False
) -> LabelledSource:
    """A test set: its own masks are the truth. Photos without masks are refused (the input
    layer would give them automatic face masks, which are not ground truth). An export's
    rejected samples are left out unless ``include_rejected``."""
    source = LabelledSource(path, scoring_target(model_target), include_rejected)
    if source.export is None and source.faces.ref.layout == PHOTOS:
        raise InputError(
            "a test set needs its own masks (images/ + masks/ with the visible face); "
            "automatic face masks are no ground truth",
            path,
        )
    return source


def open_sets(
    paths: Sequence[str | Path], target: Target, include_rejected: bool = False
) -> list[LabelledSource]:
    """One :class:`LabelledSource` per path (an export's rejected samples left out unless
    ``include_rejected``); InputError when one holds no usable image."""
    sets = [LabelledSource(p, target, include_rejected) for p in paths]
    for s in sets:
        if not s.ids():
            raise InputError(f"no usable images found ({s.layout})", s.path)
    return sets


def resize_item(item: Item, size: int) -> Item:
    """``item`` at ``size`` x ``size`` (area filter for the image, nearest for the masks)."""
    h, w = item.image.shape[:2]
    if (h, w) == (size, size):
        return item
    interp = cv2.INTER_AREA if size < max(h, w) else cv2.INTER_LINEAR
    image = cv2.resize(item.image, (size, size), interpolation=interp)
    face = resize_nearest(item.face_mask.astype(np.uint8), (size, size)) > 0
    target = resize_nearest(item.target, (size, size))
    return Item(item.id, image, face, target)


def mirror(item: Item, target: Target) -> Item:
    """``item`` flipped left-right (left/right face-parsing classes swapped)."""
    labels = item.target[:, ::-1]
    if target.name == "classes":
        lut = np.arange(256, dtype=np.uint8)
        for a, b in _MIRROR_PAIRS:
            lut[a], lut[b] = b, a
        labels = lut[labels]
    return Item(
        item.id,
        np.ascontiguousarray(item.image[:, ::-1]),
        np.ascontiguousarray(item.face_mask[:, ::-1]),
        np.ascontiguousarray(labels),
    )


def to_tensors(image: np.ndarray) -> torch.Tensor:
    """HxWx3 uint8 -> (3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div_(255)


def make_occlusion(
    preset: str | Path,
    target: Target,
    *,
    occluders: str | Path | None = None,
    textures: str | Path | None = None,
    p: float = 0.5,
    seed: int = 0,
) -> Any:
    """The project's :class:`RandomOcclusion` for on-line augmentation, its occluders (NatOcc)
    or textures (RandOcc) from the preset's sources or the given folders."""
    from studio.integrations.torch import RandomOcclusion

    spec = load_preset(preset)
    overrides = {"occluders": occluders, "textures": textures}
    refs = job_sources(spec, preset, overrides, check=False)
    role = pool_role(spec.mode)
    if pool_required(spec.mode) and role not in refs:
        raise InputError(f"the preset sets no {role}", preset, hint=role)
    pool = open_ref(refs[role]) if role in refs else None
    face_classes = target.face_classes if target.name == "classes" else None
    mask_type = "labels" if target.name == "classes" else "face"
    return RandomOcclusion(spec, pool, p, seed=seed, mask_type=mask_type, face_classes=face_classes)


class TrainSet(torch.utils.data.Dataset):
    """Items of several sources, resized, optionally occluded on the fly, flipped at random.

    ``length``: each source gives that many items per epoch, its own items cycled (or cut),
    which balances sources of different sizes; None takes every item once. Item ``i`` is a
    pair (image (3, S, S) float32 in [0, 1], target (S, S) int64).
    """

    def __init__(
        self,
        sets: Sequence[LabelledSource],
        size: int,
        *,
        seed: int = 0,
        occlusion: Any = None,
        flip: bool = True,
        length: int | None = None,
        cache_bytes: int = CACHE_BYTES,
    ) -> None:
        self.sets = list(sets)
        self.target = self.sets[0].target
        self.items: list[tuple[int, str]] = []
        for k, source in enumerate(self.sets):
            ids = source.ids()
            count = int(length) if length else len(ids)
            self.items += [(k, ids[i % len(ids)]) for i in range(count)]
        if not self.items:
            raise InputError("no training images")
        self.size, self.seed, self.flip = int(size), int(seed), flip
        self.occlusion = occlusion
        self.epoch = 0
        self.cache_bytes = cache_bytes
        self._cache = BoundedCache(cache_bytes)
        self._unreadable: set[tuple[int, str]] = set()

    def set_epoch(self, epoch: int) -> None:
        """Draw the augmentations of epoch ``epoch`` (call before iterating)."""
        self.epoch = int(epoch)
        if self.occlusion is not None:
            self.occlusion.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.items)

    def base(self, index: int) -> Item:
        """Item ``index`` resized, before augmentation (the items used last are kept in
        memory, up to ``cache_bytes``). An item that cannot be read is skipped with one
        warning line naming it: the next readable item takes its place."""
        for step in range(len(self.items)):
            key = self.items[(index + step) % len(self.items)]
            if key in self._unreadable:
                continue
            try:
                return self._cache.get(key, lambda key=key: self._load(key))
            except Refused:
                raise  # a linked sample folder: the run stops, naming it
            except InputError as err:
                self._unreadable.add(key)
                print(f"studio: warning: {err.line()}: skipped", file=sys.stderr, flush=True)
        raise InputError("no training image can be read")

    def _load(self, key: tuple[int, str]) -> Item:
        return resize_item(self.sets[key[0]].load(key[1]), self.size)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        item = self.base(index)
        if self.occlusion is not None:
            item = self._occlude(item, index)
        rng = np.random.default_rng([self.seed, self.epoch, int(index), 7])
        if self.flip and rng.random() < 0.5:
            item = mirror(item, self.target)
        return to_tensors(item.image), torch.from_numpy(item.target.astype(np.int64))

    def _occlude(self, item: Item, index: int) -> Item:
        image = torch.from_numpy(item.image).permute(2, 0, 1).contiguous()
        if self.target.name == "classes":
            out = self.occlusion(image, torch.from_numpy(item.target), index=index)
            labels = out["mask"].numpy().astype(np.uint8)
            labels[out["occlusion_mask"].numpy()] = OCCLUDER_CLASS
            target = labels
        else:
            out = self.occlusion(image, torch.from_numpy(item.face_mask), index=index)
            if self.target.name == "face":
                target = out["mask"].numpy().astype(np.uint8)
            else:
                target = item.target | out["occlusion_mask"].numpy().astype(np.uint8)
        rendered = out["image"].permute(1, 2, 0).numpy()
        face = item.face_mask & ~out["occlusion_mask"].numpy()
        return Item(item.id, rendered, face, target)


def face_prediction(classes: np.ndarray, target: Target) -> np.ndarray:
    """The binary map scored by evaluate: face (or occluder) pixels of a class-id map."""
    if target.name == "classes":
        return np.isin(classes, target.face_classes)
    return classes == 1


def scoring_target(model_target: Target) -> Target:
    """How a test set is read for a model: its occluder masks for an occlusion model, else its
    visible-face masks (a face-parsing model is scored on the union of its face classes)."""
    return Target.of("occlusion" if model_target.name == "occlusion" else "face")
