"""A manifest row: the files of one sample, where they lie (sample folders, or members of a
shard), the checks recorded of them (size and hash), and reading them back.

A row of a folder export names its files (``files``: ``images/STEM.jpg``...). A row of a
shard export (``--format webdataset``, :mod:`.shards`) names them the same way (what the
sample is called) and adds where the bytes are: ``shard`` (``{"name": "shards/000000.tar",
"size", "hash", "samples"}``: the shard, its size and hash, and how many samples it holds)
and ``members`` (``{"image": ["KEY.jpg", OFFSET], ...}``: each member's name and the offset
of its bytes in the shard). ``checks`` hold each file's (member's) size and hash either way.
Every read goes through :class:`~studio.core.export.folder.ExportFolder` (confined, bounded).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.export.folder import (
    LAYOUTS,
    MAX_UNRECORDED_BYTES,
    SAMPLE_FOLDERS,
    SHARDS,
    Entry,
    ExportFolder,
    sample_path,
)
from studio.core.model.errors import InputError

MAX_INDEX = 2**62  #: sample indices lie in [0, MAX_INDEX)
_CHUNK = 4 * 2**20


def file_hasher() -> Any:
    """The cheap content hash recorded for each file (BLAKE2b, 64 bits), to be fed."""
    return hashlib.blake2b(digest_size=8)


def file_hash(data: bytes) -> str:
    """:func:`file_hasher` of ``data``, in hex."""
    hasher = file_hasher()
    hasher.update(data)
    return str(hasher.hexdigest())


def sample_index(value: Any) -> int | None:
    """``value`` when it is a sample index (see :func:`index_problem`), else None."""
    return value if index_problem(value) is None else None


def index_problem(value: Any) -> str | None:
    """Why ``value`` is not a sample index (an int in [0, :data:`MAX_INDEX`)), or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "has no sample index"
    if not 0 <= value < MAX_INDEX:
        return f"has sample index {value}, outside [0, 2**62)"
    return None


def row_index(row: dict[str, Any], path: Path, n: int) -> int:
    """The sample index of a row (InputError naming the file and line when it has none)."""
    index = sample_index(row.get("index"))
    if index is None:
        raise InputError(f"line {n} {index_problem(row.get('index'))}", path)
    return index


def recorded(want: Any) -> tuple[int, str] | None:
    """A recorded check ``[size, hash]`` as a pair, or None when it is not one."""
    ok = (
        isinstance(want, list)
        and len(want) == 2
        and isinstance(want[0], int)
        and not isinstance(want[0], bool)
        and want[0] >= 0
        and isinstance(want[1], str)
    )
    return (want[0], want[1]) if ok else None


def _count(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return value if ok else None


@dataclass(frozen=True)
class Shard:
    """The shard a row's members lie in, as the row records it."""

    name: str
    size: int
    hash: str
    samples: int


def row_shard(row: dict[str, Any]) -> Shard | str | None:
    """The shard of a row (None for a row of a folder export), or why it is not one."""
    shard = row.get("shard")
    if shard is None:
        return None
    if not isinstance(shard, dict):
        return "the row's shard is not a record"
    name = shard.get("name")
    outside = sample_path(name, (SHARDS,))
    if outside is not None:
        return f"shard: {outside}"
    size, samples = _count(shard.get("size")), _count(shard.get("samples"))
    digest = shard.get("hash")
    if size is None or samples is None or not isinstance(digest, str):
        return f"the row's record of {name} is not a size, a hash and a count"
    return Shard(str(name), size, digest, samples)


def row_members(row: dict[str, Any]) -> dict[str, tuple[str, int]] | str:
    """The members of a shard row by file key (name, offset), or why they are not."""
    members = row.get("members")
    if not isinstance(members, dict) or not members:
        return "the row names no members of its shard"
    found: dict[str, tuple[str, int]] = {}
    for key, value in members.items():
        ok = isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
        offset = _count(value[1]) if ok else None
        if offset is None or "/" in value[0] or not value[0]:
            return f"members.{key} is not a member name and an offset"
        found[str(key)] = (value[0], offset)
    return found


@dataclass
class ShardChecks:
    """What one pass over a manifest found of each shard (each is looked at once)."""

    entries: dict[str, Entry | None] = field(default_factory=dict)
    hashes: dict[str, bool] = field(default_factory=dict)

    def entry(self, folder: ExportFolder, name: str) -> Entry | None:
        if name not in self.entries:
            self.entries[name] = folder.stat(name)
        return self.entries[name]

    def hash_ok(self, folder: ExportFolder, shard: Shard) -> bool:
        """Whether the shard's bytes have the recorded hash (read once, in chunks)."""
        if shard.name not in self.hashes:
            hasher = file_hasher()
            try:
                for start in range(0, shard.size, _CHUNK):
                    n = min(_CHUNK, shard.size - start)
                    hasher.update(folder.read_at(shard.name, start, n))
                self.hashes[shard.name] = hasher.hexdigest() == shard.hash
            except InputError:
                self.hashes[shard.name] = False
        return self.hashes[shard.name]


def _entry_problem(rel: str, entry: Entry | None) -> str | None:
    if entry is None:
        return f"{rel} is missing"
    if entry.kind != "file":
        kind = "a symbolic link" if entry.kind == "link" else "not a regular file"
        return f"{rel} is {kind}"
    return None


def check_row(
    folder: ExportFolder,
    row: dict[str, Any],
    hashes: bool,
    folders: Iterable[str] = SAMPLE_FOLDERS,
    shards: ShardChecks | None = None,
) -> str | None:
    """Why the files of a manifest row are not what was written, or None when they are: a
    path outside the sample ``folders`` (never opened), missing, a link or special file,
    another size than recorded (sizes are always checked), or, with ``hashes``, other bytes
    (read no further than the recorded size). A shard row's shard is checked (once per
    ``shards`` pass), and its members' bytes with ``hashes``."""
    shard = row_shard(row)
    if shard is not None:
        return _check_members(folder, row, shard, hashes, shards or ShardChecks())
    files = row.get("files")
    if not isinstance(files, dict) or not files:
        return "the row names no files"
    checks = row.get("checks")
    checks = checks if isinstance(checks, dict) else {}
    for key, rel in files.items():
        outside = sample_path(rel, folders)
        if outside is not None:
            return outside
        entry = folder.stat(rel)
        problem = _entry_problem(rel, entry)
        if problem is not None or entry is None:
            return problem
        if key not in checks:
            if entry.size == 0:
                return f"{rel} is empty"
            continue
        want = recorded(checks[key])
        if want is None:
            return f"the row's check of {rel} is not a size and a hash"
        if entry.size != want[0]:
            return f"{rel} has {entry.size} bytes, {want[0]} were written"
        if hashes:
            try:
                data = folder.read(rel, want[0], sample=True)
            except InputError as err:
                return f"{rel} cannot be read ({err.reason})"
            if file_hash(data) != want[1]:
                return f"{rel} differs from what was written (hash)"
    return None


def _check_members(
    folder: ExportFolder, row: dict[str, Any], shard: Shard | str, hashes: bool, seen: ShardChecks
) -> str | None:
    if isinstance(shard, str):
        return shard
    members = row_members(row)
    if isinstance(members, str):
        return members
    entry = seen.entry(folder, shard.name)
    problem = _entry_problem(shard.name, entry)
    if problem is not None or entry is None:
        return problem
    if entry.size != shard.size:
        return f"{shard.name} has {entry.size} bytes, {shard.size} were written"
    if hashes and not seen.hash_ok(folder, shard):
        return f"{shard.name} differs from what was written (hash)"
    checks = row.get("checks")
    checks = checks if isinstance(checks, dict) else {}
    for key, (member, offset) in members.items():
        want = recorded(checks.get(key))
        if want is None:
            return f"the row's check of {shard.name}:{member} is not a size and a hash"
        if offset + want[0] > shard.size:
            return f"{shard.name}:{member} lies past the end of the shard"
        if hashes:
            try:
                data = folder.read_at(shard.name, offset, want[0])
            except InputError as err:
                return f"{shard.name}:{member} cannot be read ({err.reason})"
            if file_hash(data) != want[1]:
                return f"{shard.name}:{member} differs from what was written (hash)"
    return None


def row_problem(row: dict[str, Any], folders: Iterable[str] = SAMPLE_FOLDERS) -> str | None:
    """Why a manifest row cannot be shown (sheet, report): an index outside [0, 2**62), a
    stem that is not text, files that are not a mapping of paths inside the sample
    ``folders``, a shard or members that are not records; None when it can (its files are
    checked when read)."""
    problem = index_problem(row.get("index"))
    if problem is not None:
        return problem
    if not isinstance(row.get("stem"), str):
        return "has no stem"
    files = row.get("files")
    if not isinstance(files, dict):
        return "names no files"
    for key, rel in files.items():
        outside = sample_path(rel, folders)
        if outside is not None:
            return f"files.{key}: {outside}"
    shard = row_shard(row)
    if isinstance(shard, str):
        return shard
    if shard is not None:
        members = row_members(row)
        if isinstance(members, str):
            return members
        if not set(files) <= set(members):
            return "names files that are no members of its shard"
    return None


def file_name(folder: ExportFolder, row: dict[str, Any], key: str) -> str:
    """Where the file ``key`` of a row lies, for people: ``DIR/images/X.jpg``, or
    ``DIR/shards/000000.tar:KEY.jpg`` for a member of a shard."""
    shard, members = row_shard(row), row_members(row)
    if isinstance(shard, Shard) and isinstance(members, dict) and key in members:
        return f"{folder.path / shard.name}:{members[key][0]}"
    files = row.get("files")
    rel = files.get(key) if isinstance(files, dict) else None
    return str(folder.path / rel) if isinstance(rel, str) else str(folder.path)


def read_sample_file(folder: ExportFolder, row: dict[str, Any], key: str) -> bytes:
    """The bytes of the file ``key`` of a manifest row, read only when it lies in a sample
    folder (or is a member of a shard of the shard folder) and is a regular file, and never
    past its recorded size.

    Raises
    ------
    InputError
        naming the file: outside the sample folders, missing, a link or special file, or
        another size than recorded.
    """
    checks = row.get("checks")
    want = recorded(checks.get(key)) if isinstance(checks, dict) else None
    shard = row_shard(row)
    if shard is not None:
        members = row_members(row)
        if isinstance(shard, str):
            raise InputError(shard, folder.path)
        if isinstance(members, str):
            raise InputError(members, folder.path)
        if want is None:
            raise InputError(f"the row records no size of its {key}", folder.path)
        if key not in members:
            raise InputError(f"the row names no {key} member", folder.path / shard.name)
        return folder.read_at(shard.name, members[key][1], want[0])
    files = row.get("files")
    rel = files.get(key) if isinstance(files, dict) else None
    outside = sample_path(rel, SAMPLE_FOLDERS)
    if outside is not None or not isinstance(rel, str):
        raise InputError(outside or "no file", folder.path)
    data = folder.read(rel, MAX_UNRECORDED_BYTES if want is None else want[0], sample=True)
    if want is not None and len(data) != want[0]:
        raise InputError(f"has {len(data)} bytes, {want[0]} were written", folder.path / rel)
    return data


def stored_files(row: dict[str, Any]) -> list[str]:
    """The files of the export folder a row's bytes lie in (its shard, or its files)."""
    shard = row_shard(row)
    if isinstance(shard, Shard):
        return [shard.name]
    files = row.get("files")
    return [f for f in files.values() if isinstance(f, str)] if isinstance(files, dict) else []


def layout_folders(job: dict[str, Any] | None) -> tuple[str, ...]:
    """The folders a job record's samples lie in: its layout's sample folders (every
    layout's when it names none), or the shard folder of a WebDataset export."""
    output_format = (job or {}).get("format")
    if isinstance(output_format, dict) and output_format.get("name") == "webdataset":
        return (SHARDS,)
    layout = LAYOUTS.get(str((job or {}).get("layout")))
    return tuple(sorted(set(layout.values()) if layout else SAMPLE_FOLDERS))
