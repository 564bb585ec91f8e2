"""SOT against the reference, side by side: time per occluder and the sliced Wasserstein
distance (SWD) of the transferred occluder's colours to the face's skin colours, for

- ours: the engine's SOT (a working grid of about 2,048 pixels, 16-bit keys, radix sorts);
- full sort: the same, ranking and sorting every projection as floats (the reference's sort);
- reference: the CPU port of the reference generator's algorithm (every pixel of the
  occluder's box, full sorts, the 61x61 smoothing: :mod:`studio.bench.sot_reference`).

Held-out-like inputs (1024 px synthetic faces, 400x400 hand occluders) give the times and one
SWD; the bundled faces x occluders give a second SWD. Times are this thread's CPU time (OpenCV
set to one thread), so other work on a shared machine slows them less than it slows wall time.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import cv2
import numpy as np

from studio.bench.common import time_call
from studio.bench.sot_reference import sot_reference
from studio.core.io.paths import samples
from studio.core.model.inputs import Face, Occluder
from studio.core.model.params import ColorParams
from studio.core.ops import color
from studio.core.ops.backend import get_backend
from studio.core.sources import open_source
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder

VARIANTS = ("ours", "full sort", "reference")
OCCLUDER_SIDE = 512  #: the reference port takes about 2.8 s on it, as on the held-out data


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, seed: int = 0, n_proj: int = 200) -> float:
    """Sliced 2-Wasserstein distance between point sets (N x d and M x d, uniform weights):
    the root mean, over ``n_proj`` random unit directions, of the squared 1-D distance
    between the projections, computed exactly from their sorted values (POT's
    ``sliced_wasserstein_distance`` computes the same; this sorts rows of float32, several
    times faster)."""
    rng = np.random.default_rng(seed)
    d = rng.normal(size=(n_proj, a.shape[1]))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    pa = np.sort((d @ a.T).astype(np.float32), axis=1)
    pb = np.sort((d @ b.T).astype(np.float32), axis=1)
    # both quantile functions are steps on 1/N and 1/M: compare them on the merged steps
    edges = np.union1d(np.arange(1, a.shape[0]) / a.shape[0], np.arange(1, b.shape[0]) / b.shape[0])
    edges = np.concatenate([[0.0], edges, [1.0]])
    mid, width = (edges[:-1] + edges[1:]) / 2, np.diff(edges)
    qa = pa[:, (mid * a.shape[0]).astype(np.int64)].astype(np.float64)
    qb = pb[:, (mid * b.shape[0]).astype(np.int64)].astype(np.float64)
    return float(np.sqrt(np.mean(((qa - qb) ** 2) @ width)))


def masked_pixels(rgb: np.ndarray, alpha: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` of the pixels where ``alpha`` >= 128, in [0, 1], drawn without replacement."""
    px = rgb[alpha >= 128].astype(np.float64) / 255.0
    idx = np.random.default_rng(seed).choice(px.shape[0], min(n, px.shape[0]), replace=False)
    return px[idx]


def held_out_like(count: int) -> list[tuple[Face, Occluder]]:
    """``count`` pairs of a 1024 px synthetic face and an OCCLUDER_SIDE-square hand occluder."""
    pairs = []
    for n in range(count):
        hand = synthetic_occluder(512, seed=5 + n)
        side = (OCCLUDER_SIDE, OCCLUDER_SIDE)
        occ = Occluder(  # stretched so that its box is exactly square
            cv2.resize(hand.image, side, interpolation=cv2.INTER_AREA),
            cv2.resize(hand.alpha, side, interpolation=cv2.INTER_NEAREST),
            id=f"bench-occluder-{n}",
        )
        pairs.append((synthetic_face(1024, seed=3 + n), occ))
    return pairs


def bundled_pairs(faces: int | None = None) -> list[tuple[Face, Occluder]]:
    """The first ``faces`` bundled faces (all by default) with every bundled occluder."""
    folders = samples()
    face_source = open_source(folders.root / "faces", "faces")
    occluders = open_source(folders.occluders, "occluders")
    loaded = [occluders.load(i) for i in occluders.ids()]
    return [(face_source.load(f), o) for f in face_source.ids()[:faces] for o in loaded]


def transfer(variant: str, face: Face, occ: Occluder, seed: int = 0) -> np.ndarray:
    """The occluder's colours after ``variant``'s SOT towards ``face`` (skin sampling included)."""
    if variant == "reference":
        return sot_reference(occ.image, occ.alpha, face.image, face.mask, seed=seed)
    skin = color.skin_pixels(face.image, face.mask, face.bbox)
    params = ColorParams(method="sot", strength=1.0, seed=seed)  # the default quality
    be = get_backend("cpu")
    moved = color.sot_transport(
        be, occ.image, occ.alpha, skin, params, full_sort=variant == "full sort"
    )
    return occ.image if moved is None else moved.apply(be, occ.image, params.strength)


def swd_to_skin(face: Face, occ: Occluder, rgb: np.ndarray) -> float:
    """SWD between 20,000 of the occluder's pixels and 20,000 of the face's skin pixels."""
    skin = face.image[face.mask].astype(np.float64) / 255.0
    skin = skin[np.random.default_rng(1).choice(skin.shape[0], min(20000, skin.shape[0]), False)]
    return sliced_wasserstein(masked_pixels(rgb, occ.alpha, 20000, 2), skin)


def compare(quick: bool) -> dict[str, Any]:
    """Times (ms per occluder, median over the held-out-like pairs) and mean SWDs of each
    variant, plus the SWD of the untransferred occluders ("none")."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        pairs = held_out_like(1 if quick else 3)
        repeats = {"ours": 9 if quick else 25, "full sort": 5 if quick else 9, "reference": 1}
        ms = {
            v: 1e3
            * statistics.median(
                time_call(
                    lambda f=f, o=o, v=v: transfer(v, f, o),
                    repeats[v],
                    warmup=int(v != "reference"),
                    clock=time.thread_time,
                )
                for f, o in pairs
            )
            for v in VARIANTS
        }
        out: dict[str, Any] = {"ms": ms, "pairs": len(pairs)}
        bundled = bundled_pairs(1 if quick else None)
        for name, chosen in (("held-out-like", pairs), ("bundled", bundled)):
            seeds = range(1 if quick or name == "held-out-like" else 3)
            swd = {v: [] for v in (*VARIANTS, "none")}  # type: dict[str, list[float]]
            for face, occ in chosen:
                swd["none"].append(swd_to_skin(face, occ, occ.image))
                for v in VARIANTS:
                    for seed in seeds if v != "reference" else range(1):
                        swd[v].append(swd_to_skin(face, occ, transfer(v, face, occ, seed)))
            out[name] = {v: float(np.mean(x)) for v, x in swd.items()}
            out[f"{name} cases"] = len(chosen)
        return out
    finally:
        cv2.setNumThreads(threads)
