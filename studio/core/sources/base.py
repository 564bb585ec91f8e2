"""Source protocols, scanning and reports, and the plain folder sources.

Scanning lists file names only (nothing is decoded), so 30,000 files take well under a second
or two. Problems found while scanning (symlinks to nowhere, 0-byte files, images without a
mask) are collected in a :class:`SourceReport`; loading an unusable item raises
:class:`~studio.core.model.errors.InputError` with the path and the reason, never anything else.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from studio.core.io import imageio
from studio.core.io.imageio import IMAGE_EXTENSIONS, is_image_name
from studio.core.io.paths import file_key
from studio.core.model.errors import Hint, InputError, StudioError, printable
from studio.core.model.inputs import Face, Occluder, Texture
from studio.core.model.vocab import OccluderKind, UpSide, values

__all__ = [
    "IMAGE_EXTENSIONS",
    "FaceSource",
    "FolderFaceSource",
    "FolderOccluderSource",
    "OccluderSource",
    "Problem",
    "SourceReport",
    "TextureFolder",
    "TextureSource",
    "list_images",
    "read_image",
    "read_mask",
    "scan_images",
]

OCCLUDER_KINDS = values(OccluderKind)
UP_DIRECTIONS = values(UpSide)


@runtime_checkable
class FaceSource(Protocol):
    def ids(self) -> list[str]: ...
    def load(self, item_id: str) -> Face: ...


@runtime_checkable
class OccluderSource(Protocol):
    def ids(self) -> list[str]: ...
    def load(self, item_id: str) -> Occluder: ...


@runtime_checkable
class TextureSource(Protocol):
    def ids(self) -> list[str]: ...
    def load(self, item_id: str) -> Texture: ...


def read_face(path: Path, mask_path: Path, item_id: str, *, resize_masks: bool = False) -> Face:
    """A face from its image and mask files (errors name the file at fault)."""
    image = imageio.read_image(path)
    mask = imageio.read_mask(mask_path, shape=image.shape[:2], resize=resize_masks)
    if not mask.any():
        raise InputError("face mask is empty (all zero)", mask_path)
    try:
        return Face(image, mask, id=item_id, _key=file_key(path, mask_path, str(resize_masks)))
    except InputError as err:
        raise InputError(err.reason, path) from err


def read_occluder(
    path: Path,
    mask_path: Path | None,
    item_id: str,
    *,
    kind: str = "object",
    up: str = "up",
    no_alpha: str = "occluder has no alpha channel and no mask was given",
    no_alpha_hint: Hint = "occluder_masks",
    resize_masks: bool = False,
) -> Occluder:
    """An occluder from an RGBA image, or from an image and its mask file."""
    image = imageio.read_image(path, keep_alpha=mask_path is None)
    if mask_path is not None:
        mask = imageio.read_mask(mask_path, shape=image.shape[:2], resize=resize_masks)
        alpha = mask.astype(np.uint8) * 255
    elif image.shape[2] == 4:
        alpha = image[:, :, 3]
    else:
        raise InputError(no_alpha, path, hint=no_alpha_hint)
    try:
        return Occluder(
            np.ascontiguousarray(image[:, :, :3]),
            alpha,
            id=item_id,
            kind=kind,
            up=up,
            _key=file_key(path, mask_path, up, str(resize_masks)),
        )
    except InputError as err:
        raise InputError(err.reason, path) from err


@dataclass(frozen=True)
class Problem:
    """One unusable item: where and why."""

    path: str
    reason: str

    def line(self) -> str:
        return f"{printable(self.path)}: {self.reason}"


@dataclass
class SourceReport:
    """What a source holds: usable item count, problems, and layout details."""

    layout: str
    root: str
    count: int
    problems: list[Problem] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": self.layout,
            "root": self.root,
            "count": self.count,
            "problems": [{"path": p.path, "reason": p.reason} for p in self.problems],
            "details": self.details,
        }


#: image formats the reader does not take: named as problems, never skipped silently
UNREAD_IMAGE_EXTENSIONS = (".gif", ".heic", ".heif", ".avif", ".jp2", ".jxl", ".svg", ".psd")


def scan_images(root: Path) -> tuple[list[str], list[Problem]]:
    """Sorted relative posix paths of image files under ``root``, and scan problems.

    Names only: symlinks to nowhere, 0-byte files, images of a format the reader does not
    take (GIF, HEIC, ...) and folders named like images (``x.jpg/``) are reported as problems,
    other files are listed without being opened.
    """
    root = Path(root)
    if not root.is_dir():
        raise InputError("folder not found" if not root.exists() else "not a folder", root)
    ids: list[str] = []
    problems: list[Problem] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        prefix = "" if rel_dir == "." else rel_dir.replace(os.sep, "/") + "/"
        with os.scandir(dirpath) as entries:
            by_name = {e.name: e for e in entries}
        for name in dirnames:
            if is_image_name(name):
                problems.append(Problem(str(root / (prefix + name)), "a folder, not an image"))
        for name in filenames:
            if name.lower().endswith(UNREAD_IMAGE_EXTENSIONS):
                fmt = name.rsplit(".", 1)[1].upper()
                reason = f"{fmt} images are not read: convert it to PNG or JPEG"
                problems.append(Problem(str(root / (prefix + name)), reason))
                continue
            if not is_image_name(name):
                continue
            entry = by_name.get(name)
            rel = prefix + name
            try:
                if entry is None or not entry.is_file():
                    problems.append(Problem(str(root / rel), "symlink to nowhere"))
                    continue
                if entry.stat().st_size == 0:
                    problems.append(Problem(str(root / rel), "0-byte file"))
                    continue
            except OSError as err:
                problems.append(Problem(str(root / rel), f"cannot read: {err.strerror or err}"))
                continue
            ids.append(rel)
    ids.sort()
    return ids, problems


def list_images(root: Path) -> list[str]:
    """Sorted relative paths of the image files under ``root`` (problems left out)."""
    return scan_images(root)[0]


def read_image(path: Path, *, keep_alpha: bool = False) -> np.ndarray:
    """Read an image as RGB (or RGBA when ``keep_alpha`` and present) uint8; see imageio."""
    return imageio.read_image(path, keep_alpha=keep_alpha)


def read_mask(path: Path) -> np.ndarray:
    """Read a mask as bool: 0/255, 0/1 and grey masks are thresholded at half their maximum."""
    return imageio.read_mask(path)


def full_stem(item_id: str) -> str:
    """Relative path without its last extension (``a/face_01.v2.jpg`` -> ``a/face_01.v2``)."""
    head, _, tail = item_id.rpartition("/")
    stem = tail.rsplit(".", 1)[0] if "." in tail else tail
    return f"{head}/{stem}" if head else stem


def first_dot_stem(item_id: str) -> str:
    """The reference generator's stem: the name cut at its first dot (``a/f.v2.jpg`` -> ``a/f``)."""
    head, _, tail = item_id.rpartition("/")
    stem = tail.split(".", 1)[0]
    return f"{head}/{stem}" if head else stem


#: stem suffixes of masks kept beside their images: ``X.jpg`` + ``X.mask.png`` / ``X_mask.png``
BESIDE_SUFFIXES = (".mask", "_mask")


def beside_stem(item_id: str) -> str | None:
    """The full stem of the image whose beside-mask ``item_id`` is (``a/x.mask.png`` ->
    ``a/x``), or None when it is not named as one."""
    stem = full_stem(item_id)
    for suffix in BESIDE_SUFFIXES:
        if stem.endswith(suffix) and len(stem.rpartition("/")[2]) > len(suffix):
            return stem[: -len(suffix)]
    return None


class MaskIndex:
    """Masks of a folder by full stem, built by one scan (PNG preferred on ties).

    An image whose full stem has no mask falls back to the reference generator's naming (the
    name cut at its first dot: ``f.v2.jpg`` -> ``f.png``) when that mask exists. With
    ``beside`` the masks lie among their images (``X.mask.png`` for ``X.jpg``): only files so
    named are masks, found by their image's stem.
    """

    def __init__(self, root: Path, beside: bool = False) -> None:
        self.root = Path(root)
        self.beside = beside
        self._by_stem: dict[str, str] | None = None
        self._names: list[str] = []
        self.problems: list[Problem] = []

    def _build(self) -> dict[str, str]:
        if self._by_stem is None:
            ids, problems = scan_images(self.root)
            if self.beside:
                ids = [rel for rel in ids if beside_stem(rel) is not None]
            else:
                self.problems = problems  # beside: the image scan reports them
            self._names = ids
            by_stem: dict[str, str] = {}
            for rel in sorted(ids, key=lambda r: (not r.lower().endswith(".png"), r)):
                key = (beside_stem(rel) or "") if self.beside else full_stem(rel)
                by_stem.setdefault(key, rel)
            self._by_stem = by_stem
        return self._by_stem

    def names(self) -> list[str]:
        """The mask files (relative paths, sorted), from the same scan."""
        self._build()
        return self._names

    def find(self, item_id: str) -> Path | None:
        by_stem = self._build()
        rel = by_stem.get(full_stem(item_id))
        if rel is None and not self.beside:
            rel = by_stem.get(first_dot_stem(item_id))
        return None if rel is None else self.root / rel

    def is_mask(self, item_id: str) -> bool:
        """Whether ``item_id`` (of the image folder) is itself one of the masks (beside)."""
        return self.beside and beside_stem(item_id) is not None

    def missing(self, item_id: str) -> InputError:
        name = f"{full_stem(item_id)}{BESIDE_SUFFIXES[0]}.png" if self.beside else None
        wanted = f"no mask {name} beside it" if name else f"no mask named {full_stem(item_id)}.*"
        return InputError(f"{wanted} in {self.root}", item_id)


def check_report(
    layout: str,
    root: Path,
    ids: list[str],
    problems: Iterable[Problem],
    load: Callable[[str], Any] | None,
    details: dict[str, Any] | None = None,
) -> SourceReport:
    """A report; with ``load`` every item is loaded and failures become problems."""
    found = list(problems)
    usable = len(ids)
    if load is not None:
        usable = 0
        for item_id in ids:
            try:
                load(item_id)
                usable += 1
            except StudioError as err:
                found.append(Problem(err.path or item_id, err.reason))
    return SourceReport(layout, str(root), usable, found, details or {})


class FolderFaceSource:
    """Images in ``faces`` with masks in ``masks`` matched by full stem (same subfolders).

    ``face_01.v2.jpg`` matches ``face_01.v2.png`` (the name is never cut at its first dot).
    A mask of another size than its image is an error, unless ``resize_masks`` says the masks
    are stored at another resolution (then they are resized with nearest neighbour).
    """

    layout = "images+masks"
    has_labels = False

    def __init__(
        self,
        faces: str | Path,
        masks: str | Path,
        resize_masks: bool = False,
        beside: bool = False,
    ) -> None:
        self.root, self.masks = Path(faces), Path(masks)
        self.resize_masks = resize_masks
        self.mask_index = MaskIndex(self.masks, beside=beside)
        self._ids: list[str] | None = None
        self._problems: list[Problem] = []

    def ids(self) -> list[str]:
        if self._ids is None:
            all_ids, self._problems = scan_images(self.root)
            self._ids = []
            for item_id in all_ids:
                if self.mask_index.is_mask(item_id):
                    continue
                if self.mask_index.find(item_id) is None:
                    self._problems.append(
                        Problem(str(self.root / item_id), self.mask_index.missing(item_id).reason)
                    )
                else:
                    self._ids.append(item_id)
        return self._ids

    def path_of(self, item_id: str) -> str:
        return str(self.root / item_id)

    def mask_path(self, item_id: str) -> Path | None:
        """The mask file of ``item_id`` (None when it has none)."""
        return self.mask_index.find(item_id)

    def load(self, item_id: str) -> Face:
        path = self.root / item_id
        mask_path = self.mask_index.find(item_id)
        if mask_path is None:
            raise InputError(self.mask_index.missing(item_id).reason, path)
        return read_face(path, mask_path, item_id, resize_masks=self.resize_masks)

    def report(self, check: bool = False) -> SourceReport:
        ids = self.ids()
        return check_report(
            self.layout,
            self.root,
            ids,
            self._problems + self.mask_index.problems,
            self.load if check else None,
            {"masks": str(self.masks), "resize_masks": self.resize_masks},
        )


def check_meta(kind: str, up: str) -> None:
    if kind not in OCCLUDER_KINDS:
        raise InputError(f"occluder kind must be one of {', '.join(OCCLUDER_KINDS)}, got {kind!r}")
    if up not in UP_DIRECTIONS:
        raise InputError(f"occluder 'up' must be one of {', '.join(UP_DIRECTIONS)}, got {up!r}")


class FolderOccluderSource:
    """Occluders: RGBA images (alpha = shape), or images with masks in ``masks`` by full stem.

    ``kind`` (hand/object/other) and ``up`` (which side is the occluder's top) apply to every
    item of the source.
    """

    def __init__(
        self,
        root: str | Path,
        masks: str | Path | None = None,
        kind: str = "object",
        up: str = "up",
        resize_masks: bool = False,
        beside: bool = False,
    ) -> None:
        check_meta(kind, up)
        self.root = Path(root)
        self.resize_masks = resize_masks
        self.masks = None if masks is None else Path(masks)
        self.mask_index = None if self.masks is None else MaskIndex(self.masks, beside=beside)
        self.kind, self.up = kind, up
        self._ids: list[str] | None = None
        self._problems: list[Problem] = []

    @property
    def layout(self) -> str:
        return "images+masks" if self.masks is not None else "rgba"

    def path_of(self, item_id: str) -> str:
        return str(self.root / item_id)

    def mask_path(self, item_id: str) -> Path | None:
        """The mask file of ``item_id`` (None for RGBA cut-outs)."""
        return None if self.mask_index is None else self.mask_index.find(item_id)

    def ids(self) -> list[str]:
        if self._ids is None:
            all_ids, self._problems = scan_images(self.root)
            if self.mask_index is None:
                self._ids = all_ids
            else:
                self._ids = []
                for item_id in all_ids:
                    if self.mask_index.is_mask(item_id):
                        continue
                    if self.mask_index.find(item_id) is None:
                        reason = self.mask_index.missing(item_id).reason
                        self._problems.append(Problem(str(self.root / item_id), reason))
                    else:
                        self._ids.append(item_id)
        return self._ids

    def load(self, item_id: str) -> Occluder:
        path = self.root / item_id
        mask_path = None
        if self.mask_index is not None:
            mask_path = self.mask_index.find(item_id)
            if mask_path is None:
                raise InputError(self.mask_index.missing(item_id).reason, path)
        return read_occluder(
            path,
            mask_path,
            item_id,
            kind=self.kind,
            up=self.up,
            no_alpha="occluder has no alpha channel and no mask folder was given",
            resize_masks=self.resize_masks,
        )

    def report(self, check: bool = False) -> SourceReport:
        ids = self.ids()
        problems = self._problems + (self.mask_index.problems if self.mask_index else [])
        details: dict[str, Any] = {"kind": self.kind, "up": self.up}
        if self.masks is not None:
            details["masks"] = str(self.masks)
            details["resize_masks"] = self.resize_masks
        return check_report(
            self.layout, self.root, ids, problems, self.load if check else None, details
        )


class TextureFolder:
    """Any folder tree of images (the DTD layout works as is)."""

    layout = "textures"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._ids: list[str] | None = None
        self._problems: list[Problem] = []

    def path_of(self, item_id: str) -> str:
        return str(self.root / item_id)

    def ids(self) -> list[str]:
        if self._ids is None:
            self._ids, self._problems = scan_images(self.root)
        return self._ids

    def load(self, item_id: str) -> Texture:
        path = self.root / item_id
        image = imageio.read_image(path)
        try:
            return Texture(image, id=item_id, _key=file_key(path))
        except InputError as err:
            raise InputError(err.reason, path) from err

    def report(self, check: bool = False) -> SourceReport:
        ids = self.ids()
        return check_report(
            self.layout, self.root, ids, self._problems, self.load if check else None
        )
