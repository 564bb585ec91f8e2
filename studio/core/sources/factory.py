"""The one factory of sources: every client (export, studio, demo, inspect, render, torch)
opens faces, occluders and textures here.

A :class:`SourceRef` says what to open (role, path, optional mask/image folders and options);
:func:`open_source` recognises the layout (:mod:`.layouts`) and builds the source. Each opened
source carries its ``ref`` and the recognised ``recognised`` :class:`~.layouts.Layout`, so a
job can record (and a resume compare) what was opened and how.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from studio.core.io import imageio, remote
from studio.core.model.errors import InputError, StudioError
from studio.core.model.preset import SourcesSpec
from studio.core.sources import layouts
from studio.core.sources.automask import MASK_VERSION, AutoMaskFaceSource
from studio.core.sources.base import (
    FolderFaceSource,
    FolderOccluderSource,
    MaskIndex,
    TextureFolder,
)
from studio.core.sources.celebamask import CelebAMaskSource
from studio.core.sources.coco import CocoOccluderSource
from studio.core.sources.layouts import ROLES, Layout, Role

#: Preset keys of each role: (path, paired folder keys dropped when the path is overridden)
PRESET_KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "faces": ("faces", ("face_masks",)),
    "occluders": ("occluders", ("occluder_masks", "occluder_images")),
    "textures": ("textures", ()),
}


@dataclass(frozen=True)
class SourceRef:
    """What to open: a role, a path, and the options of its layout (plain data, picklable).

    ``layout`` is empty until the source is opened; :func:`open_source` then returns a source
    whose ``ref`` has it filled, and refuses a ref whose recorded layout is no longer the one
    found (a resumed job must read its inputs the same way).
    """

    role: Role
    path: str
    masks: str | None = None
    images: str | None = None  #: image folder of a COCO .json
    kind: str = "object"
    up: str = "up"
    categories: tuple[str, ...] | None = None
    min_area: float = 1024.0
    every_face: bool = False
    layout: str = ""

    def folders(self) -> list[Path]:
        """Every folder (or file) this source reads."""
        return [Path(p) for p in (self.path, self.masks, self.images) if p]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.categories is not None:
            data["categories"] = list(self.categories)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SourceRef:
        data = dict(data)
        if data.get("categories") is not None:
            data["categories"] = tuple(str(c) for c in data["categories"])
        return cls(**data)


def _absolute(path: str | Path | None, base: str | Path) -> str | None:
    """``path`` under ``base`` (a URL stays one; a relative path under a URL base is one)."""
    if path is None or path == "":
        return None
    if remote.is_url(path):
        return str(path)
    if remote.is_url(base):
        return f"{str(base).rstrip('/')}/{Path(path).as_posix()}"
    return str((Path(base) / Path(path).expanduser()).resolve())


def _build(ref: SourceRef, found: Layout, save_masks: str | Path | None) -> Any:
    if found.name == layouts.COCO:
        images = found.images or found.root.parent
        return CocoOccluderSource(
            found.root, images, ref.min_area, ref.categories, ref.kind, ref.up
        )
    if found.name == layouts.CELEBAMASK:
        return CelebAMaskSource(found.root)
    if found.name == layouts.TEXTURES:
        return TextureFolder(found.root)
    if found.name == layouts.PHOTOS:
        return AutoMaskFaceSource(found.root, save_masks=save_masks, every_face=ref.every_face)
    masks = {"resize_masks": found.resize_masks, "beside": found.beside}
    if ref.role == "faces":
        assert found.masks is not None  # every other face layout is handled above
        return FolderFaceSource(found.root, found.masks, **masks)
    return FolderOccluderSource(found.root, found.masks, kind=ref.kind, up=ref.up, **masks)


def open_ref(ref: SourceRef, *, save_masks: str | Path | None = None) -> Any:
    """Open the source a :class:`SourceRef` names (its layout recognised, or checked).

    Raises
    ------
    InputError
        naming the folder and the reason when it is missing, unusable or ambiguous, or when
        its layout differs from the one ``ref.layout`` recorded.
    """
    if ref.role not in ROLES:
        raise InputError(f"unknown source role {ref.role!r} (faces, occluders or textures)")
    if any(remote.is_url(p) for p in (ref.path, ref.masks, ref.images)):
        return _open_mirrored(ref, save_masks)
    found = layouts.recognise(ref.path, ref.role, masks=ref.masks, images=ref.images)
    if ref.layout and ref.layout != found.name:
        raise InputError(
            f"is read as {found.name} now, as {ref.layout} when the job was planned", ref.path
        )
    source = _build(ref, found, save_masks)
    if not ref.layout and found.masks is not None:
        check_masks(source, found.masks)  # once, when the source is first opened
    source.ref = replace(ref, layout=found.name)
    source.recognised = found
    return source


def _open_mirrored(ref: SourceRef, save_masks: str | Path | None) -> Any:
    """A source by URL, read from its local mirror (:func:`~studio.core.io.remote.mirror`);
    its ``ref`` keeps the URLs (what a job records is the same on every machine)."""

    def local(path: str | None) -> str | None:
        return str(remote.mirror(path)) if path is not None and remote.is_url(path) else path

    mirrored = replace(ref, path=str(local(ref.path)), masks=local(ref.masks))
    source = open_ref(replace(mirrored, images=local(ref.images)), save_masks=save_masks)
    source.ref = replace(ref, layout=source.ref.layout)
    return source


#: masks decoded to tell masks from photos when a source is first opened
MASKS_CHECKED = 3


def check_masks(source: Any, folder: Path) -> None:
    """Refuse a mask folder whose files are photos, not two-level masks (a few are decoded:
    the first, middle and last; damaged ones are left to the items' own checks).

    Raises
    ------
    InputError
        naming the mask folder and a photo in it.
    """
    index = getattr(source, "mask_index", None)
    if not isinstance(index, MaskIndex):
        return
    names = index.names()
    picked = sorted({names[0], names[len(names) // 2], names[-1]}) if names else []
    for name in picked[:MASKS_CHECKED]:
        try:
            two_level = imageio.is_two_level(index.root / name)
        except StudioError:
            continue
        if not two_level:
            raise InputError(
                f"the masks look like photos, not two-level masks ({name} has many grey "
                "levels): give the folder of masks (0/255), or no mask folder",
                folder,
            )


def open_source(
    path: str | Path | SourceRef,
    role: Role | None = None,
    *,
    masks: str | Path | None = None,
    images: str | Path | None = None,
    kind: str = "object",
    up: str = "up",
    min_area: float = 1024.0,
    categories: list[str] | tuple[str, ...] | None = None,
    every_face: bool = False,
    save_masks: str | Path | None = None,
) -> Any:
    """A face, occluder or texture source for ``path`` (or a :class:`SourceRef`).

    ``role`` None reads a ``.json`` as COCO occluders and anything else as faces. See
    :mod:`studio.core.sources.layouts` for the layouts recognised.
    """
    if isinstance(path, SourceRef):
        return open_ref(path, save_masks=save_masks)
    if role is None:
        role = "occluders" if str(path).lower().endswith(".json") else "faces"
    if remote.is_url(path):
        where = str(path)
    else:
        path = Path(path).expanduser()
        where = str(path.resolve()) if path.exists() else str(path)
    ref = SourceRef(
        role=role,
        path=where,
        masks=_given(masks),
        images=_given(images),
        kind=kind,
        up=up,
        categories=None if categories is None else tuple(str(c) for c in categories),
        min_area=float(min_area),
        every_face=every_face,
    )
    return open_ref(ref, save_masks=save_masks)


def _given(path: str | Path | None) -> str | None:
    """A folder given by the user: a URL as it is, a path made absolute."""
    if path is None or remote.is_url(path):
        return None if path is None else str(path)
    return str(Path(path).expanduser().resolve())


def refs_from_preset(
    sources: SourcesSpec,
    base: str | Path,
    overrides: dict[str, str | Path | None] | None = None,
) -> dict[str, SourceRef]:
    """The source refs of a preset's ``sources:`` section, by role (roles not set left out).

    Preset paths are relative to ``base`` (the data root); ``overrides`` (``faces``,
    ``face_masks``, ``occluders``, ``occluder_masks``, ``occluder_images``, ``textures``) are
    relative to the working folder. Overriding an image folder drops the preset's paired mask
    (and COCO image) folder unless that is overridden too: the new folder's own layout is then
    recognised.
    """
    base = base if remote.is_url(base) else Path(base).expanduser()
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    known = {key for key, paired in PRESET_KEYS.values()} | {
        k for _, paired in PRESET_KEYS.values() for k in paired
    }
    unknown = set(overrides) - known
    if unknown:
        raise ValueError(f"unknown source overrides: {sorted(unknown)}")
    values: dict[str, str | None] = {}
    for key, paired in PRESET_KEYS.values():
        for name in (key, *paired):
            preset_value = getattr(sources, name)
            values[name] = _absolute(preset_value, base)
        if key in overrides:
            values[key] = _absolute(overrides[key], Path.cwd())
            for name in paired:
                values[name] = None
        for name in paired:
            if name in overrides:
                values[name] = _absolute(overrides[name], Path.cwd())
    refs: dict[str, SourceRef] = {}
    if values["faces"]:
        refs["faces"] = SourceRef(
            "faces", values["faces"], masks=values["face_masks"], every_face=sources.every_face
        )
    if values["occluders"]:
        refs["occluders"] = SourceRef(
            "occluders",
            values["occluders"],
            masks=values["occluder_masks"],
            images=values["occluder_images"],
            kind=sources.occluder_kind,
            up=sources.occluder_up,
            categories=sources.occluder_categories,
            min_area=sources.occluder_min_area,
        )
    if values["textures"]:
        refs["textures"] = SourceRef("textures", values["textures"])
    return refs


def sources_spec(refs: dict[str, SourceRef], template: SourcesSpec | None = None) -> SourcesSpec:
    """A preset ``sources:`` section (absolute paths) that opens exactly ``refs``; roles
    not in ``refs`` keep the template's values."""
    data = (template or SourcesSpec()).model_dump()
    faces, occluders, textures = refs.get("faces"), refs.get("occluders"), refs.get("textures")
    if faces is not None:
        data.update(faces=faces.path, face_masks=faces.masks, every_face=faces.every_face)
    if occluders is not None:
        data.update(
            occluders=occluders.path,
            occluder_masks=occluders.masks,
            occluder_images=occluders.images,
            occluder_categories=occluders.categories,
            occluder_min_area=occluders.min_area,
            occluder_kind=occluders.kind,
            occluder_up=occluders.up,
        )
    if textures is not None:
        data.update(textures=textures.path)
    return SourcesSpec(**data)


def dataset_refs(folder: str | Path) -> dict[str, SourceRef]:
    """Refs for the sources inside a folder of several (the reference generator's
    ``dataset/``: faces ``*_img`` + ``*_mask``, hands ``11k-hands_img``, objects
    ``object_image_sr``, textures ``DTD/images``), by role; empty when it is not one.

    Faces are the pair whose name mentions CelebA or faces (the ``Train`` split when there
    are several); occluders are the hands, else the objects.
    """
    folder = Path(folder).expanduser().resolve()
    members = layouts.dataset_members(folder)
    refs: dict[str, SourceRef] = {}
    faces = [m for m in members if ("celeb" in m.lower() or "face" in m.lower())]
    faces = [m for m in faces if layouts.mask_sibling(folder / m)] or [
        m for m in members if layouts.is_celebamask(folder / m)
    ]
    if faces:
        train = [m for m in faces if "train" in m.lower()]
        refs["faces"] = SourceRef("faces", str(folder / (train or faces)[0]))
    hands = [m for m in members if "hand" in m.lower() and layouts.mask_sibling(folder / m)]
    objects = [m for m in members if m == "object_image_sr"]
    occluders = hands or objects
    if occluders:
        kind = "hand" if hands else "object"
        refs["occluders"] = SourceRef("occluders", str(folder / occluders[0]), kind=kind)
    textures = [m for m in members if layouts.dtd_images(folder / m) is not None]
    if textures:
        refs["textures"] = SourceRef("textures", str(folder / textures[0]))
    return refs


def dataset_members_refs(folder: str | Path) -> list[SourceRef]:
    """A ref for every source inside a folder of several (the reference ``dataset/``), in
    name order: face pairs and CelebAMask-HQ roots as faces, DTD roots as textures, every
    other image folder with sibling masks as occluders (hands, objects); empty when it is
    not such a folder. :func:`dataset_refs` picks one per role among these."""
    folder = Path(folder).expanduser().resolve()
    refs: list[SourceRef] = []
    if not dataset_refs(folder):
        return refs
    for member in layouts.dataset_members(folder):
        path, low = folder / member, member.lower()
        if layouts.dtd_images(path) is not None:
            refs.append(SourceRef("textures", str(path)))
        elif layouts.is_celebamask(path) or "celeb" in low or "face" in low:
            refs.append(SourceRef("faces", str(path)))
        else:
            kind = "hand" if "hand" in low else "object"
            refs.append(SourceRef("occluders", str(path), kind=kind))
    return refs


def refs_for_path(path: str | Path, role: Role) -> dict[str, SourceRef]:
    """What opening ``path`` in the studio's ``role`` browser (Open…, drag and drop) opens:
    a COCO file gives occluders, a CelebAMask-HQ folder faces, a folder of several sources
    (the reference ``dataset/``) every role it holds, anything else ``role``.

    Raises
    ------
    InputError
        when ``path`` is none of these, with the reason for ``role``.
    """
    path = Path(path).expanduser().resolve()
    if path.suffix.lower() == ".json" and path.is_file():
        return {"occluders": SourceRef("occluders", str(path))}
    in_celeba = path.name == layouts.IMAGES_DIR and layouts.is_celebamask(path.parent)
    if layouts.is_celebamask(path) or in_celeba:
        return {"faces": SourceRef("faces", str(path))}
    try:
        layouts.recognise(path, role)
    except InputError:
        found = dataset_refs(path) if path.is_dir() else {}
        if found:
            return found
        raise
    return {role: SourceRef(role, str(path))}


def describe(source: Any) -> dict[str, Any]:
    """What job.json records of an opened source: its ref (with the layout) and how it was
    recognised; automatic face masks add their method."""
    ref: SourceRef | None = getattr(source, "ref", None)
    found: Layout | None = getattr(source, "recognised", None)
    data: dict[str, Any] = ref.to_dict() if ref is not None else {"layout": source.layout}
    if found is not None:
        data["read_from"] = {
            "root": str(found.root),
            "masks": None if found.masks is None else str(found.masks),
            "images": None if found.images is None else str(found.images),
            "resize_masks": found.resize_masks,
            "how": found.how,
        }
    if isinstance(source, AutoMaskFaceSource):
        data["automatic_masks"] = automask_record()
    return _public(data)


def _public(value: Any) -> Any:
    """A record with the local mirror folders of URL inputs named by their URLs."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items()}
    if isinstance(value, str):
        return remote.public_text(value)
    return value


def automask_record() -> dict[str, Any]:
    """The automatic face mask's method and model files (name and content hash)."""
    from studio.core.io.facemask import models_dir

    models = {}
    for path in sorted(models_dir().glob("*.tflite")):
        models[path.name] = hashlib.blake2b(path.read_bytes(), digest_size=12).hexdigest()
    return {"method": MASK_VERSION, "models": models}


def summary_line(source: Any, count: int | None = None, problems: int | None = None) -> str:
    """One line for people: ``faces: images+masks, 3 usable, 1 problem: PATH (how)``."""
    ref: SourceRef | None = getattr(source, "ref", None)
    found: Layout | None = getattr(source, "recognised", None)
    role = ref.role if ref is not None else "source"
    where = ref.path if ref is not None else str(getattr(source, "root", ""))
    count = len(source.ids()) if count is None else count
    text = f"{role}: {source.layout}, {count} usable"
    if problems:
        text += f", {problems} problem{'s' if problems != 1 else ''}"
    text += f": {where}"
    if found is not None and found.how:
        text += f" ({remote.public_text(found.how)})"
    return text


def fingerprint(source: Any, ids: list[str]) -> dict[str, Any]:
    """A cheap fingerprint of a source's items: ids and file sizes (no file is read). The
    masks are the ones its mask index scanned (the folder is not walked again)."""
    paths = ((item, source.path_of(item).partition("#")[0]) for item in ids)
    result: dict[str, Any] = {"items": len(ids), "fingerprint": _sizes_digest(paths)}
    index = getattr(source, "mask_index", None)
    if isinstance(index, MaskIndex):
        names = index.names()
        digest = _sizes_digest((name, index.root / name) for name in names)
        result["masks"] = {"items": len(names), "fingerprint": digest}
    return result


def _sizes_digest(entries: Iterable[tuple[str, str | Path]]) -> str:
    """blake2b of each entry's name and its file's size (-1 when it cannot be read)."""
    h = hashlib.blake2b(digest_size=16)
    for name, path in entries:
        try:
            size = os.stat(path).st_size
        except OSError:
            size = -1
        h.update(f"{name}\0{size}\n".encode())
    return h.hexdigest()
