"""Rendering cases shared by the backend tests: sampled parameters that exercise every op
(SOT, Reinhard, lighting, occluder blur/JPEG/affine, RandOcc with and without texture, labels,
whole-image augmentation, preview scale, opacity, every harmonize step and the ring target, the
photo's look on a faded JPEG and on a grey face)."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np

from studio.core.engine.cache import RenderCache
from studio.core.engine.render import Result
from studio.core.engine.sample import sample
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.params import RenderParams
from studio.core.model.spec import EngineSpec
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder, synthetic_texture

Case = tuple[str, Face, Occluder | Texture | None, RenderParams]

_ALWAYS_AUG = {
    "blur": {"probability": 1.0},
    "jpeg": {"probability": 1.0},
    "affine": {"probability": 1.0},
}

SPECS: dict[str, dict] = {
    "natocc_sot": {},
    "natocc_reinhard_aug": {"color": {"method": "reinhard"}, "occluder_augment": _ALWAYS_AUG},
    "natocc_sot_opacity": {
        "blend": {"opacity_probability": 1.0, "feather": 2.0, "edge_blur": 1.5},
        "rotation": {"point_at_face": True},
    },
    "natocc_image_aug": {
        "image_augment": {"enabled": True, "flip_probability": 1.0, "blur_probability": 1.0}
    },
    "randocc_texture": {"mode": "randocc", "shape": {"canvas": 128}},
    "randocc_flat": {"mode": "randocc", "shape": {"canvas": 96, "texture_probability": 0.0}},
    "natocc_harmonize": {
        "harmonize": {"enabled": True, "color": {"target": "face"}, "shadow": {"probability": 1.0}}
    },
    "natocc_lighting_ring": {
        "color": {"method": "lighting"},
        "harmonize": {"enabled": True, "shadow": {"probability": 1.0}},
        "blend": {"opacity_probability": 1.0},
    },
    "natocc_sot_ring_jpeg": {
        "harmonize": {"enabled": True, "shadow": {"probability": 0.0}},
        "occluder_augment": _ALWAYS_AUG,
    },
    "randocc_harmonize": {
        "mode": "randocc",
        "shape": {"canvas": 128},
        "harmonize": {"enabled": True, "shading": {"strength": 1.0}},
    },
    # the photo's look, light, JPEG quality and resolution, highlights, fragments and the
    # relative band (issue 23), on faces made to carry them (FACES below)
    "natocc_photo_look": {
        "color": {"method": "lighting", "highlights": 1.0},
        "occluder_augment": {"min_fragment": 0.05},
        "blend": {"relative_to": 120},
        "harmonize": {"enabled": True, "shading": {"light": 1.0}, "compression": {"strength": 1.0},
                      "look": {"strength": 1.0, "tone": 1.0}, "shadow": {"probability": 0.0}},
    },
    "natocc_sot_light_grey": {
        "color": {"highlights": 1.0},
        "harmonize": {"enabled": True, "shading": {"light": 1.0}, "look": {"strength": 1.0},
                      "color": {"target": "face"}, "shadow": {"probability": 0.0}},
    },
}


def _jpeg_faded(face: Face) -> Face:
    """A faded copy of ``face``, JPEG-compressed at quality 40 on its grid."""
    faded = np.clip(40.0 + 0.7 * face.image.astype(np.float32), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", faded, [cv2.IMWRITE_JPEG_QUALITY, 40])
    assert ok
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return Face(image, face.mask, face.id + ":faded-q40", face.labels, face.scale, face.bbox)


def _grey(face: Face) -> Face:
    y = face.image.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    image = np.repeat(np.rint(y)[..., None], 3, axis=2).astype(np.uint8)
    return Face(image, face.mask, face.id + ":grey", face.labels, face.scale, face.bbox)


#: the faces of a case, made from the two synthetic ones (the others use them as they are)
FACES = {"natocc_photo_look": _jpeg_faded, "natocc_sot_light_grey": _grey}


def _face_with_labels(size: int, seed: int) -> Face:
    face = synthetic_face(size, seed)
    labels = (face.mask.astype(np.uint8) * 1).copy()
    labels[: size // 3][face.mask[: size // 3]] = 2
    return Face(face.image, face.mask, face.id, labels)


def cases(size: int = 192) -> list[Case]:
    """Sampled (name, face, occluder, params) covering the pipeline; deterministic."""
    faces = [_face_with_labels(size, 0), synthetic_face(size, 1).resized(0.75)]
    occluder = synthetic_occluder(160, 3)
    texture = synthetic_texture(96, 4)
    out: list[Case] = []
    for name, data in SPECS.items():
        spec = EngineSpec.model_validate(data)
        made = FACES.get(name)
        for i, face in enumerate(faces if made is None else [made(f) for f in faces]):
            occ = occluder if spec.mode == "natocc" else (texture if i == 0 else None)
            for seed in range(2):
                rng = np.random.default_rng(1000 * i + seed)
                params = sample(spec, rng, face, occ, RenderCache())
                out.append((f"{name}-{i}-{seed}", face, occ, params))
    return out


def result_digest(result: Result) -> str:
    """Hash of every array of a result (image, masks, alpha, labels)."""
    h = hashlib.sha256()
    for a in (result.image, result.face_mask, result.occlusion_mask, result.alpha, result.labels):
        if a is None:
            h.update(b"none")
            continue
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def boundary(mask: np.ndarray) -> np.ndarray:
    """Pixels within one pixel of the boundary of a binary mask (both sides)."""
    m = mask.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    return (cv2.dilate(m, kernel) > 0) & ~(cv2.erode(m, kernel, borderValue=1) > 0)


def tolerance(params: RenderParams) -> int:
    """Grey levels the parity rule allows for ``params``: 1, or 2 with the lighting colour
    method, which scales the warp's 1-level differences by its gain (up to 2x)."""
    return 2 if params.color.method == "lighting" else 1


def tolerated_share(params: RenderParams) -> float:
    """Share of the image values that may differ by more than :func:`tolerance`: 0.1%, or 1%
    when the occluder is re-encoded at the photo's JPEG quality (a 1-level difference before
    the encoder can move a quantised coefficient, and with it a whole 8x8 block)."""
    h = params.harmonize
    return 0.01 if h.enabled and h.compression > 0 else 0.001


def parity_problems(
    cpu: Result, other: Result, levels: int = 1, share: float = 0.001
) -> list[str]:
    """What breaks the CPU/device parity rule (empty when it holds).

    Image: ``|other - cpu| <= levels`` grey levels (1, see :func:`tolerance`) on at least
    ``1 - share`` of the pixel values (99.9%; see :func:`tolerated_share`). Masks and labels:
    identical, or differing only on the CPU label boundary and on at most 0.1% of the pixels
    (float rounding of the shape alpha at exactly the 0.5 threshold).
    """
    problems = []
    if cpu.image.shape != other.image.shape or cpu.image.dtype != other.image.dtype:
        return [
            f"image {other.image.dtype}{other.image.shape} != {cpu.image.dtype}{cpu.image.shape}"
        ]
    diff = np.abs(cpu.image.astype(np.int16) - other.image.astype(np.int16))
    far = float(np.mean(diff > levels))
    if far > share:
        problems.append(
            f"{far:.4%} of image values differ by more than {levels} (max {diff.max()})"
        )
    edge = boundary(cpu.occlusion_mask > 0)
    pairs = [("face_mask", cpu.face_mask, other.face_mask)]
    pairs.append(("occlusion_mask", cpu.occlusion_mask, other.occlusion_mask))
    if cpu.labels is not None:
        pairs.append(("labels", cpu.labels, other.labels))
    for name, a, b in pairs:
        if b is None or a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"{name}: shape/dtype differ")
            continue
        differ = a != b
        if np.any(differ & ~edge):
            problems.append(f"{name}: {int(np.sum(differ & ~edge))} pixels differ off the boundary")
        if differ.mean() > 0.001:
            problems.append(f"{name}: {differ.mean():.4%} of pixels differ")
    return problems
