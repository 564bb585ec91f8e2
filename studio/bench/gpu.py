"""GPU benchmarks: CUDA vs CPU render at 1024 px with SOT, preview render time, and the torch
transform inside a DataLoader.

CUDA rows are measured only with ``--backend cuda`` (or ``auto``) on a machine where the CUDA
backend works; otherwise they say why they were not measured and carry no value (NaN). File I/O
is excluded everywhere: inputs are synthetic and outputs stay in memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from studio.bench.common import BenchRow, time_call
from studio.core.engine.cache import RenderCache
from studio.core.engine.render import render
from studio.core.engine.sample import sample
from studio.core.model.errors import BackendError
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import RenderParams
from studio.core.model.spec import EngineSpec
from studio.core.ops.backend import cuda_available, get_backend
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder

SUITE = "gpu"
SIZE = 1024
SPEEDUP_TARGET = 10.0
PREVIEW_TARGET_MS = 5.0
LOADER_SAMPLES = {True: 24, False: 96}  # per epoch, quick / full


def _inputs(count: int) -> list[tuple[Face, Occluder, RenderParams]]:
    """Sampled 1024 px NatOcc renders with SOT (sampling is not timed)."""
    spec = EngineSpec.model_validate({"color": {"method": "sot", "probability": 1.0}})
    face = synthetic_face(SIZE, 0)
    out = []
    for i in range(count):
        occluder = synthetic_occluder(640, i)
        params = sample(spec, np.random.default_rng(i), face, occluder, RenderCache())
        out.append((face, occluder, params))
    return out


def _per_render(backend: str, inputs: list, repeat: int) -> float:
    """Median seconds of one full render (SOT included: no cache), result downloaded."""

    def run_all() -> None:
        for face, occluder, params in inputs:
            render(face, occluder, params, backend=backend)

    return time_call(run_all, repeat=repeat, warmup=1) / len(inputs)


def _preview(backend: str, inputs: list, repeat: int) -> float:
    """Median seconds of a preview render: same face and occluder, placement changed, colour
    transfer and uploads served by a warm RenderCache (what a live preview does)."""
    face, occluder, params = inputs[0]
    cache = RenderCache()
    render(face, occluder, params, backend=backend, cache=cache)
    shifts = [params.replace(rotation=params.rotation + d) for d in (1.0, -1.0, 2.0, -2.0)]

    def one() -> None:
        for p in shifts:
            render(face, occluder, p, backend=backend, cache=cache)

    return time_call(one, repeat=repeat, warmup=1) / len(shifts)


def _cuda_reason(backend: str) -> str | None:
    """Why CUDA rows are not measured, or None when they are."""
    if backend not in ("cuda", "auto"):
        return "not measured: run with --backend cuda"
    if not cuda_available():
        try:
            get_backend("cuda")
        except BackendError as err:
            return f"not measured: no GPU ({err.reason})"
        return "not measured: no GPU"
    return None


def _missing(name: str, unit: str, target: str, note: str) -> BenchRow:
    return BenchRow(SUITE, name, math.nan, unit, target, None, note)


def render_rows(quick: bool, backend: str) -> list[BenchRow]:
    inputs = _inputs(2 if quick else 4)
    repeat = 2 if quick else 5
    cpu = _per_render("cpu", inputs, repeat)
    cpu_preview = _preview("cpu", inputs, repeat)
    rows = [
        BenchRow(SUITE, "render 1024 SOT, cpu", cpu * 1e3, "ms", note="per render, no cache"),
        BenchRow(SUITE, "preview 1024, cpu", cpu_preview * 1e3, "ms", note="warm cache"),
    ]
    reason = _cuda_reason(backend)
    speed_target = f">= {SPEEDUP_TARGET:g}x cpu"
    preview_target = f"< {PREVIEW_TARGET_MS:g} ms"
    if reason is not None:
        rows += [
            _missing("render 1024 SOT, cuda", "ms", "", reason),
            _missing("cuda speed-up over cpu", "x", speed_target, reason),
            _missing("preview 1024, cuda", "ms", preview_target, reason),
        ]
        return rows
    device = get_backend("cuda").device
    gpu = _per_render("cuda", inputs, repeat)
    gpu_preview = _preview("cuda", inputs, repeat)
    speedup = cpu / gpu
    rows += [
        BenchRow(SUITE, "render 1024 SOT, cuda", gpu * 1e3, "ms", note=device),
        BenchRow(
            SUITE, "cuda speed-up over cpu", speedup, "x", speed_target, speedup >= SPEEDUP_TARGET
        ),
        BenchRow(
            SUITE,
            "preview 1024, cuda",
            gpu_preview * 1e3,
            "ms",
            preview_target,
            gpu_preview * 1e3 < PREVIEW_TARGET_MS,
            device,
        ),
    ]
    return rows


def _samples_per_second(make_loader: Callable[[], object], repeat: int) -> float:
    """Median samples/s over ``repeat`` epochs, after two warm-up epochs (torch's first
    iterations here are up to 100x slower than the steady state)."""

    def epoch() -> int:
        return sum(len(batch["image"]) for batch in make_loader())

    seen = epoch()
    return seen / time_call(epoch, repeat=repeat, warmup=1)


def dataloader_rows(quick: bool) -> list[BenchRow]:
    names = ["dataloader plain", "dataloader + RandomOcclusion", "transform cost"]
    try:
        import torch

        from studio.integrations.torch import RandomOcclusion
    except ImportError:
        return [_missing(n, "samples/s", "", "not measured: torch not installed") for n in names]
    from studio.core.model.preset import Preset

    size, count = 256, LOADER_SAMPLES[quick]
    faces = [synthetic_face(size, i) for i in range(4)]
    occluders = [synthetic_occluder(160, i) for i in range(4)]
    transform = RandomOcclusion(Preset(), occluders)

    class Faces(torch.utils.data.Dataset):
        def __init__(self, occlude: bool) -> None:
            self.occlude = occlude

        def __len__(self) -> int:
            return count

        def __getitem__(self, i: int) -> dict:
            face = faces[i % len(faces)]
            image = torch.from_numpy(face.image).permute(2, 0, 1).contiguous()
            mask = torch.from_numpy(face.mask)
            if not self.occlude:
                return {"image": image, "mask": mask}
            out = transform(image, mask, index=i)
            return {"image": out["image"], "mask": out["mask"]}

    def loader(occlude: bool) -> Callable[[], object]:
        return lambda: torch.utils.data.DataLoader(Faces(occlude), batch_size=8, num_workers=0)

    repeat = 2 if quick else 3
    plain = _samples_per_second(loader(False), repeat)
    occluded = _samples_per_second(loader(True), repeat)
    note = f"{size}px faces, batch 8, num_workers 0, cpu"
    return [
        BenchRow(SUITE, names[0], plain, "samples/s", note=note),
        BenchRow(SUITE, names[1], occluded, "samples/s", note=note + ", natocc SOT"),
        BenchRow(SUITE, names[2], plain / occluded, "x slower", note="same run"),
    ]


def run(quick: bool, backend: str) -> list[BenchRow]:
    """CUDA vs CPU render (1024 px, SOT), preview time, DataLoader throughput."""
    return render_rows(quick, backend) + dataloader_rows(quick)
