"""Engine benchmarks: SOT against the reference, render against JPEG encoding, preview speed."""

from __future__ import annotations

import cv2
import numpy as np

from studio.bench.common import BenchRow, time_call
from studio.bench.sot import masked_pixels, sliced_wasserstein
from studio.bench.sot_reference import sot_reference
from studio.core.engine.cache import RenderCache
from studio.core.engine.render import render
from studio.core.engine.sample import sample
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import ColorParams
from studio.core.model.spec import EngineSpec
from studio.core.ops import color
from studio.core.ops.backend import get_backend
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder

SUITE = "engine"


def bench_sot(face: Face, occ: Occluder, quick: bool) -> list[BenchRow]:
    params = ColorParams(method="sot", strength=1.0, seed=0)  # default samples
    skin = color.skin_pixels(face.image, face.mask, face.bbox)
    be = get_backend("cpu")
    ours = color.transfer(be, occ.image, occ.alpha, skin, params)
    ref = sot_reference(occ.image, occ.alpha, face.image, face.mask, seed=0)

    def ours_cold() -> None:  # skin sampling included: nothing cached
        s = color.skin_pixels(face.image, face.mask, face.bbox)
        color.transfer(be, occ.image, occ.alpha, s, params)

    t_ours = time_call(ours_cold, repeat=5 if quick else 15)
    p4096 = ColorParams(method="sot", strength=1.0, seed=0, samples=4096)
    t_4096 = time_call(
        lambda: color.transfer(
            be, occ.image, occ.alpha, color.skin_pixels(face.image, face.mask, face.bbox), p4096
        ),
        repeat=5 if quick else 15,
    )
    t_ref = time_call(
        lambda: sot_reference(occ.image, occ.alpha, face.image, face.mask, seed=0),
        repeat=1 if quick else 3,
        warmup=0,
    )
    face_px = face.image[face.mask].astype(np.float64) / 255.0
    face_px = face_px[np.random.default_rng(1).choice(face_px.shape[0], 20000, replace=False)]
    swd_ours = sliced_wasserstein(masked_pixels(ours, occ.alpha, 20000, 2), face_px)
    swd_ref = sliced_wasserstein(masked_pixels(ref, occ.alpha, 20000, 2), face_px)
    swd_none = sliced_wasserstein(masked_pixels(occ.image, occ.alpha, 20000, 2), face_px)
    size = f"{occ.size[0]}x{occ.size[1]} occluder, {face.size[0]}x{face.size[1]} face"
    return [
        BenchRow(SUITE, "sot_ms", t_ours * 1e3, "ms", note=size),
        BenchRow(SUITE, "sot_4096_samples_ms", t_4096 * 1e3, "ms", note="samples=4096"),
        BenchRow(SUITE, "sot_reference_ms", t_ref * 1e3, "ms", note="full sorts, 15x5"),
        BenchRow(SUITE, "sot_speedup", t_ref / t_ours, "x", ">= 100", t_ref / t_ours >= 100),
        BenchRow(SUITE, "sot_swd", swd_ours, "", note=f"untransferred: {swd_none:.4f}"),
        BenchRow(SUITE, "sot_reference_swd", swd_ref, ""),
        BenchRow(
            SUITE, "sot_swd_ratio", swd_ours / swd_ref, "x", "<= 1.1", swd_ours / swd_ref <= 1.1
        ),
    ]


def bench_render(face: Face, occ: Occluder, quick: bool) -> list[BenchRow]:
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        spec = EngineSpec(color={"method": "none"})
        params = [sample(spec, np.random.default_rng(s), face, occ) for s in range(6)]
        results = [render(face, occ, p) for p in params]

        def jpeg() -> None:
            for r in results:
                cv2.imencode(".jpg", r.image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])

        def ren() -> None:
            for p in params:
                render(face, occ, p)

        reps = 3 if quick else 7
        t_jpeg = time_call(jpeg, repeat=reps) / len(params)
        t_render = time_call(ren, repeat=reps) / len(params)
        ratio = t_render / t_jpeg

        preview_face = face.resized(512 / max(face.size))
        sot_spec = EngineSpec(color={"method": "sot"})
        cache = RenderCache()
        p = sample(sot_spec, np.random.default_rng(7), preview_face, occ, cache)
        render(preview_face, occ, p, cache=cache)  # fills the SOT cache
        moves = [p.replace(center_rel=(0.3 + 0.02 * i, 0.5)) for i in range(20)]
        t_prev = time_call(
            lambda: [render(preview_face, occ, m, cache=cache) for m in moves], repeat=reps
        ) / len(moves)
    finally:
        cv2.setNumThreads(threads)
    return [
        BenchRow(SUITE, "render_1024_ms", t_render * 1e3, "ms", note="no SOT, 1 thread"),
        BenchRow(SUITE, "jpeg_q95_1024_ms", t_jpeg * 1e3, "ms", note="encode of the result"),
        BenchRow(SUITE, "render_vs_jpeg", ratio, "x", "<= 4", ratio <= 4),
        BenchRow(
            SUITE,
            "preview_512_ms",
            t_prev * 1e3,
            "ms",
            "< 10",
            t_prev * 1e3 < 10,
            note="SOT cached, 1 thread",
        ),
    ]


def run(quick: bool = False, backend: str = "cpu") -> list[BenchRow]:
    """Engine benchmarks on a 1024x1024 synthetic face and a 400x400 occluder."""
    face = synthetic_face(1024, seed=3)
    hand = synthetic_occluder(512, seed=5)
    occ = Occluder(  # stretched so that its bbox is exactly 400x400
        cv2.resize(hand.image, (400, 400), interpolation=cv2.INTER_AREA),
        cv2.resize(hand.alpha, (400, 400), interpolation=cv2.INTER_NEAREST),
        id="bench-occluder",
    )
    return bench_sot(face, occ, quick) + bench_render(face, occ, quick)
