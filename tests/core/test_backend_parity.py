"""CUDA vs CPU parity on a real GPU (skipped without one; CI has none).

Rule (see studio/core/ops/backend.py for why results differ at all): for the same RenderParams the
CUDA image is within 1 grey level of the CPU image on at least 99.9% of the values, and the
masks / label maps are identical or differ only on the label boundary, on at most 0.1% of the
pixels. Run on a GPU machine with ``pytest -m cuda``.
"""

from __future__ import annotations

import numpy as np
import pytest
from render_cases import cases, parity_problems, tolerance, tolerated_share

from studio.core.engine.cache import RenderCache
from studio.core.engine.render import render
from studio.core.engine.sample import sample
from studio.core.model.spec import EngineSpec
from studio.core.ops.backend import cuda_available, get_backend
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not cuda_available(), reason="no usable CUDA GPU (CuPy missing or no device)"
    ),
]


@pytest.mark.parametrize("size", [192, 512])
def test_cuda_matches_cpu_on_every_case(size):
    failures = {}
    for name, face, occluder, params in cases(size):
        cpu = render(face, occluder, params, backend="cpu")
        gpu = render(face, occluder, params, backend="cuda")
        problems = parity_problems(cpu, gpu, tolerance(params), tolerated_share(params))
        if gpu.stats["coverage"] != pytest.approx(cpu.stats["coverage"], abs=1e-3):
            problems.append(f"coverage {gpu.stats['coverage']} != {cpu.stats['coverage']}")
        if problems:
            failures[name] = problems
    assert failures == {}


def test_cuda_matches_cpu_at_1024_with_sot():
    face, occluder = synthetic_face(1024, 7), synthetic_occluder(640, 8)
    spec = EngineSpec.model_validate({"color": {"method": "sot"}})
    for seed in range(4):
        params = sample(spec, np.random.default_rng(seed), face, occluder, RenderCache())
        cpu = render(face, occluder, params, backend="cpu")
        gpu = render(face, occluder, params, backend="cuda", cache=RenderCache())
        assert parity_problems(cpu, gpu) == [], f"seed {seed}"


def test_cuda_backend_reports_its_device_and_returns_host_arrays():
    be = get_backend("cuda")
    assert be.name == "cuda" and be.device
    assert get_backend("auto") is be
    _name, face, occluder, params = cases(128)[0]
    result = render(face, occluder, params, backend="cuda")
    for array in (result.image, result.face_mask, result.occlusion_mask, result.alpha):
        assert type(array) is np.ndarray
