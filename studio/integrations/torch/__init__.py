"""Occlusion for PyTorch: the transform (:mod:`.transform`) and the dataset (:mod:`.dataset`).
Imports torch and the core's public API; never the training code (``integrations.train``).
"""

from studio.integrations.torch.dataset import OcclusionDataset
from studio.integrations.torch.transform import RandomOcclusion

__all__ = ["OcclusionDataset", "RandomOcclusion"]
