"""Realism benchmark: how far a pasted occluder's statistics are from the skin around it,
with each harmonize step off and on, and what each step costs.

Faces: the bundled photos (``resources/samples/faces``) and copies degraded in known ways
(Gaussian blur, added noise, a lighting gradient across the face). Occluders: the bundled
cut-outs. For every (face, occluder, seed) one sample is drawn with harmonize on (shadow off);
the same parameters with one step's strength set to 0 give the "off" render. The occluder's
interior in the rendered image is compared with its skin ring (exactly the pixels the engine
measures; the ring's pixels, unchanged by the render, measured on the face):

- sharpness: ``|log(blur_occluder / blur_ring)|`` (equivalent Gaussian blur sigmas);
- noise: ``|log(noise_occluder / noise_ring)|``, luminance and chroma;
- shading: ``1 - corr(log F, log O)`` over the occluder, F the face's low-frequency
  luminance field there and O the occluder's own low-frequency luminance in the render.

Each figure is the median over the samples of a condition. Timing rows are measured side by
side at 1024 px (synthetic face and occluder, one thread, CPU time: the machine's other work
disturbs it less than wall time), like the engine suite's.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from studio.bench import follow
from studio.bench.common import BenchRow, time_call
from studio.core.engine import harmonize as stage
from studio.core.engine.cache import RenderCache
from studio.core.engine.placement import place
from studio.core.engine.render import render
from studio.core.engine.sample import sample
from studio.core.io.paths import samples
from studio.core.model.errors import StudioError
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import HarmonizeParams, RenderParams, ShadowParams
from studio.core.model.spec import EngineSpec
from studio.core.ops import estimate as est
from studio.core.ops.backend import get_backend
from studio.core.sources import open_source
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder

SUITE = "realism"
REDUCTION_TARGET = 0.5  #: each mismatch at least this much lower with its step on
OVERHEAD_TARGET = 0.60  #: harmonize adds at most this to a 1024 px render with SOT
PREVIEW_TARGET_MS = 10.0
BLUR_SIGMA = 2.0  #: the "blurred" copies
NOISE_SIGMA = 6.0  #: the "noisy" copies (per channel)
GRADIENT = (0.45, 1.25)  #: the "lit from one side" copies: gain from left to right of the face

#: the steps and the statistics they should bring closer
STEPS = {"focus": ("sharpness",), "noise": ("noise luma", "noise chroma"), "shading": ("shading",)}

SPEC = {
    "color": {"method": "sot"},
    "harmonize": {
        "enabled": True,
        "color": {"target": "face"},
        "shading": {"strength": 1.0},
        "focus": {"strength": 1.0},
        "noise": {"strength": 1.0},
        "shadow": {"probability": 0.0},
    },
}
#: the steps issue 23 added, on in the time rows' "all steps" (off in the mismatch rows, which
#: measure the older steps one by one)
LATER_STEPS = {"look": 1.0, "tone": 1.0, "light": 1.0, "compression": 1.0}


def degraded(face: Face, how: str) -> Face:
    """A copy of ``face`` degraded in a known way (``original`` returns it)."""
    img = face.image.astype(np.float32)
    if how == "blurred":
        img = cv2.GaussianBlur(img, (0, 0), BLUR_SIGMA)
    elif how == "noisy":
        img = img + np.random.default_rng(0).normal(0, NOISE_SIGMA, img.shape)
    elif how == "gradient":
        x0, _, x1, _ = face.bbox
        xs = np.clip((np.arange(img.shape[1]) - x0) / max(x1 - x0, 1.0), 0.0, 1.0)
        img = img * (GRADIENT[0] + (GRADIENT[1] - GRADIENT[0]) * xs)[None, :, None]
    elif how != "original":
        raise ValueError(how)
    out = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return Face(out, face.mask, f"{face.id}:{how}", bbox=face.bbox)


@dataclass
class Regions:
    """Where the statistics are compared: the occluder's interior and its skin ring."""

    region: tuple[int, int, int, int]
    interior: np.ndarray  #: bool on ``region``
    work: tuple[int, int, int, int]
    ring: np.ndarray  #: bool on ``work``


def regions(face: Face, occ: Occluder, params: RenderParams) -> Regions | None:
    """The engine's own ring and interior for this placement."""
    be = get_backend("cpu")
    placed = place(face, occ, params)
    if placed is None or not placed.label.any():
        return None
    ring = stage.ring_of(be, params, face.image, face.mask, placed)
    inside = est.interior_cells(be, placed.label, est.MARGIN).full()
    if not ring.usable or np.count_nonzero(inside) < 4 * est.MIN_PIXELS:
        return None
    return Regions(placed.region, inside, ring.work, ring.mask)


def _crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1]


def _log_ratio(a: float, b: float) -> float:
    if not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
        return math.nan
    return abs(math.log(a / b))


def _lowpass(lum: np.ndarray, weight: np.ndarray, sigma: float) -> np.ndarray:
    num = cv2.GaussianBlur(lum * weight, (0, 0), sigma)
    den = cv2.GaussianBlur(weight, (0, 0), sigma)
    return num / np.maximum(den, 1e-4)


def shading_mismatch(face: Face, image: np.ndarray, r: Regions, sigma: float) -> float:
    """``1 - corr(log F, log O)`` over the occluder's interior (see the module docstring)."""
    box = r.work
    lum_face = est.luminance(get_backend("cpu"), _crop(face.image, box))
    lum_out = est.luminance(get_backend("cpu"), _crop(image, box))
    skin = _crop(face.mask, box).astype(np.float32)
    inside = np.zeros(skin.shape, np.float32)
    x0, y0, x1, y1 = r.region
    wx0, wy0 = box[0], box[1]
    inside[y0 - wy0 : y1 - wy0, x0 - wx0 : x1 - wx0] = r.interior
    f = np.log(_lowpass(lum_face, skin, sigma) + 1.0)[inside > 0]
    o = np.log(_lowpass(lum_out, inside, sigma) + 1.0)[inside > 0]
    if f.std() < 1e-6 or o.std() < 1e-6:
        return math.nan
    return 1.0 - float(np.corrcoef(f, o)[0, 1])


def mismatches(face: Face, image: np.ndarray, r: Regions, params: RenderParams) -> dict:
    """Every statistic's mismatch between the occluder in ``image`` and its ring.

    The ring's pixels are the face's, unchanged in the render (no step touches them: the
    suite casts no shadow), so they are measured on the face: measured on the render, the
    re-blurs of the sharpness estimate (which reach 13 px) would also see the pasted
    occluder's silhouette and pull the ring's figure towards the occluder's."""
    be = get_backend("cpu")
    occ = est.measure(be, _crop(image, r.region), r.interior)
    ring = est.measure(be, _crop(face.image, r.work), r.ring)
    sigma = params.harmonize.shading_smooth * math.sqrt(face.bbox_area)
    return {
        "sharpness": _log_ratio(occ.blur, ring.blur),
        "noise luma": _log_ratio(occ.luma, ring.luma),
        "noise chroma": _log_ratio(occ.chroma, ring.chroma),
        "shading": shading_mismatch(face, image, r, sigma),
    }


def _without(params: RenderParams, step: str) -> RenderParams:
    h = params.harmonize
    return params.replace(harmonize=replace(h, **{step: 0.0}))


def _inputs() -> tuple[list[Face], list[Occluder]]:
    folders = samples()
    faces_src = open_source(folders.root / "faces", "faces")
    occ_src = open_source(folders.occluders, "occluders")
    faces = [faces_src.load(i) for i in faces_src.ids()]
    return faces, [occ_src.load(i) for i in occ_src.ids()]


CONDITIONS = ("original", "blurred", "noisy", "gradient")


def collect(seeds: int) -> dict[tuple[str, str, str], list[tuple[float, float]]]:
    """(condition, step, statistic) -> [(mismatch off, mismatch on)] over the samples."""
    faces, occluders = _inputs()
    spec = EngineSpec.model_validate(SPEC)
    out: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    cache = RenderCache()
    for how in CONDITIONS:
        for face in (degraded(f, how) for f in faces):
            for j, occ in enumerate(occluders):
                for seed in range(seeds):
                    rng = np.random.default_rng([j, seed, len(face.id)])
                    try:
                        params = sample(spec, rng, face, occ, cache)
                    except StudioError:
                        continue
                    r = regions(face, occ, params)
                    if r is None:
                        continue
                    on = render(face, occ, params, cache=cache).image
                    m_on = mismatches(face, on, r, params)
                    for step, stats in STEPS.items():
                        off = render(face, occ, _without(params, step), cache=cache).image
                        m_off = mismatches(face, off, r, params)
                        for stat in stats:
                            out.setdefault((how, step, stat), []).append((m_off[stat], m_on[stat]))
    return out


def _median(values: list[float]) -> float:
    good = [v for v in values if math.isfinite(v)]
    return statistics.median(good) if good else math.nan


def mismatch_rows(seeds: int) -> list[BenchRow]:
    data = collect(seeds)
    rows = []
    for (how, step, stat), pairs in sorted(data.items(), key=lambda kv: _order(kv[0])):
        off = _median([p[0] for p in pairs])
        on = _median([p[1] for p in pairs])
        reduction = 1.0 - on / off if off > 0 else math.nan
        ok = reduction >= REDUCTION_TARGET if math.isfinite(reduction) else None
        rows.append(
            BenchRow(
                SUITE,
                f"{stat} mismatch, {how} faces, {step} off / on",
                reduction * 100.0,
                "% lower",
                f">= {REDUCTION_TARGET:.0%}",
                ok,
                note=f"{off:.3f} -> {on:.3f} (median of {len(pairs)})",
            )
        )
    return rows


def _order(key: tuple[str, str, str]) -> tuple[int, int, str]:
    how, step, stat = key
    return list(STEPS).index(step), CONDITIONS.index(how), stat


# ---- time ----------------------------------------------------------------------------------


def _bench_inputs() -> tuple[Face, Occluder]:
    face = synthetic_face(1024, seed=3)
    hand = synthetic_occluder(512, seed=5)
    occ = Occluder(
        cv2.resize(hand.image, (400, 400), interpolation=cv2.INTER_AREA),
        cv2.resize(hand.alpha, (400, 400), interpolation=cv2.INTER_NEAREST),
        id="bench-occluder",
    )
    return face, occ


def _variants(params: RenderParams) -> dict[str, RenderParams]:
    """The sampled params with no step, each step alone, all steps, and the colour targets."""
    h = params.harmonize
    none = replace(h, shading=0.0, focus=0.0, noise=0.0, shadow=replace(h.shadow, opacity=0.0),
                   look=0.0, tone=0.0, light=0.0, compression=0.0)  # fmt: skip
    out = {"off": params.replace(harmonize=HarmonizeParams())}
    for step in ("shading", "focus", "noise"):
        out[step] = params.replace(harmonize=replace(none, **{step: getattr(h, step)}))
    out["shadow"] = params.replace(harmonize=replace(none, shadow=h.shadow))
    out["look"] = params.replace(harmonize=replace(none, look=h.look, tone=h.tone))
    for step in ("light", "compression"):
        out[step] = params.replace(harmonize=replace(none, **{step: getattr(h, step)}))
    out["older steps"] = params.replace(harmonize=replace(h, look=0.0, tone=0.0, light=0.0,
                                                          compression=0.0))  # fmt: skip
    # RandOcc's steps (focus and noise), whose outputs and follow-protocol cells are held
    out["focus and noise"] = params.replace(harmonize=replace(none, focus=h.focus, noise=h.noise))
    out["all"] = params
    ring = replace(none, color_target="ring")
    out["SOT, ring target"] = params.replace(harmonize=ring)
    lighting = replace(params.color, method="lighting")
    out["lighting, ring target"] = params.replace(color=lighting, harmonize=ring)
    return out


def time_rows(quick: bool) -> list[BenchRow]:
    face, occ = _bench_inputs()
    spec = EngineSpec.model_validate(SPEC).model_copy(deep=True)
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        params = []
        for s in range(4):
            p = sample(spec, np.random.default_rng(s), face, occ)
            shadow = ShadowParams(opacity=0.3, angle=-60.0, distance=0.05, softness=0.04)
            h = replace(p.harmonize, shadow=shadow, **LATER_STEPS)
            params.append(p.replace(harmonize=h))
        variants = [_variants(p) for p in params]
        reps = 3 if quick else 9

        def timer(name: str) -> Callable[[], None]:
            def run() -> None:
                for v in variants:
                    render(face, occ, v[name])  # no cache: SOT recomputed, as in an export

            return run

        names = list(variants[0])
        samples: dict[str, list[float]] = {n: [] for n in names}
        for n in names:
            timer(n)()  # warm-up: tables, caches of the process, not of the renders
        for _ in range(reps):  # interleaved, so that machine noise hits every variant alike
            for n in names:
                t = time_call(timer(n), repeat=1, warmup=0, clock=time.thread_time)
                samples[n].append(t / len(variants))
        times = {n: statistics.median(t) for n, t in samples.items()}
        preview = _preview_ms(face, occ, params[0], reps)
    finally:
        cv2.setNumThreads(threads)
    base = times["off"]
    note = "1 thread, CPU time"
    rows = [BenchRow(SUITE, "render 1024 SOT, harmonize off", base * 1e3, "ms", note=note)]
    for n in ("shading", "focus", "noise", "shadow", "look", "light", "compression"):
        rows.append(
            BenchRow(SUITE, f"step cost: {n}", (times[n] - base) * 1e3, "ms", note="1024 px")
        )
    older = times["older steps"] / base - 1.0
    note = f"{base * 1e3:.1f} -> {times['older steps'] * 1e3:.1f} ms"
    rows.append(BenchRow(SUITE, "overhead of the steps before issue 23", older * 100.0, "%",
                         note=note))  # fmt: skip
    both = times["focus and noise"] / base - 1.0
    note = f"{base * 1e3:.1f} -> {times['focus and noise'] * 1e3:.1f} ms, RandOcc's steps"
    rows.append(BenchRow(SUITE, "overhead of focus and noise together", both * 100.0, "%",
                         note=note))  # fmt: skip
    for n in ("SOT, ring target", "lighting, ring target"):
        rows.append(
            BenchRow(
                SUITE, f"colour {n}, vs SOT to the face", (times[n] - base) * 1e3, "ms",
                note="1024 px, no step",
            )
        )  # fmt: skip
    overhead = times["all"] / base - 1.0
    rows.append(
        BenchRow(
            SUITE,
            "harmonize overhead on a 1024 px render with SOT",
            overhead * 100.0,
            "%",
            f"<= {OVERHEAD_TARGET:.0%}",
            overhead <= OVERHEAD_TARGET,
            note=f"{base * 1e3:.1f} -> {times['all'] * 1e3:.1f} ms, all steps",
        )
    )
    rows.append(
        BenchRow(
            SUITE,
            "preview 512 px, harmonize on, cached parts",
            preview,
            "ms",
            f"< {PREVIEW_TARGET_MS:g}",
            preview < PREVIEW_TARGET_MS,
            note="SOT cached, 1 thread, CPU time",
        )
    )
    return rows


def _preview_ms(face: Face, occ: Occluder, params: RenderParams, reps: int) -> float:
    small = face.resized(512 / max(face.size))
    cache = RenderCache()
    render(small, occ, params, cache=cache)  # fills the colour-transfer cache
    moves = [params.replace(center_rel=(0.3 + 0.02 * i, 0.5)) for i in range(20)]
    t = time_call(
        lambda: [render(small, occ, m, cache=cache) for m in moves], repeat=reps,
        clock=time.thread_time,
    )  # fmt: skip
    return t / len(moves) * 1e3


def run(quick: bool = False, backend: str = "cpu") -> list[BenchRow]:
    """Mismatch rows on the bundled samples, the controlled protocol of the photo's look
    (:mod:`studio.bench.follow`, its tables printed), then the time rows (CPU; ``backend``
    unused)."""
    return mismatch_rows(1 if quick else 2) + follow.run_protocol(quick) + time_rows(quick)
