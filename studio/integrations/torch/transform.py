"""Occlusion as a PyTorch data augmentation: :class:`RandomOcclusion` (the dataset built on it
is :class:`studio.integrations.torch.dataset.OcclusionDataset`).

``pip install -e .[torch]``; torch is imported when this module is, never by the engine.

Conventions (as torchvision v2 transforms): images are (3, H, W) tensors, uint8 in [0, 255] or
floating in [0, 1]; the output keeps the input's dtype and device. A floating image keeps its
exact values wherever the occluder did not change the pixel. Masks are (H, W) tensors.

Determinism: each sample's random numbers come from a NumPy generator seeded with
``(seed, epoch, index)``, never from worker-local state, so a given epoch yields the same
samples whatever ``num_workers`` is. Pass ``index=`` (``OcclusionDataset`` does) and call
``set_epoch(epoch)`` before each epoch (like ``DistributedSampler.set_epoch``; with
``persistent_workers=True`` the workers keep the epoch they were started with). Without
``index`` a seed is drawn from torch's default generator, which DataLoader seeds per worker:
reproducible for a fixed ``num_workers``, like torchvision's random transforms.

CUDA tensors: rendered with the CUDA backend (CuPy reads the tensor through DLPack; sampling
reads a host copy). CUDA does not survive ``fork``: use CUDA tensors in the main process (or
DataLoader workers started with ``multiprocessing_context="spawn"``). Not run on a GPU yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from studio.core.engine.cache import RenderCache, preload_face
from studio.core.engine.draw import draw_sample, sample_rng
from studio.core.engine.pool import ItemPool
from studio.core.engine.render import Result, render
from studio.core.io.presets import load_preset
from studio.core.model.errors import InputError, PlacementError, RenderError
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.preset import Preset
from studio.core.model.spec import EngineSpec
from studio.core.model.vocab import pool_required, pool_role
from studio.core.ops.backend import get_backend
from studio.core.sources import OccluderSource, TextureSource, open_source

MaskType = Literal["auto", "face", "labels"]
#: What occluders (NatOcc) or textures (RandOcc) may be given as: a source, a list, a path.
Occluders = OccluderSource | TextureSource | Sequence[Occluder | Texture] | str | Path | None
LOADED_BYTES = 128 * 2**20  # occluders/textures kept decoded per worker
RENDER_CACHE_BYTES = 64 * 2**20  # colour transfers, uploads, shapes per worker


def _as_spec(preset: Preset | EngineSpec | str | Path) -> EngineSpec:
    if isinstance(preset, (str, Path)):
        preset = load_preset(preset)
    if isinstance(preset, Preset):
        return preset.engine()
    if isinstance(preset, EngineSpec):
        return preset
    raise TypeError(f"preset must be a Preset, an EngineSpec or a YAML path, got {type(preset)}")


def _pool(items: Any, mode: str) -> ItemPool | None:
    """The occluders (natocc) or textures (randocc) to draw from: a source, a list of items,
    or a path opened by the input layer."""
    if items is None:
        return None
    if isinstance(items, (Occluder, Texture)):
        items = [items]
    if isinstance(items, (str, Path)):
        items = open_source(items, pool_role(mode))
    if not (isinstance(items, Sequence) or (hasattr(items, "ids") and hasattr(items, "load"))):
        raise TypeError("occluders must be a source (ids/load), a path or a list of items")
    return ItemPool(items, cache_bytes=LOADED_BYTES)


class RandomOcclusion:
    """Paste a random occluder on a face image, with exact masks.

    Parameters
    ----------
    preset : a :class:`Preset`, an :class:`EngineSpec` or the path of a preset YAML.
    occluders : NatOcc: a folder or COCO .json (any layout the input layer reads), an
        ``OccluderSource`` or a list of :class:`Occluder` (required). RandOcc: a texture
        folder, a ``TextureSource``, a list of :class:`Texture`, or None (flat colours).
    p : probability of occluding a sample.
    seed : base seed; None draws one from ``generator`` (or torch's default generator) once,
        here, in the main process.
    backend : "cpu", "cuda" or "auto" for CPU tensors; CUDA tensors always use "cuda".
    mask_type : how to read the ``mask`` argument: "face" (binary face mask), "labels"
        (multi-class label map; the occluder becomes class ``preset.occluder_class``) or
        "auto" (bool, 0/1 and 0/255 masks are face masks, anything else a label map).
    face_classes : label ids that count as face in a label map (default: every non-zero id).

    Calling it returns a dict: ``image`` (same dtype/device as the input), ``mask`` (the
    visible face mask, or the updated label map, in the input mask's dtype; when no mask is
    given, the visible part of the whole image), ``occlusion_mask`` (bool (H, W)) and
    ``occluded`` (bool scalar tensor: False when the sample was skipped by ``p`` or no placement
    met the preset's coverage bounds; the input is then returned unchanged).

    Without a mask the whole image is the face region: coverage bounds then apply to the whole
    image (good for tight face crops; give a mask otherwise).
    """

    def __init__(
        self,
        preset: Preset | EngineSpec | str | Path,
        occluders: Occluders = None,
        p: float = 1.0,
        *,
        seed: int | None = 0,
        generator: torch.Generator | None = None,
        backend: str = "cpu",
        mask_type: MaskType = "auto",
        face_classes: Sequence[int] | None = None,
    ) -> None:
        self.spec = _as_spec(preset)
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {p}")
        self.pool = _pool(occluders, self.spec.mode)
        if pool_required(self.spec.mode) and not self.pool:
            raise InputError("natocc needs occluders (a folder, a source or a list of Occluder)")
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,), generator=generator).item())
        self.seed = int(seed)
        self.p = float(p)
        self.epoch = 0
        self.backend = backend
        get_backend(backend)  # fail now, in the main process, if it is unusable
        self.mask_type = mask_type
        self.face_classes = None if face_classes is None else tuple(int(c) for c in face_classes)
        self._cache = RenderCache(RENDER_CACHE_BYTES)

    def set_epoch(self, epoch: int) -> None:
        """Samples of epoch ``epoch`` (call before iterating, in the main process)."""
        self.epoch = int(epoch)

    def rng_for(self, index: int | None) -> np.random.Generator:
        """The generator of one sample: from (seed, epoch, index), or torch's RNG without index."""
        if index is None:
            index = 2**62 + int(torch.randint(0, 2**62, (1,)).item())
        return sample_rng(self.seed, int(index), epoch=self.epoch)

    def occlude(self, face: Face, rng: np.random.Generator, backend: Any = None) -> Result | None:
        """Sample and render one occluded version of ``face``; None when skipped or when no
        placement meets the coverage bounds. Uses only ``rng``."""
        if float(rng.random()) >= self.p:
            return None
        try:
            drawn = draw_sample(self.spec, rng, face, self.pool, self._cache)
            be = backend or self.backend
            return render(face, drawn.item, drawn.params, be, self._cache, on_device=True)
        except (PlacementError, RenderError):
            return None

    def __call__(
        self, image: torch.Tensor, mask: torch.Tensor | None = None, *, index: int | None = None
    ) -> dict[str, torch.Tensor]:
        if not isinstance(image, torch.Tensor) or image.ndim != 3 or image.shape[0] != 3:
            shape = tuple(image.shape) if isinstance(image, torch.Tensor) else type(image)
            raise ValueError(f"image must be a (3, H, W) tensor, got {shape}")
        h, w = image.shape[1:]
        if mask is not None and tuple(mask.shape) != (h, w):
            raise ValueError(f"mask must be ({h}, {w}) like the image, got {tuple(mask.shape)}")
        image_u8 = _to_uint8(image)
        host = image_u8.permute(1, 2, 0).cpu().numpy()
        mask_np = None if mask is None else mask.cpu().numpy()
        kind = self._mask_kind(mask_np)
        face = self._face(host, mask_np, kind)  # None without face pixels: returned unchanged
        rng = self.rng_for(index)
        backend = None
        if image.is_cuda and face is not None:
            backend = get_backend("cuda")
            _preload_cuda(self._cache, backend, face, image_u8)
        result = None if face is None else self.occlude(face, rng, backend)
        return _outputs(image, mask, kind, result)

    def _mask_kind(self, mask: np.ndarray | None) -> str:
        if mask is None:
            return "none"
        if self.mask_type != "auto":
            return self.mask_type
        if mask.dtype == bool:
            return "face"
        values = set(np.unique(mask).tolist())
        return "face" if values <= {0, 1} or values <= {0, 255} else "labels"

    def _face(self, image: np.ndarray, mask: np.ndarray | None, kind: str) -> Face | None:
        """The face of a sample; None when its mask has no face pixel (nothing to occlude)."""
        if kind == "none" or mask is None:
            return Face(image, np.ones(image.shape[:2], bool), id="tensor")
        labels = None
        if kind == "face":
            region = mask > 0
        else:
            if mask.min() < 0 or mask.max() > 255:
                raise InputError("label maps must hold class ids in 0..255", "mask")
            labels = mask.astype(np.uint8)
            classes = self.face_classes
            region = labels != 0 if classes is None else np.isin(labels, classes)
        if not region.any():
            return None
        return Face(image, region, id="tensor", labels=labels)


def _to_uint8(image: torch.Tensor) -> torch.Tensor:
    if image.dtype == torch.uint8:
        return image
    if not image.is_floating_point():
        raise ValueError(f"image must be uint8 or floating point, got {image.dtype}")
    return (image.clamp(0, 1) * 255).round().to(torch.uint8)


def _preload_cuda(cache: RenderCache, be: Any, face: Face, image_u8: torch.Tensor) -> None:
    """Hand the CUDA tensor's memory to CuPy through DLPack (no host round trip for the
    render's face upload). Sampling still reads the host copy."""
    import cupy

    hwc = cupy.from_dlpack(image_u8.permute(1, 2, 0).contiguous())
    mask = cupy.asarray(face.mask)
    labels = None if face.labels is None else cupy.asarray(face.labels)
    preload_face(cache, be, face, hwc, mask, labels)


def _tensor(array: Any, device: torch.device) -> torch.Tensor:
    """A NumPy or CuPy array as a tensor on ``device`` (DLPack for CuPy: zero-copy)."""
    if isinstance(array, np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(array)).to(device)
    return torch.from_dlpack(array).to(device)


def _outputs(
    image: torch.Tensor,
    mask: torch.Tensor | None,
    kind: str,
    result: Result | None,
) -> dict[str, torch.Tensor]:
    device = image.device
    h, w = image.shape[1:]
    if result is None:
        occluded = torch.zeros((h, w), dtype=torch.bool, device=device)
        out_mask = mask if mask is not None else torch.ones((h, w), dtype=torch.bool, device=device)
        return {
            "image": image,
            "mask": out_mask,
            "occlusion_mask": occluded,
            "occluded": torch.tensor(False),
        }
    rendered = _tensor(result.image, device).permute(2, 0, 1).contiguous()
    occluded = _tensor(result.occlusion_mask, device) > 0
    if image.dtype == torch.uint8:
        out_image = rendered
    else:  # keep the exact float values where the render left the (quantised) pixel alone
        changed = (rendered != _to_uint8(image)).any(dim=0, keepdim=True)
        out_image = torch.where(changed, rendered.to(image.dtype) / 255, image)
    if kind == "none":
        out_mask = ~occluded
    elif kind == "face":
        visible = _tensor(result.face_mask, device) > 0
        on = 1 if mask.dtype == torch.bool else int(mask.max().item())
        out_mask = visible if mask.dtype == torch.bool else (visible.to(mask.dtype) * on)
    else:
        out_mask = _tensor(result.labels, device).to(mask.dtype)
    return {
        "image": out_image,
        "mask": out_mask,
        "occlusion_mask": occluded,
        "occluded": torch.tensor(True),
    }
