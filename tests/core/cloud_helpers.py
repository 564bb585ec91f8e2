"""Reading exports in shards and stores for the tests, without the project's own readers:
shards with the standard tarfile, stores with fsspec (s3fs against the moto endpoint)."""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.export.shards import stem_of

COUNT = 10  #: samples of the small jobs
SHARD = ["--format", "webdataset", "--shard-samples", "4"]

#: the folder of a folder export each member stands for, by what follows its key
MEMBER_FOLDERS = {
    "jpg": ("images", "jpg"),
    "png": ("images", "png"),
    "mask.png": ("masks", "png"),
    "occlusion_mask.png": ("occlusion_masks", "png"),
    "labels.png": ("labels", "png"),
}


def store(url: str) -> tuple[Any, str]:
    import fsspec

    fs, path = fsspec.core.url_to_fs(url, use_listings_cache=False)
    return fs, path.rstrip("/")


def upload(local: Path, url: str) -> str:
    """Copy the tree ``local`` to ``url`` (a prefix of the test bucket)."""
    fs, path = store(url)
    for p in sorted(local.rglob("*")):
        if p.is_file():
            fs.pipe_file(f"{path}/{p.relative_to(local).as_posix()}", p.read_bytes())
    return url


def read(where: Path | str, rel: str) -> bytes:
    if isinstance(where, Path):
        return (where / rel).read_bytes()
    fs, path = store(where)
    return bytes(fs.cat_file(f"{path}/{rel}"))


def listing(where: Path | str) -> list[str]:
    """Every file of an export (relative paths, sorted)."""
    if isinstance(where, Path):
        return sorted(p.relative_to(where).as_posix() for p in where.rglob("*") if p.is_file())
    fs, path = store(where)
    return sorted(k[len(path) + 1 :] for k in fs.find(path))


def rows(where: Path | str) -> list[dict[str, Any]]:
    """The manifest rows of an export, by index."""
    lines = read(where, "manifest.jsonl").decode().splitlines()
    return sorted((json.loads(x) for x in lines if x), key=lambda r: r["index"])


def folder_rows(found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as a folder export writes them (a shard row's shard and members left out)."""
    plain = []
    for row in found:
        row = {k: v for k, v in row.items() if k not in ("shard", "members")}
        row["checks"] = {k: v for k, v in row["checks"].items() if k != "params"}
        plain.append(row)
    return plain


def sample_files(where: Path | str) -> dict[str, bytes]:
    """Every sample file of a folder export (``images/X.jpg``...), by relative path."""
    return {
        rel: read(where, rel)
        for rel in listing(where)
        if rel.endswith((".jpg", ".png")) and "/" in rel and not rel.startswith("report/")
    }


def shard_members(where: Path | str) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    """Every member of every shard of an export, by member name."""
    found: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    for rel in listing(where):
        if rel.startswith("shards/") and rel.endswith(".tar"):
            import io

            with tarfile.open(fileobj=io.BytesIO(read(where, rel))) as tar:
                for info in tar.getmembers():
                    handle = tar.extractfile(info)
                    assert handle is not None
                    assert info.name not in found, f"{info.name} in two shards"
                    found[info.name] = (info, handle.read())
    return found


def shard_files(where: Path | str) -> dict[str, bytes]:
    """The members of an export's shards as the files of a folder export they stand for
    (``KEY.mask.png`` -> ``masks/STEM.png``; the parameters left out)."""
    files = {}
    for name, (_, data) in shard_members(where).items():
        key, _, suffix = name.partition(".")
        if suffix == "json":
            continue
        folder, ext = MEMBER_FOLDERS[suffix]
        files[f"{folder}/{stem_of(key)}.{ext}"] = data
    return files


@dataclass(frozen=True)
class SmallJob:
    """A preset on 4 small faces, and its export of :data:`COUNT` samples as a folder and as
    shards of 4 (the references of the shard and store tests)."""

    preset: Path
    folder: Path
    shards: Path


def small_job(factory: Any) -> SmallJob:
    from export_helpers import export_cli, make_inputs, write_preset

    preset = write_preset(make_inputs(factory.mktemp("inputs"), faces=4) / "p.yaml")
    folder, shards = factory.mktemp("folder") / "out", factory.mktemp("shards") / "out"
    assert export_cli(preset, folder, count=COUNT) == 0
    assert export_cli(preset, shards, *SHARD, count=COUNT) == 0
    return SmallJob(preset, folder, shards)
