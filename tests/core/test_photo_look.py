"""The occluder takes on the photo's look (issue 23): monochrome and toned photos, colour cast,
tone curve, light direction, JPEG quality and resolution, highlights that roll off, clean
cut-outs, an edge band relative to the occluder. Each step at 0 renders what no step renders;
labels never change; each step moves its statistic the way the photo moved."""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np
import pytest
from render_cases import result_digest

from studio.bench import follow
from studio.core import EngineSpec, Face, Occluder, RenderCache, render, sample
from studio.core.engine import photo
from studio.core.model.params import HarmonizeParams, RenderParams
from studio.core.ops import compression, look, shapes
from studio.core.ops import estimate as est
from studio.core.ops.backend import get_backend, jpeg_roundtrip_host
from studio.core.ops.color import roll_off
from studio.core.sources.synthetic import synthetic_face

CPU = get_backend("cpu")
NEW = {"look": 0.0, "tone": 0.0, "light": 0.0, "compression": 0.0}
ALL_NEW = {"look": 1.0, "tone": 1.0, "light": 1.0, "compression": 1.0}
QUIET = {  # no occluder augmentation, a placement that always fits
    "occluder_augment": {"blur": {"probability": 0}, "jpeg": {"probability": 0},
                         "affine": {"probability": 0}, "brightness": 0.0, "contrast": 1.0},
    "placement": {"min_coverage": 0.0, "max_coverage": 1.0},
    "scale": {"area_ratio": 0.35},
    "rotation": {"point_at_face": False, "angle": 0.0},
    "flip": {"probability": 0.0},
}  # fmt: skip
HARMONIZED = {"enabled": True, "shadow": {"probability": 0.0}, "color": {"target": "ring"}}


@pytest.fixture(scope="module")
def photos():
    return follow.tuning_inputs()


def _colour_photo(photos) -> Face:
    return next(f for f in photos.faces if f.id.startswith("astronaut"))


def _object(photos, name: str = "helmet.png") -> Occluder:
    return next(o for o in photos.objects if o.id == name)


def _params(face, occ, method="lighting", seed=0, area=0.35, **harmonize) -> RenderParams:
    spec = EngineSpec.model_validate(
        {**QUIET, "scale": {"area_ratio": area}, "color": {"method": method},
         "harmonize": {**HARMONIZED, **harmonize}}
    )  # fmt: skip
    return sample(spec, np.random.default_rng(seed), face, occ)


def _with(params: RenderParams, **steps) -> RenderParams:
    return params.replace(harmonize=dataclasses.replace(params.harmonize, **steps))


def _interior(result, radius=4) -> np.ndarray:
    return est.interior(CPU, result.occlusion_mask > 0, radius)


def _colourfulness(px: np.ndarray) -> float:
    y = px.astype(np.float32) @ np.array(est.LUMA, np.float32)
    return float(np.mean(np.hypot(px[:, 0] - y, px[:, 2] - y)))


# ---- at 0, as today; drawn last; recorded only when set -------------------------------------


def test_the_new_steps_at_zero_render_byte_for_byte_what_no_step_renders(photos):
    face, occ = _colour_photo(photos), _object(photos)
    for method in ("lighting", "sot", "none"):
        params = _params(face, occ, method, shading={"strength": 0.7})
        zero = _with(params, **NEW).replace(
            color=dataclasses.replace(params.color, highlights=0.0),
            blend=dataclasses.replace(params.blend, relative_to=0),
            augment=dataclasses.replace(params.augment, min_fragment=0.0),
        )
        assert zero == params  # the defaults are the zeros ...
        old = RenderParams.from_dict(
            {k: v for k, v in params.to_dict().items()}  # ... and what a record reads back
        )
        assert result_digest(render(face, occ, zero)) == result_digest(render(face, occ, old))
        on = _with(params, **ALL_NEW)
        assert result_digest(render(face, occ, on)) != result_digest(render(face, occ, zero))


def test_at_zero_no_new_step_runs_at_all(photos, monkeypatch):
    """Byte for byte as today because none of their code runs (each raises if called)."""
    from studio.core.engine import prepare
    from studio.core.ops import color

    def refuse(*_args, **_kwargs):
        raise AssertionError("a step at strength 0 ran")

    for module, name in ((photo, "face_look"), (photo, "face_compression"), (est, "light_plane"),
                         (shapes, "drop_fragments"), (color, "roll_off"), (est, "delit"),
                         (prepare, "_cleaned")):  # fmt: skip
        monkeypatch.setattr(module, name, refuse)
    face, occ = _colour_photo(photos), _object(photos)
    face = Face(jpeg_roundtrip_host(face.image, 40), face.mask, "q40", bbox=face.bbox)
    for method in ("lighting", "sot", "reinhard", "none"):
        params = _params(face, occ, method, shading={"strength": 0.7}, shadow={"probability": 1})
        render(face, occ, params, cache=RenderCache())


def test_the_new_numbers_are_drawn_after_every_older_one(photos):
    face, occ = _colour_photo(photos), _object(photos)
    older = EngineSpec.model_validate({"harmonize": {"enabled": True}})
    newer = EngineSpec.model_validate(
        {"harmonize": {"enabled": True, "shading": {"light": {"min": 0.2, "max": 0.9}},
                       "look": {"strength": 1.0, "tone": {"min": 0.1, "max": 0.5}},
                       "compression": {"strength": 0.5}}}
    )  # fmt: skip
    for seed in range(3):
        a = sample(older, np.random.default_rng(seed), face, occ)
        b = sample(newer, np.random.default_rng(seed), face, occ)
        assert 0.2 <= b.harmonize.light <= 0.9 and 0.1 <= b.harmonize.tone <= 0.5
        assert _with(b, **NEW) == a  # every older value as drawn


def test_records_hold_the_new_fields_only_when_set(photos):
    face, occ = _colour_photo(photos), _object(photos)
    params = _params(face, occ)
    plain = params.to_dict()
    assert "look" not in plain["harmonize"] and "highlights" not in plain["color"]
    assert "relative_to" not in plain["blend"] and "min_fragment" not in plain["augment"]
    on = _with(params, look=0.5).replace(blend=dataclasses.replace(params.blend, relative_to=300))
    data = on.to_dict()
    assert data["harmonize"]["look"] == 0.5 and data["blend"]["relative_to"] == 300
    assert RenderParams.from_dict(data) == on and RenderParams.from_dict(plain) == params


# ---- labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["lighting", "sot"])
def test_no_new_step_changes_a_label(photos, method):
    face, occ = _colour_photo(photos), _object(photos)
    face = Face(jpeg_roundtrip_host(face.image, 40), face.mask, "jpeg-40", bbox=face.bbox)
    params = _params(face, occ, method)
    plain = render(face, occ, params.replace(harmonize=HarmonizeParams()))
    for steps in ({"look": 1.0, "tone": 1.0}, {"light": 1.0}, {"compression": 1.0}, ALL_NEW):
        for highlights in (0.0, 1.0):
            v = _with(params, **steps)
            v = v.replace(color=dataclasses.replace(v.color, highlights=highlights))
            r = render(face, occ, v)
            assert np.array_equal(r.occlusion_mask, plain.occlusion_mask), steps
            assert np.array_equal(r.face_mask, plain.face_mask) and r.stats == plain.stats


# ---- the photo's colour rendering ------------------------------------------------------------


def test_estimates_of_the_look(photos):
    face = _colour_photo(photos)
    plain = look.estimate(face.image, face.mask, face.bbox)
    assert plain.mono == 0.0 and plain.saturation > 0.9 and plain.black < 5
    assert math.hypot(*plain.cast) < 0.1  # a plain photo has next to no cast
    grey = look.estimate(follow.degrade(face.image, "grey"), face.mask, face.bbox)
    assert grey.mono == 1.0 and np.abs(np.array(grey.tint)).max() < 1.0
    y = face.image.astype(np.float32) @ np.array(est.LUMA, np.float32)
    sepia = np.clip(np.stack([y * 1.07 + 8, y * 0.98, y * 0.8], -1), 0, 255).astype(np.uint8)
    toned = look.estimate(sepia, face.mask, face.bbox)
    tint = np.array(toned.tint)
    assert toned.mono == 1.0 and (tint[:, 0] > tint[:, 1]).all() and (tint[:, 1] > tint[:, 2]).all()
    warm = look.estimate(follow.degrade(face.image, "warm"), face.mask, face.bbox)
    shift = np.array(warm.cast) - np.array(plain.cast)
    truth = np.log(np.array([follow.WARM[0], follow.WARM[2]]))
    assert np.linalg.norm(shift - truth) < 0.3 * np.linalg.norm(truth)
    faded = look.estimate(follow.degrade(face.image, "faded"), face.mask, face.bbox)
    assert faded.black > 25 and faded.contrast < 0.85 and faded.saturation < 0.7


@pytest.mark.parametrize("how", ["original", "grey", "sepia", "warm"])
def test_a_transfer_estimates_only_the_toning_and_renders_as_with_the_whole_look(
    photos, how, monkeypatch
):
    face = _colour_photo(photos)
    if how == "sepia":
        y = face.image.astype(np.float32) @ np.array(est.LUMA, np.float32)
        image = np.clip(np.stack([y * 1.07 + 8, y * 0.98, y * 0.8], -1), 0, 255)
        face = Face(image.astype(np.uint8), face.mask, "sepia", bbox=face.bbox)
    elif how != "original":
        face = follow.degraded_face(face, how)
    full = look.estimate(face.image, face.mask, face.bbox)
    toning = look.estimate(face.image, face.mask, face.bbox, toning_only=True)
    assert (toning.mono, toning.levels, toning.tint) == (full.mono, full.levels, full.tint)
    occ = _object(photos, "cup.png")
    params = _params(face, occ, "sot", look={"strength": 1.0})
    parts = photo.look_parts(params)
    assert parts.cast == 0 and parts.tone == 0  # what a transfer leaves to the look
    toned_only = render(face, occ, params).image
    whole = look.estimate
    monkeypatch.setattr(look, "estimate", lambda image, mask, bbox, **_: whole(image, mask, bbox))
    assert np.array_equal(render(face, occ, params).image, toned_only)  # with the whole look


@pytest.mark.parametrize("method", ["lighting", "sot", "none"])
def test_on_a_black_and_white_photo_the_occluder_is_grey(photos, method):
    face, occ = _colour_photo(photos), _object(photos, "cup.png")
    grey = follow.degraded_face(face, "grey")
    params = _params(grey, occ, method, look={"strength": 1.0})
    on, off = render(grey, occ, params), render(grey, occ, _with(params, look=0.0))
    inside = _interior(on)
    # without the step the red cup keeps colour (SOT towards grey skin keeps a little)
    assert _colourfulness(off.image[inside]) > (3.0 if method == "sot" else 8.0)
    assert _colourfulness(on.image[inside]) < 1.5


def test_a_sepia_photo_gives_a_sepia_occluder(photos):
    face, occ = _colour_photo(photos), _object(photos, "cup.png")
    y = face.image.astype(np.float32) @ np.array(est.LUMA, np.float32)
    sepia = np.clip(np.stack([y * 1.07 + 8, y * 0.98, y * 0.8], -1), 0, 255).astype(np.uint8)
    toned = Face(sepia, face.mask, "sepia", bbox=face.bbox)
    params = _params(toned, occ, "lighting", look={"strength": 1.0})
    on = render(toned, occ, params)
    px = on.image[_interior(on)].astype(np.float32)
    r, g, b = px.mean(axis=0)
    assert r > g > b
    # every pixel toned like the photo at its level: no red cup left
    seen = photo.face_look(toned, RenderCache())
    y = px @ np.array(est.LUMA, np.float32)
    tint = np.stack([np.interp(y, seen.levels, np.array(seen.tint)[:, c]) for c in range(3)], 1)
    assert float(np.median(np.abs(px - y[:, None] - tint).max(axis=1))) < 4.0
    off = render(toned, occ, _with(params, look=0.0))
    assert _colourfulness(off.image[_interior(off)]) > _colourfulness(px) + 10


def test_a_warm_grade_moves_the_occluder_as_it_moves_the_photo(photos):
    face, occ = _colour_photo(photos), _object(photos, "helmet.png")
    warm = follow.degraded_face(face, "warm")
    params = _params(face, occ, "lighting", look={"strength": 1.0})
    shares = []
    for p in (params, _with(params, look=0.0)):
        r0, rd = render(face, occ, p).image, render(warm, occ, p).image
        where = follow.where(face, occ, p)
        shares.append(follow.fail_share(r0, rd, where, "warm"))
    assert shares[0] < 0.25 < shares[1]


def test_a_faded_photo_lifts_the_occluders_blacks(photos):
    face, occ = _colour_photo(photos), _object(photos, "helmet.png")
    faded = follow.degraded_face(face, "faded")
    params = _params(faded, occ, "lighting", look={"strength": 1.0, "tone": 1.0})
    on, off = render(faded, occ, params), render(faded, occ, _with(params, tone=0.0))
    lum = [est.luminance(CPU, r.image)[_interior(r)] for r in (on, off)]
    assert np.percentile(lum[0], 2) > np.percentile(lum[1], 2) + 10


# ---- light, compression, resolution ------------------------------------------------------------


@pytest.mark.parametrize("method", ["lighting", "sot"])
def test_the_occluder_is_lit_from_the_side_the_face_is(photos, method):
    face, occ = _colour_photo(photos), follow.procedural_hand(3)
    side = follow.degraded_face(face, "side light")
    params = _params(face, occ, method, area=0.9, shading={"strength": 0.0, "light": 1.0})
    shares = []
    for p in (params, _with(params, light=0.0)):
        r0, rd = render(face, occ, p).image, render(side, occ, p).image
        shares.append(follow.fail_share(r0, rd, follow.where(face, occ, p), "side light"))
    assert shares[0] < 0.3 and shares[1] > 0.7


def test_the_jpeg_quality_and_the_resolution_are_estimated(photos):
    for face in photos.faces:
        box = tuple(int(v) for v in face.bbox)
        for q in (20, 30, 45, 60, 85):
            found = compression.jpeg_quality(jpeg_roundtrip_host(face.image, q), box)
            assert found is not None and abs(found - q) <= 1, (face.id, q, found)
        for how in ("noisy", "blurred"):  # no JPEG grid left
            assert compression.jpeg_quality(follow.degrade(face.image, how), box) is None
        h, w = face.image.shape[:2]
        for f in (0.5, 1 / 3):
            size = (round(w * f), round(h * f))
            small = cv2.resize(face.image, size, interpolation=cv2.INTER_AREA)
            big = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
            assert compression.effective_resolution(big, box) == pytest.approx(f, abs=0.01)
        for how in ("noisy", "jpeg 30", "grey"):
            assert compression.effective_resolution(follow.degrade(face.image, how), box) == 1.0


def test_the_occluder_region_takes_on_the_photos_jpeg_blocks(photos):
    face, occ = _colour_photo(photos), _object(photos, "cup.png")
    coarse = Face(jpeg_roundtrip_host(face.image, 30), face.mask, "q30", bbox=face.bbox)
    params = _params(coarse, occ, "lighting", area=0.9, compression={"strength": 1.0})
    on, off = render(coarse, occ, params), render(coarse, occ, _with(params, compression=0.0))
    x0, y0, x1, y1 = on.stats["occluder_bbox"]
    box = (x0 + 4, y0 + 4, x1 - 4, y1 - 4)
    assert compression.jpeg_quality(on.image, box) == pytest.approx(30, abs=1)
    assert compression.jpeg_quality(off.image, box) is None
    # the face beyond the occluder's edge band is the photo's, bit for bit
    keep = on.occlusion_mask == 0
    band = cv2.dilate((on.occlusion_mask > 0).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    assert np.array_equal(on.image[keep & ~band], coarse.image[keep & ~band])


def test_an_enlarged_photo_gives_an_enlarged_occluder(photos):
    face, occ = _colour_photo(photos), _object(photos, "cup.png")
    h, w = face.image.shape[:2]
    small = cv2.resize(face.image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    big = Face(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), face.mask, "x2",
               bbox=face.bbox)  # fmt: skip
    assert photo.face_compression(big, RenderCache()).resolution == 0.5
    params = _params(big, occ, "none", compression={"strength": 1.0})
    energy = []
    for p in (params, _with(params, compression=0.0)):
        r = render(big, occ, p)
        lum = est.luminance(CPU, r.image.astype(np.float32))
        lap = np.abs(cv2.Laplacian(lum, cv2.CV_32F))
        energy.append(float(lap[_interior(r)].mean()))
    assert energy[0] < 0.7 * energy[1]


# ---- highlights, cut-outs, the edge band -------------------------------------------------------


def test_roll_off_never_reaches_white_unless_the_source_was_white():
    values = np.linspace(0, 600, 601, dtype=np.float32)
    for strength in (0.2, 1.0):
        out = roll_off(np, values, np.full_like(values, 200.0), strength)
        assert out.max() < 254.5 and np.all(np.diff(out) >= 0)
        below = values <= 255 - 64 * strength  # below the knee: as they were
        assert np.array_equal(out[below], values[below])
    white = roll_off(np, np.full(3, 255.0, np.float32), np.full(3, 255.0, np.float32), 1.0)
    assert np.all(white == 255.0)


@pytest.mark.parametrize("method", ["sot", "lighting"])
def test_sot_and_lighting_never_clip_the_occluder_to_white(method):
    face = synthetic_face(256, seed=5)
    bright = Face(np.clip(face.image.astype(int) + 60, 0, 255).astype(np.uint8), face.mask)
    rgb = np.full((90, 90, 3), (230, 200, 190), np.uint8)
    rgb[::7] = (250, 240, 235)
    occ = Occluder(rgb, np.full((90, 90), 255, np.uint8), id="pale")
    params = _params(bright, occ, method)
    params = params.replace(harmonize=HarmonizeParams())
    clipped = render(bright, occ, params)
    protect = dataclasses.replace(params.color, highlights=1.0)
    rolled = render(bright, occ, params.replace(color=protect))
    inside = _interior(rolled, 2)
    assert (clipped.image[inside] == 255).any()  # without it, the transfer blows them out
    assert not (rolled.image[inside] == 255).any()


def test_stray_fragments_of_a_cutout_are_dropped_and_recorded(photos):
    face, occ = _colour_photo(photos), _object(photos, "cup.png")
    alpha = occ.alpha.copy()
    h, w = alpha.shape
    cv2.line(alpha, (w - 6, 4), (w - 6, h // 3), 255, 3)  # a streak apart from the cup
    streaky = Occluder(occ.image, alpha, id="streaky")
    clean, dropped = shapes.drop_fragments(alpha, 0.05)
    assert 0 < dropped < 0.05 * np.count_nonzero(alpha >= 128)
    assert np.array_equal(clean >= 128, occ.alpha >= 128) or np.count_nonzero(
        (clean >= 128) != (occ.alpha >= 128)
    ) < 0.001 * alpha.size
    params = _params(face, streaky, "lighting")
    kept = render(face, streaky, params)
    on = params.replace(augment=dataclasses.replace(params.augment, min_fragment=0.05))
    cleaned = render(face, streaky, on)
    assert cleaned.stats["fragments_dropped_px"] == dropped
    assert "fragments_dropped_px" not in kept.stats
    assert np.count_nonzero(cleaned.occlusion_mask) < np.count_nonzero(kept.occlusion_mask)
    xs = np.nonzero(kept.occlusion_mask & ~cleaned.occlusion_mask)[1]
    assert xs.size and xs.min() > np.median(np.nonzero(cleaned.occlusion_mask)[1])


def _sharpness(result, inside) -> float:
    """The interior's detail: its mean squared luminance gradient (central differences)."""
    lum = est.luminance(CPU, result.image.astype(np.float32))
    gy, gx = np.gradient(lum)
    return float(np.mean((gx * gx + gy * gy)[inside]))


def _small_photo(face: Face, side: int) -> Face:
    """A face photo ``side`` pixels high (native, scale 1): ``face`` cropped to its face box
    grown by half a box on each side, and shrunk."""
    x0, y0, x1, y1 = look.scene_box(face.bbox, face.size)
    crop = Face(face.image[y0:y1, x0:x1], face.mask[y0:y1, x0:x1], face.id)
    small = crop.resized(side / (y1 - y0))
    return Face(small.image, small.mask, f"{face.id}@{side}", bbox=small.bbox)


@pytest.mark.parametrize("side", [150, 220, 300])
def test_on_small_faces_the_shipped_blend_keeps_the_interior_sharp(photos, side):
    """The issue's small photos: the default (shipped) blend against no edge band at all
    (feather and edge blur 0), focus off. In native pixels the band (3 px, feather 1, edge
    blur 1) reaches across a thin finger: the check must be able to fail."""
    small = _small_photo(_colour_photo(photos), side)
    spec = follow.shipped("natocc-hands")
    assert spec.blend.relative_to > 0
    ours, native = [], []
    for seed, hand in enumerate(follow.procedural_hand(s) for s in range(3)):
        params = sample(spec, np.random.default_rng(seed), small, hand)
        params = params.replace(harmonize=HarmonizeParams())  # focus off: the blend alone
        band0 = params.replace(blend=dataclasses.replace(params.blend, feather=0.0, edge_blur=0.0))
        wide = params.replace(blend=dataclasses.replace(params.blend, relative_to=0))
        results = [render(small, hand, p) for p in (params, band0, wide)]
        inside = est.interior(CPU, results[0].occlusion_mask > 0, 1)
        s_ours, s_hard, s_wide = (_sharpness(r, inside) for r in results)
        ours.append(s_ours / s_hard)
        native.append(s_wide / s_hard)
        assert results[0].stats["edge_px"][0] == 1  # only the rim: a one-pixel band
    assert all(abs(r - 1.0) <= 0.1 for r in ours), ours
    assert max(abs(r - 1.0) for r in native) > 0.1, native
