"""A stand-in "device" for CPU-only CI: the CUDA backend's own filter methods
(:class:`~studio.core.ops.backend.NdimageBackend`) run with ``xp = numpy`` and
``ndi = scipy.ndimage``. Pass an instance as ``backend=`` to ``render``: the pipeline then runs
the same code path as on CUDA (uploads, ndimage filters, host round trips, one download)."""

from __future__ import annotations

import numpy as np
import scipy.ndimage

from studio.core.ops.backend import NdimageBackend


class NumpyAsDevice(NdimageBackend):
    """NdimageBackend on host memory that counts its transfers."""

    name = "numpy-as-device"
    device = "host (scipy.ndimage)"
    xp = np
    ndi = scipy.ndimage

    def __init__(self) -> None:
        self.uploads = 0
        self.downloads = 0

    def asarray(self, a):
        self.uploads += 1
        return np.asarray(a)

    def to_numpy(self, a):
        self.downloads += 1
        return np.asarray(a)
