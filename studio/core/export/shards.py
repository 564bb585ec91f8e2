"""WebDataset shards: an export's samples as tar files of a bounded size (``--format
webdataset``), written with the standard library's :mod:`tarfile`.

- A job of shards of ``samples`` samples gives shard ``k`` the sample indices
  ``[k * samples, (k + 1) * samples)``: one worker makes them all and writes the shard
  (``shards/00000k.tar``) in one atomic write once it is whole, so a crash loses at most
  the shards in flight. A shard that would pass ``bytes`` is continued in another one,
  named by the index of its first sample (``shards/00000k_<index>.tar``), as are the
  samples a later round adds to a range (replacements of failed draws, a grown job).
- Each sample's files are members under one key: ``KEY.jpg`` (or ``.png``),
  ``KEY.mask.png``, ``KEY.occlusion_mask.png``, ``KEY.labels.png`` and ``KEY.json`` (its
  parameters). WebDataset splits a member name at the first dot of its base name, so the
  key is the sample's stem with ``%`` written ``%25`` and ``.`` written ``%2E`` (a stem
  ``0000003_face.01`` is the key ``0000003_face%2E01``; :func:`stem_of` reverses it).
- Members are byte-identical to the files of a folder export, and tar headers are fixed
  (mtime 0, uid/gid 0, no user or group names, mode 0644, PAX format): the same job gives
  the same shards whatever the workers, engine or resumes.
- The manifest stays the index: a row names its ``shard`` (name, size, hash, samples) and
  each member's name and offset (``members``); ``checks`` hold each member's size and hash.
"""

from __future__ import annotations

import io
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from studio.core.export.folder import SHARDS, ExportFolder
from studio.core.export.rows import file_hasher
from studio.core.model.errors import WriteError

DEFAULT_SAMPLES = 1000
DEFAULT_BYTES = 2**30
FORMATS = ("folder", "webdataset")
#: the member name of each file of a sample, after its key (the image's is its format)
SUFFIXES = {
    "mask": "mask.png",
    "occlusion_mask": "occlusion_mask.png",
    "labels": "labels.png",
    "params": "json",
}
_CHUNK = 4 * 2**20


@dataclass(frozen=True)
class ShardSpec:
    """How an export is cut in shards: ``samples`` indices a shard, at most ``bytes``."""

    samples: int = DEFAULT_SAMPLES
    bytes: int = DEFAULT_BYTES

    def __post_init__(self) -> None:
        if self.samples < 1 or self.bytes < 1:
            raise ValueError("shards hold at least one sample and one byte")

    def range_of(self, index: int) -> int:
        return index // self.samples

    def name(self, first: int) -> str:
        """The shard whose first sample index is ``first``."""
        k = self.range_of(first)
        own = first == k * self.samples
        return f"{SHARDS}/{k:06d}.tar" if own else f"{SHARDS}/{k:06d}_{first}.tar"

    def record(self) -> dict[str, Any]:
        """What job.json records of the format."""
        return {"name": "webdataset", "shard_samples": self.samples, "shard_bytes": self.bytes}


def member_key(stem: str) -> str:
    """The WebDataset key of a sample (no dot: see the module docstring)."""
    return stem.replace("%", "%25").replace(".", "%2E")


def stem_of(key: str) -> str:
    """The stem of a sample from its key (the inverse of :func:`member_key`)."""
    return key.replace("%2E", ".").replace("%25", "%")


def member_name(key: str, file_key: str, image_format: str) -> str:
    return f"{key}.{image_format if file_key == 'image' else SUFFIXES[file_key]}"


def _info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = size, 0, 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info


class ShardWriter:
    """One shard being written: members go to a local temporary file; :meth:`finish` writes
    the whole tar to the export folder at once (or :meth:`discard` drops it)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.samples = 0
        self._spool = tempfile.TemporaryFile(prefix="studio-shard-")  # noqa: SIM115 (finish)
        self._tar: tarfile.TarFile | None = tarfile.open(  # noqa: SIM115 (closed by finish)
            fileobj=self._spool, mode="w", format=tarfile.PAX_FORMAT
        )

    @property
    def size(self) -> int:
        assert self._tar is not None
        return int(self._tar.offset)

    def add(self, name: str, data: bytes) -> int:
        """Add a member; the offset of its data in the shard."""
        assert self._tar is not None
        try:
            self._tar.addfile(_info(name, len(data)), io.BytesIO(data))
        except OSError as err:  # the local temporary file: a full disk stops the job
            raise WriteError.from_os_error(err, f"{tempfile.gettempdir()} ({self.name})") from err
        padded = -(-len(data) // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE
        return int(self._tar.offset - padded)

    def finish(self, folder: ExportFolder) -> tuple[int, str]:
        """Close the tar and write it to ``folder`` in one write; its size and hash."""
        assert self._tar is not None
        self._tar.close()
        self._tar = None
        spool = self._spool
        size = spool.tell()
        hasher = file_hasher()

        def chunks() -> Iterator[bytes]:
            spool.seek(0)
            while block := spool.read(_CHUNK):
                hasher.update(block)
                yield block

        try:
            folder.write(self.name, chunks(), durable=False)
        finally:
            spool.close()
        return size, hasher.hexdigest()

    def discard(self) -> None:
        """Drop the shard (its samples are made again)."""
        self._tar = None
        self._spool.close()
