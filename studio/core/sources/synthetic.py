"""Procedural faces, occluders and textures: deterministic inputs for tests, demos and
benchmarks when no photos are at hand. Not meant to look real."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from studio.core.io.writers import write_bytes_atomic, write_image
from studio.core.model.inputs import Face, Occluder, Texture


def synthetic_face(size: int = 512, seed: int = 0) -> Face:
    """A face-like ellipse with eyes and mouth on a noisy background, and its skin mask."""
    rng = np.random.default_rng(seed)
    bg = rng.integers(30, 90, 3)
    image = np.empty((size, size, 3), np.uint8)
    image[:] = bg
    noise = rng.normal(0, 6, (size, size, 3))
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    skin = np.array([205, 160, 130]) + rng.integers(-25, 25, 3)
    c = (size // 2, int(size * 0.52))
    axes = (int(size * 0.28), int(size * 0.36))
    mask = np.zeros((size, size), np.uint8)
    cv2.ellipse(mask, c, axes, 0, 0, 360, 255, -1)
    shade = np.linspace(0.85, 1.1, size)[None, :, None]
    skin_img = np.clip(skin[None, None, :] * shade + rng.normal(0, 4, (size, size, 3)), 0, 255)
    image = np.where(mask[..., None] > 0, skin_img, image).astype(np.uint8)
    for dx in (-0.1, 0.1):
        eye = (int(size * (0.5 + dx)), int(size * 0.45))
        cv2.ellipse(image, eye, (size // 28, size // 50), 0, 0, 360, (60, 40, 30), -1)
    cv2.ellipse(
        image, (size // 2, int(size * 0.68)), (size // 12, size // 40), 0, 0, 360, (170, 70, 80), -1
    )
    return Face(image, mask, id=f"synthetic-face-{seed}")


def synthetic_occluder(size: int = 256, seed: int = 0, kind: str = "hand") -> Occluder:
    """A hand-like blob (palm plus fingers on its top side) with a coloured gradient."""
    rng = np.random.default_rng(seed)
    alpha = np.zeros((size, size), np.uint8)
    palm_c = (size // 2, int(size * 0.68))
    cv2.ellipse(alpha, palm_c, (int(size * 0.26), int(size * 0.24)), 0, 0, 360, 255, -1)
    for i, dx in enumerate(np.linspace(-0.18, 0.18, 4)):
        top = int(size * (0.1 + 0.06 * abs(i - 1.5)))
        x = int(size * (0.5 + dx))
        cv2.line(alpha, (x, top), (x, palm_c[1]), 255, max(3, size // 14))
    base = rng.integers(40, 230, 3).astype(np.float64)
    yy = np.linspace(0.7, 1.2, size)[:, None, None]
    rgb = np.clip(base[None, None, :] * yy + rng.normal(0, 8, (size, size, 3)), 0, 255)
    return Occluder(rgb.astype(np.uint8), alpha, id=f"synthetic-{kind}-{seed}", kind=kind)


def synthetic_texture(size: int = 256, seed: int = 0) -> Texture:
    """Random stripes and blobs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    f = rng.uniform(0.02, 0.15, 2)
    a = np.sin(xx * f[0] + yy * f[1])
    colors = rng.integers(0, 256, (2, 3)).astype(np.float32)
    t = (a[..., None] + 1) / 2
    img = colors[0] * t + colors[1] * (1 - t) + rng.normal(0, 10, (size, size, 3))
    return Texture(np.clip(img, 0, 255).astype(np.uint8), id=f"synthetic-texture-{seed}")


def write_face_folder(root: Path, count: int, size: int = 128, first_seed: int = 0) -> Path:
    """``count`` procedural faces as an images + masks folder (``root/images/face_<seed>.jpg``,
    ``root/masks/face_<seed>.png``, 0/255), the layout every face source reads."""
    root = Path(root)
    for seed in range(first_seed, first_seed + count):
        face = synthetic_face(size, seed)
        write_image(root / "images" / f"face_{seed:05d}.jpg", face.image)
        write_image(root / "masks" / f"face_{seed:05d}.png", face.mask.astype(np.uint8) * 255)
    return root


def write_occluder_folder(root: Path, count: int, size: int = 64, first_seed: int = 0) -> Path:
    """``count`` procedural hand-like occluders as RGBA PNGs in ``root``."""
    root = Path(root)
    for seed in range(first_seed, first_seed + count):
        o = synthetic_occluder(size, seed)
        rgba = np.dstack([o.image[:, :, ::-1], o.alpha])  # OpenCV writes BGRA
        ok, buf = cv2.imencode(".png", rgba)
        if ok:
            write_bytes_atomic(root / f"hand_{seed:05d}.png", buf.tobytes())
    return root
