"""The whole render on the device code path, without a GPU.

- The device path (NdimageBackend with NumPy + scipy.ndimage, i.e. the CUDA backend's code)
  meets the CPU/CUDA parity rule on every case and downloads the result once.
"""

from __future__ import annotations

import numpy as np
import pytest
from fake_device import NumpyAsDevice
from render_cases import cases, parity_problems, result_digest, tolerance, tolerated_share

from studio.core.engine.cache import RenderCache
from studio.core.engine.prepare import prepare
from studio.core.engine.render import render
from studio.core.ops.backend import get_backend

CASES = cases()


def test_cpu_render_is_deterministic_with_and_without_cache():
    _name, face, occluder, params = CASES[0]
    cache = RenderCache()
    first = result_digest(render(face, occluder, params, cache=cache))
    assert result_digest(render(face, occluder, params, cache=cache)) == first
    assert result_digest(render(face, occluder, params)) == first
    assert cache.hits > 0


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_device_code_path_meets_parity(case):
    _name, face, occluder, params = case
    cpu = render(face, occluder, params)
    dev = render(face, occluder, params, backend=NumpyAsDevice())
    assert parity_problems(cpu, dev, tolerance(params), tolerated_share(params)) == []
    assert dev.stats == cpu.stats


def test_parity_check_catches_real_differences():
    _name, face, occluder, params = CASES[0]
    cpu = render(face, occluder, params)
    worse = render(face, occluder, params)
    worse.image = np.clip(worse.image.astype(int) + 2, 0, 255).astype(np.uint8)
    worse.occlusion_mask = worse.occlusion_mask.copy()
    worse.occlusion_mask[0, 0] = 255 - worse.occlusion_mask[0, 0]
    problems = parity_problems(cpu, worse)
    assert any("differ by more than 1" in p for p in problems)
    assert any("occlusion_mask: 1 pixels differ off the boundary" in p for p in problems)


@pytest.mark.parametrize("case", [c for c in CASES if c[3].augment.jpeg_quality is None][:4])
def test_device_path_downloads_the_result_once(case):
    _name, face, occluder, params = case
    be = NumpyAsDevice()
    cache = RenderCache()
    result = render(face, occluder, params, backend=be, cache=cache)
    arrays = 4 + (result.labels is not None)  # image, face mask, occlusion mask, alpha, labels
    if params.color.method == "reinhard":
        arrays += 2  # Lab conversion runs on the host (rgb and alpha down)
    assert be.downloads == arrays
    uploads = be.uploads
    render(face, occluder, params, backend=be, cache=cache)
    assert be.uploads == uploads, "face and occluder uploads are cached by content"


def test_the_prepared_occluder_matches_on_the_device():
    _name, face, occluder, params = CASES[0]
    cpu = prepare(get_backend("cpu"), face, occluder, params, RenderCache())
    be = NumpyAsDevice()
    dev = prepare(be, face, occluder, params, RenderCache())
    image, alpha = be.to_numpy(dev.rgb), be.to_numpy(dev.alpha)
    assert image.dtype == np.uint8 and dev.key == cpu.key
    assert np.array_equal(alpha, cpu.alpha)
    assert np.abs(image.astype(int) - cpu.rgb.astype(int)).max() <= 2
