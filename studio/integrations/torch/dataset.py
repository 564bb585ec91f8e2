"""Occluded samples rendered on the fly from a face source: :class:`OcclusionDataset`, a
``torch.utils.data.Dataset`` built on :class:`~studio.integrations.torch.transform.RandomOcclusion`.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.export import ExportSamples, is_export
from studio.core.model.preset import Preset
from studio.core.model.spec import EngineSpec
from studio.core.sources import FaceSource, open_source
from studio.integrations.torch.transform import Occluders, RandomOcclusion


def _warn(line: str) -> None:
    print(f"studio: warning: {line}", file=sys.stderr, flush=True)


class OcclusionDataset(torch.utils.data.Dataset):
    """Occluded samples rendered on the fly from a face source.

    Item ``i`` is the face ``faces_source.ids()[i]`` with a random occluder (from
    ``(seed, epoch, i)``), as the dict of :class:`RandomOcclusion` plus ``id`` (the face id).
    The mask is the face's label map when it has one, else its face mask (bool).
    ``faces_source`` is a face source, or a folder or URL (``s3://bucket/prefix``) in any
    layout the input layer reads (CelebAMask-HQ, images + masks, photos with automatic
    masks), or an export (a folder of files or WebDataset shards; by URL too): its samples
    are the faces.
    """

    def __init__(
        self,
        faces_source: FaceSource | str | Path,
        preset: Preset | EngineSpec | str | Path,
        occluders: Occluders = None,
        *,
        p: float = 1.0,
        seed: int | None = 0,
        generator: torch.Generator | None = None,
        backend: str = "cpu",
    ) -> None:
        if isinstance(faces_source, (str, Path)):
            faces_source = (
                ExportSamples(faces_source, warn=_warn)
                if is_export(faces_source)
                else open_source(faces_source, "faces")
            )
        self.faces = faces_source
        self.ids = list(faces_source.ids())
        self.transform = RandomOcclusion(
            preset, occluders, p, seed=seed, generator=generator, backend=backend
        )
        self.transform.mask_type = "face"
        self.label_transform = copy.copy(self.transform)  # same seed and pool, label maps
        self.label_transform.mask_type = "labels"

    def set_epoch(self, epoch: int) -> None:
        self.transform.set_epoch(epoch)
        self.label_transform.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict[str, Any]:
        face = self.faces.load(self.ids[index])
        image = torch.from_numpy(face.image).permute(2, 0, 1).contiguous()
        if face.labels is not None:
            mask = torch.from_numpy(np.ascontiguousarray(face.labels))
            out = self.label_transform(image, mask, index=index)
        else:
            out = self.transform(image, torch.from_numpy(face.mask), index=index)
        out["id"] = self.ids[index]
        return out
