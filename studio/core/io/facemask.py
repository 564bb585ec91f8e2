"""Automatic face (skin) masks: face detection, 468 face landmarks, landmark hull.

Models: MediaPipe's BlazeFace short-range detector and face-mesh landmark model (Apache-2.0,
taken unchanged from the ``mediapipe`` 0.10.14 wheel; see studio/resources/LICENSES.md),
stored in studio/resources/models and run with OpenCV's DNN module
(``cv2.dnn.readNetFromTFLite``), so no extra runtime is needed. Outputs match the TensorFlow
Lite runtime to 1e-4.

The mask is the face-oval polygon of the landmarks with the forehead extended upwards; the
extension keeps only pixels whose colour is close to the face's own skin, which leaves most
hair out.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from studio.core.io import paths
from studio.core.model.errors import InputError

#: Where the .tflite models live (``STUDIO_MODELS_DIR`` overrides it).
MODELS_DIR = paths.models_dir()
DETECTOR_FILE = "face_detection_short_range.tflite"
LANDMARK_FILE = "face_landmark.tflite"

DETECTOR_SIZE = 128
LANDMARK_SIZE = 192
MIN_DETECTION_SCORE = 0.5
MIN_PRESENCE_SCORE = 0.5
NMS_IOU = 0.3
ROI_SCALE = 1.5
#: Two masks overlapping more than this (share of the smaller) are the same face found twice.
DUPLICATE_OVERLAP = 0.5
#: Longest side at which masks are computed (bigger photos are scaled down, then back).
WORK_SIDE = 1024

#: Face-oval landmark ids of the 468-point face mesh, in order around the face (10 = top).
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
CHIN, FOREHEAD_TOP = 152, 10
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
#: How far the forehead is extended above the eye line, as a fraction of eye-line-to-top height.
FOREHEAD_EXTENSION = 0.45
#: Mahalanobis distance (YCrCb) up to which an extension pixel counts as skin.
SKIN_DISTANCE = 2.0


@dataclass(frozen=True)
class Detection:
    """A detected face: score, box (x0, y0, x1, y1) and 6 keypoints, in image pixels."""

    score: float
    box: tuple[float, float, float, float]
    keypoints: np.ndarray  # 6x2: right eye, left eye, nose, mouth, right ear, left ear

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


def models_dir() -> Path:
    return Path(os.environ.get("STUDIO_MODELS_DIR") or MODELS_DIR)


def _box(values: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in values[:4])
    return x0, y0, x1, y1


def _anchors() -> np.ndarray:
    """896x2 anchor centres of the short-range detector (strides 8, 16, 16, 16)."""
    centres = []
    for grid, per_cell in ((16, 2), (8, 6)):
        ys, xs = np.mgrid[0:grid, 0:grid]
        cell = np.stack([(xs + 0.5) / grid, (ys + 0.5) / grid], -1).reshape(-1, 1, 2)
        centres.append(np.repeat(cell, per_cell, axis=1).reshape(-1, 2))
    return np.concatenate(centres).astype(np.float32)


_ANCHORS = _anchors()


def _nms(boxes: np.ndarray, scores: np.ndarray) -> list[int]:
    """Indices kept by non-maximum suppression (highest score first); boxes x0,y0,x1,y1."""
    order = list(np.argsort(-scores))
    keep = []
    while order:
        best = order.pop(0)
        keep.append(best)
        bx = boxes[best]
        rest = []
        for i in order:
            ox = boxes[i]
            iw = max(0.0, min(bx[2], ox[2]) - max(bx[0], ox[0]))
            ih = max(0.0, min(bx[3], ox[3]) - max(bx[1], ox[1]))
            inter = iw * ih
            union = (bx[2] - bx[0]) * (bx[3] - bx[1]) + (ox[2] - ox[0]) * (ox[3] - ox[1]) - inter
            if union <= 0 or inter / union <= NMS_IOU:
                rest.append(i)
        order = rest
    return keep


class FaceMasker:
    """Detects faces and makes face-skin masks. One instance per thread (see :func:`masker`)."""

    def __init__(self, model_dir: str | Path | None = None) -> None:
        folder = Path(model_dir) if model_dir else models_dir()
        paths = [folder / DETECTOR_FILE, folder / LANDMARK_FILE]
        for path in paths:
            if not path.is_file():
                raise InputError(
                    "face-mask model not found (it ships in studio/resources/models; "
                    "STUDIO_MODELS_DIR points elsewhere)",
                    path,
                )
        try:
            self._detector = cv2.dnn.readNetFromTFLite(str(paths[0]))
            self._landmarker = cv2.dnn.readNetFromTFLite(str(paths[1]))
        except cv2.error as err:
            raise InputError(f"cannot load face-mask model: {err}", folder) from err

    # -- detection -------------------------------------------------------------------------
    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in an RGB uint8 image, best score first.

        The short-range detector sees a 128 px square, so small faces (group photos) are also
        searched for in 3x3 overlapping tiles of half the image; results are merged."""
        h, w = image.shape[:2]
        found = self._detect_window(image, 0, 0)
        tile = max(h, w) // 2
        if tile >= 2 * DETECTOR_SIZE:
            for ty in np.linspace(0, max(0, h - tile), 3).astype(int):
                for tx in np.linspace(0, max(0, w - tile), 3).astype(int):
                    window = image[ty : ty + tile, tx : tx + tile]
                    found.extend(self._detect_window(window, int(tx), int(ty)))
        if not found:
            return []
        boxes = np.array([d.box for d in found])
        scores = np.array([d.score for d in found])
        return [found[i] for i in _nms(boxes, scores)]

    def _detect_window(self, image: np.ndarray, dx: int, dy: int) -> list[Detection]:
        """Detections in one window (letterboxed to a square), in image pixels."""
        h, w = image.shape[:2]
        side = max(h, w)
        square = np.zeros((side, side, 3), np.uint8)
        top, left = (side - h) // 2, (side - w) // 2
        square[top : top + h, left : left + w] = image
        small = cv2.resize(square, (DETECTOR_SIZE, DETECTOR_SIZE), interpolation=cv2.INTER_AREA)
        blob = (small.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
        self._detector.setInput(blob)
        raw_scores, raw_boxes = self._detector.forward(["classificators", "regressors"])
        logits = np.clip(raw_scores.reshape(-1).astype(np.float64), -80, 80)
        scores = 1.0 / (1.0 + np.exp(-logits))
        chosen = np.flatnonzero(scores >= MIN_DETECTION_SCORE)
        if chosen.size == 0:
            return []
        reg = raw_boxes.reshape(-1, 16)[chosen] / DETECTOR_SIZE
        anchor = _ANCHORS[chosen]
        cx, cy = reg[:, 0] + anchor[:, 0], reg[:, 1] + anchor[:, 1]
        bw, bh = reg[:, 2], reg[:, 3]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], -1)
        kps = reg[:, 4:16].reshape(-1, 6, 2) + anchor[:, None, :]
        offset = np.array([left - dx, top - dy], np.float64)
        return [
            Detection(
                float(scores[chosen][i]),
                _box(boxes[i] * side - np.concatenate([offset, offset])),
                kps[i] * side - offset,
            )
            for i in _nms(boxes, scores[chosen])
        ]

    # -- landmarks -------------------------------------------------------------------------
    def _roi(self, centre: np.ndarray, size: float, angle: float) -> np.ndarray:
        """2x3 affine matrix from the image to the LANDMARK_SIZE square of a rotated ROI."""
        scale = LANDMARK_SIZE / size
        cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
        half = LANDMARK_SIZE / 2.0
        return np.array(
            [
                [cos, sin, half - cos * centre[0] - sin * centre[1]],
                [-sin, cos, half + sin * centre[0] - cos * centre[1]],
            ],
            np.float64,
        )

    def _run_landmarks(
        self, image: np.ndarray, centre: np.ndarray, size: float, angle: float
    ) -> tuple[np.ndarray, float]:
        matrix = self._roi(centre, size, angle)
        crop = cv2.warpAffine(
            image,
            matrix,
            (LANDMARK_SIZE, LANDMARK_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
        )
        blob = (crop.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]
        self._landmarker.setInput(blob)
        raw_points, raw_presence = self._landmarker.forward(["conv2d_21", "conv2d_31"])
        presence = float(1.0 / (1.0 + np.exp(-float(raw_presence.reshape(-1)[0]))))
        points = raw_points.reshape(-1, 3)[:, :2].astype(np.float64)
        inverse = cv2.invertAffineTransform(matrix)
        back = points @ inverse[:, :2].T + inverse[:, 2]
        return back, presence

    def landmarks(self, image: np.ndarray, detection: Detection) -> np.ndarray | None:
        """468x2 landmarks in image pixels, or None when the landmark model sees no face."""
        x0, y0, x1, y1 = detection.box
        right_eye, left_eye = detection.keypoints[0], detection.keypoints[1]
        angle = -math.atan2(-(left_eye[1] - right_eye[1]), left_eye[0] - right_eye[0])
        centre = np.array([(x0 + x1) / 2.0, (y0 + y1) / 2.0])
        size = max(x1 - x0, y1 - y0) * ROI_SCALE
        points, presence = self._run_landmarks(image, centre, size, angle)
        if presence < MIN_PRESENCE_SCORE:
            return None
        # second pass on the ROI the landmarks give (tighter and better rotated)
        r, left = points[RIGHT_EYE_OUTER], points[LEFT_EYE_OUTER]
        angle = -math.atan2(-(left[1] - r[1]), left[0] - r[0])
        lo, hi = points.min(0), points.max(0)
        centre = (lo + hi) / 2.0
        size = float(max(hi - lo)) * ROI_SCALE
        refined, presence = self._run_landmarks(image, centre, size, angle)
        return refined if presence >= MIN_PRESENCE_SCORE else points

    # -- masks -----------------------------------------------------------------------------
    def face_masks(self, image: np.ndarray, every_face: bool = False) -> list[np.ndarray]:
        """Bool face-skin masks, largest face first (only the largest unless ``every_face``).

        Images longer than WORK_SIDE pixels are processed at that size and the masks scaled
        back (the landmarks come from a 192 px crop, so nothing is lost)."""
        h, w = image.shape[:2]
        if max(h, w) > WORK_SIDE:
            factor = WORK_SIDE / max(h, w)
            size = (max(1, round(w * factor)), max(1, round(h * factor)))
            small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            return [
                cv2.resize(m.astype(np.uint8) * 255, (w, h), interpolation=cv2.INTER_LINEAR) > 127
                for m in self.face_masks(small, every_face)
            ]
        detections = sorted(self.detect(image), key=lambda d: d.area, reverse=True)
        masks: list[np.ndarray] = []
        for det in detections:
            points = self.landmarks(image, det)
            if points is None:
                continue
            mask = mask_from_landmarks(image, points)
            if mask.any() and not any(_overlap(mask, kept) > DUPLICATE_OVERLAP for kept in masks):
                masks.append(mask)
                if not every_face:
                    break
        return sorted(masks, key=lambda m: int(m.sum()), reverse=True)


def _overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller mask covered by the other (the same face found twice ~ 1)."""
    return float((a & b).sum()) / max(1, min(int(a.sum()), int(b.sum())))


def mask_from_landmarks(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Face-skin mask from 468 landmarks: hull of the landmarks and the face oval, the forehead
    extended over skin-coloured pixels only. Work is done in the face's box only."""
    h, w = image.shape[:2]
    span = float(np.linalg.norm(points[FOREHEAD_TOP] - points[CHIN]))
    pad = int(span * FOREHEAD_EXTENSION) + 8
    x0, y0 = (max(0, int(v) - pad) for v in points.min(0))
    x1, y1 = (int(v) + pad for v in points.max(0))
    x1, y1 = min(w, x1), min(h, y1)
    mask = np.zeros((h, w), bool)
    if x1 <= x0 or y1 <= y0:
        return mask
    mask[y0:y1, x0:x1] = _mask_in_box(image[y0:y1, x0:x1], points - (x0, y0))
    return mask


def _mask_in_box(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    oval = points[list(FACE_OVAL)]
    base = np.zeros((h, w), np.uint8)
    cv2.fillPoly(base, [np.round(oval).astype(np.int32)], 1)
    # the hull of all landmarks adds the nose and lips of faces seen from the side
    cv2.fillPoly(base, [cv2.convexHull(np.round(points).astype(np.int32))], 1)
    up = points[FOREHEAD_TOP] - points[CHIN]
    length = float(np.linalg.norm(up))
    if length < 1:
        return base.astype(bool)
    up /= length
    eye_line = (points[RIGHT_EYE_OUTER] + points[LEFT_EYE_OUTER]) / 2.0
    height = (oval - eye_line) @ up
    stretched = oval + np.outer(np.clip(height, 0, None) * FOREHEAD_EXTENSION, up)
    extended = np.zeros((h, w), np.uint8)
    cv2.fillPoly(extended, [np.round(stretched).astype(np.int32)], 1)
    extra = (extended > 0) & (base == 0)
    if extra.any():
        extra &= _skin_like(image, base > 0)
        # keep only extension pixels connected to the face
        both = (base > 0) | extra
        both = cv2.morphologyEx(both.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
        count, labels = cv2.connectedComponents(both)
        if count > 1:
            core = labels[base > 0]
            main = np.bincount(core[core > 0]).argmax() if (core > 0).any() else 0
            both = (labels == main).astype(np.uint8) if main else both
        base = np.maximum(base, both)
        base = _fill_holes(base)
    return base > 0


def _skin_like(image: np.ndarray, face: np.ndarray) -> np.ndarray:
    """Pixels whose YCrCb colour is within SKIN_DISTANCE of the face's own skin."""
    ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    inner = cv2.erode(face.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    samples = ycc[inner if inner.sum() > 50 else face]
    if samples.shape[0] < 10:
        return np.ones(face.shape, bool)
    mean = samples.mean(0)
    cov = np.cov(samples.T) + np.eye(3) * 4.0
    inv = np.linalg.inv(cov)
    diff = ycc.reshape(-1, 3) - mean
    dist = np.einsum("ij,jk,ik->i", diff, inv, diff)
    return (dist <= SKIN_DISTANCE**2).reshape(face.shape)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(mask, np.uint8)
    cv2.drawContours(filled, contours, -1, 1, thickness=-1)
    return filled


_local = threading.local()


def masker() -> FaceMasker:
    """This thread's :class:`FaceMasker` (OpenCV networks are not shared across threads)."""
    found = getattr(_local, "masker", None)
    if found is None:
        found = _local.masker = FaceMasker()
    return found


def face_masks(image: np.ndarray, every_face: bool = False) -> list[np.ndarray]:
    """Face-skin masks of an RGB image (largest face first; only it unless ``every_face``)."""
    return masker().face_masks(image, every_face)


def face_mask(image: np.ndarray, source: str | Path = "image") -> np.ndarray:
    """Bool face-skin mask of the largest face; InputError when no face is found."""
    masks = face_masks(image)
    if not masks:
        raise InputError("no face found (automatic face mask)", source)
    return masks[0]
