"""The whole render on the device code path, without a GPU.

- CPU outputs are pinned: digests below were computed with the engine *before* the ops were
  rewritten against ``be.xp`` (commit 9f3f25f), so the CPU path is proven byte-identical.
- The device path (NdimageBackend with NumPy + scipy.ndimage, i.e. the CUDA backend's code)
  meets the CPU/CUDA parity rule on every case and downloads the result once.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fake_device import NumpyAsDevice
from render_cases import cases, parity_problems, result_digest

from studio.core.render import RenderCache, prepared_occluder, render

# Computed with OpenCV 4.14.0 / NumPy 2.4.6 on the pre-backend engine (see module docstring).
PINNED_OPENCV = "4.14.0"
GOLDEN_DIGESTS = {
    "natocc_sot-0-0": "159cdf741a2c753f",
    "natocc_sot-0-1": "b7e844ec309be099",
    "natocc_sot-1-0": "e19cb88d58bf3842",
    "natocc_sot-1-1": "fc9f78b5dbd7ee60",
    "natocc_reinhard_aug-0-0": "91e454bec339b104",
    "natocc_reinhard_aug-0-1": "9478bf7545fbcb07",
    "natocc_reinhard_aug-1-0": "256ec894cf920bcd",
    "natocc_reinhard_aug-1-1": "443dcca657a1d8a4",
    "natocc_sot_opacity-0-0": "6f78e4d43775e562",
    "natocc_sot_opacity-0-1": "88bc4c4f7712cecd",
    "natocc_sot_opacity-1-0": "b1608cc20d0427ed",
    "natocc_sot_opacity-1-1": "e60580606ee68b41",
    "natocc_image_aug-0-0": "873c236ca3bc82cd",
    "natocc_image_aug-0-1": "5a2f90c0cf998bd8",
    "natocc_image_aug-1-0": "b2fc523ea804e72b",
    "natocc_image_aug-1-1": "a2e0db2d98250611",
    "randocc_texture-0-0": "bf8aca1f6968fb24",
    "randocc_texture-0-1": "4fdb58bbf3864c7b",
    "randocc_texture-1-0": "7e62f4eda18013c8",
    "randocc_texture-1-1": "55f1b3faf45d9530",
    "randocc_flat-0-0": "118636eb83a6f27e",
    "randocc_flat-0-1": "2ee58a331e9a3943",
    "randocc_flat-1-0": "d482e9a7adc8ca24",
    "randocc_flat-1-1": "c5e70b4e09cc892b",
}

CASES = cases()


@pytest.mark.skipif(
    cv2.__version__ != PINNED_OPENCV,
    reason=f"digests were computed with OpenCV {PINNED_OPENCV} (found {cv2.__version__})",
)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cpu_output_is_byte_identical_to_the_pre_backend_engine(case):
    name, face, occluder, params = case
    assert result_digest(render(face, occluder, params)) == GOLDEN_DIGESTS[name]


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
    assert parity_problems(cpu, dev) == []
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


def test_prepared_occluder_comes_back_as_host_arrays():
    _name, face, occluder, params = CASES[0]
    cpu = prepared_occluder(face, occluder, params)
    dev = prepared_occluder(face, occluder, params, backend=NumpyAsDevice())
    assert type(dev.image) is np.ndarray and dev.image.dtype == np.uint8
    assert np.array_equal(dev.alpha, cpu.alpha)
    assert np.abs(dev.image.astype(int) - cpu.image.astype(int)).max() <= 2
