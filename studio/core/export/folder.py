"""Every file operation in an export folder goes through :class:`ExportFolder`.

The folder may be shared and ``studio`` may run as root, so nothing in it is trusted:

- the folder is opened once; every other path is opened relative to its descriptor, one
  component at a time, without following symbolic links (``dir_fd``, ``O_NOFOLLOW``). A
  subfolder (``masks/``, ``report/thumbs/``) or a record file (``manifest.jsonl``, the lock)
  that is a link is refused with one line naming it;
- a path read from a record (a manifest row's ``files``) is confined to the export's own
  sample folders by :func:`sample_path` (``../x``, ``/etc/passwd``, ``images/../../x``: never
  opened);
- sample files are read only when they are regular files, never past a bound (the recorded
  size): ``/dev/zero`` or a FIFO planted in their place is damage, never read;
- writes are atomic (a temporary name beside the file, renamed: a link at the final name is
  replaced, never written through); records are appended line by line (:class:`Appender`).

The interface is storage-shaped, and an object store implements the same methods
(:class:`~studio.core.export.store.StoreFolder`, chosen from the URL: ``ExportFolder("s3://b/x")``
is one, so no caller learns about URLs): :meth:`~ExportFolder.read` a file whole with a bound,
:meth:`~ExportFolder.read_at` a part of one (a member of a shard), :meth:`~ExportFolder.open_read`
/ :meth:`~ExportFolder.lines` a record as a stream, :meth:`~ExportFolder.write` atomically (bytes
or chunks), :meth:`~ExportFolder.append` record lines (:class:`Appender`),
:meth:`~ExportFolder.entries` / :meth:`~ExportFolder.list` a subfolder,
:meth:`~ExportFolder.remove`, :meth:`~ExportFolder.stat` / :meth:`~ExportFolder.exists` /
:meth:`~ExportFolder.is_folder`, :meth:`~ExportFolder.makedirs`, :meth:`~ExportFolder.sync` and
:meth:`~ExportFolder.lock` (a kernel lock here, a lease object in a store). Paths are POSIX and
relative (``images/0000001_f.jpg``; ``""`` is the folder itself).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from studio.core.io import remote
from studio.core.model.errors import InputError, WriteError

#: output sub-folders per layout: image, face mask, occlusion mask, multi-class labels
LAYOUTS: dict[str, dict[str, str]] = {
    "studio": {
        "image": "images",
        "mask": "masks",
        "occlusion_mask": "occlusion_masks",
        "labels": "labels",
    },
    "seed": {
        "image": "img",
        "mask": "mask",
        "occlusion_mask": "occlusion_mask",
        "labels": "labels",
    },
}
#: the folder of the tar shards of a WebDataset export (``--format webdataset``)
SHARDS = "shards"
#: every folder a sample file may lie in (whatever the layout)
SAMPLE_FOLDERS: frozenset[str] = frozenset(
    f for layout in LAYOUTS.values() for f in layout.values()
)
#: longest sample file read without a recorded size (a row of an older version)
MAX_UNRECORDED_BYTES = 512 * 2**20

Kind = Literal["file", "folder", "link", "other"]
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NO_FOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # O_NONBLOCK: a FIFO never blocks


@dataclass(frozen=True)
class Entry:
    """What a name in the folder is (never following a link)."""

    name: str
    kind: Kind
    size: int


def _kind(mode: int) -> Kind:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISLNK(mode):
        return "link"
    return "other"


def sample_path(value: object, folders: Iterable[str] = SAMPLE_FOLDERS) -> str | None:
    """Why ``value`` (a path a record names) is not a file in one of the export's sample
    ``folders`` (``images/x.jpg``), or None when it is."""
    if not isinstance(value, str):
        return f"{value!r} is not a file name"
    parts = value.split("/")
    if len(parts) != 2 or parts[0] not in set(folders):
        return f"{value!r} lies outside the export's sample folders"
    name = parts[1]
    if name in ("", ".", "..") or "\0" in name or "\\" in name:
        return f"{value!r} is not a file name"
    return None


class Refused(InputError):
    """A record or subfolder of the export is a link or a special file: the command stops."""


def refused(path: Path, what: str = "a symbolic link") -> Refused:
    """The one line for a record or subfolder that is not what an export writes there."""
    return Refused(
        f"is {what}; refused (an export's records and folders are never links or special files)",
        path,
    )


def relative_parts(rel: str) -> list[str]:
    """The components of a path inside an export folder (InputError for one that leaves
    it: absolute, empty, ``.`` or ``..`` components)."""
    parts = rel.split("/")
    if rel.startswith("/") or any(p in ("", ".", "..") or "\0" in p for p in parts):
        raise InputError("lies outside the export folder", rel)
    return parts


class Appender:
    """A record file open for appending lines (:meth:`ExportFolder.append`)."""

    def __init__(self, fh: BinaryIO, path: remote.Location) -> None:
        self.fh, self.path = fh, path

    def write_line(self, text: str) -> None:
        """Append one line (``text`` and a newline), flushed to the OS."""
        try:
            self.fh.write(text.encode("utf-8") + b"\n")
            self.fh.flush()
        except OSError as err:
            raise WriteError.from_os_error(err, self.path) from err

    def sync(self) -> None:
        """Make the appended lines durable."""
        try:
            self.fh.flush()
            os.fsync(self.fh.fileno())
        except OSError as err:
            raise WriteError.from_os_error(err, self.path) from err

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.fh.close()


class Held(Protocol):
    """A held lock of a folder (:meth:`ExportFolder.lock`)."""

    def release(self) -> None: ...


class FolderLock:
    """An exclusive kernel lock (flock) on a lock file of the folder: released when the
    process dies, so a crash never leaves the folder locked."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd: int | None = fd
        self.path = path

    def release(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, 0)
            os.close(self.fd)  # closing releases the flock
            self.fd = None


class LockedError(Exception):
    """The lock is held by another process; ``holder`` is what it wrote in the file."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


class ExportFolder:
    """An export folder, opened once: every read, write, rename and removal in it happens
    relative to its descriptor and never follows a link (see the module docstring).

    ``create`` makes the folder (and its parents) when it does not exist. ``path`` may be a
    URL: ``s3://bucket/prefix`` (any fsspec protocol but ``file://``, which is a local path)
    gives a :class:`~studio.core.export.store.StoreFolder`, the same interface in a store.

    Raises
    ------
    InputError
        when the folder does not exist (without ``create``) or is not a folder.
    """

    path: remote.Location  #: a local Path here, a StoreURL in a store

    def __new__(cls, path: str | Path, *, create: bool = False) -> ExportFolder:
        if cls is ExportFolder and remote.in_store(path):
            return super().__new__(_STORES[0])
        return super().__new__(cls)

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self._dirs: dict[tuple[str, ...], int] = {}  # closed on collection, even if not opened
        self.path = self._root = Path(remote.location(path) if remote.is_url(path) else path)
        if create:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except FileExistsError as err:
                raise InputError("is not a folder", self.path) from err
            except OSError as err:
                raise WriteError.from_os_error(err, self.path) from err
        try:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError as err:
            raise InputError("folder not found", self.path) from err
        except NotADirectoryError as err:
            raise InputError("is not a folder", self.path) from err
        except OSError as err:
            raise InputError(f"cannot open: {err.strerror or err}", self.path) from err
        self._dirs = {(): self._fd}

    # ---- lifetime ----------------------------------------------------------------------------
    def close(self) -> None:
        for fd in self._dirs.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._dirs = {}

    def __enter__(self) -> ExportFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def __reduce__(self) -> tuple:
        return (type(self), (self.path,))  # another process opens the folder again

    # ---- folders -------------------------------------------------------------------------------
    def _dir(self, parts: tuple[str, ...], create: bool) -> int | None:
        """The descriptor of the subfolder ``parts``: None when it is missing (or a file) and
        not ``create``; a link in its place is refused."""
        fd = self._dirs.get(parts)
        if fd is not None:
            return fd
        if not parts:
            raise InputError("the export folder was closed", self.path)
        parent = self._dir(parts[:-1], create)
        if parent is None:
            return None
        name, where = parts[-1], self._root.joinpath(*parts)
        for _ in range(2):
            try:
                found = os.stat(name, dir_fd=parent, follow_symlinks=False)
            except FileNotFoundError:
                if not create:
                    return None
                try:
                    os.mkdir(name, dir_fd=parent)
                except FileExistsError:
                    continue  # made by another worker meanwhile: look again
                except OSError as err:
                    raise WriteError.from_os_error(err, where) from err
                continue
            if stat.S_ISLNK(found.st_mode):
                raise refused(where)
            if not stat.S_ISDIR(found.st_mode):
                if not create:
                    return None  # its files are missing
                reason = os.strerror(errno.ENOTDIR)
                raise WriteError(f"cannot write: {reason}", where, errno.ENOTDIR)
            break
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except (NotADirectoryError, OSError) as err:  # swapped for a link meanwhile
            raise refused(where) from err
        self._dirs[parts] = fd
        return fd

    def _locate(self, rel: str, create: bool = False) -> tuple[int | None, str, Path]:
        parts = relative_parts(rel)
        return self._dir(tuple(parts[:-1]), create), parts[-1], self._root / rel

    # ---- reading -------------------------------------------------------------------------------
    def stat(self, rel: str) -> Entry | None:
        """What ``rel`` is (a link is reported as one, never followed); None when missing."""
        parent, name, _ = self._locate(rel)
        if parent is None:
            return None
        try:
            found = os.stat(name, dir_fd=parent, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return Entry(name, _kind(found.st_mode), found.st_size)

    def exists(self, rel: str) -> bool:
        return self.stat(rel) is not None

    def _open_regular(
        self, rel: str, flags: int, mode: int = 0o666, sample: bool = False
    ) -> int | None:
        """A descriptor of the regular file ``rel`` (None when missing); a link or special
        file is refused."""
        parent, name, path = self._locate(rel, create=bool(flags & os.O_CREAT))
        if parent is None:
            return None
        try:
            fd = os.open(name, flags | _NO_FOLLOW, mode, dir_fd=parent)
        except FileNotFoundError:
            return None
        except OSError as err:
            found = self.stat(rel)
            if found is not None and found.kind != "file":
                raise _not_regular(path, found.kind, sample) from err
            if flags & (os.O_WRONLY | os.O_RDWR):
                raise WriteError.from_os_error(err, path) from err
            raise InputError(f"cannot read: {err.strerror or err}", path) from err
        kind = _kind(os.fstat(fd).st_mode)
        if kind != "file":
            os.close(fd)
            raise _not_regular(path, kind, sample)
        return fd

    def read(self, rel: str, limit: int, *, sample: bool = False) -> bytes:
        """The bytes of the regular file ``rel``, never more than ``limit``.

        Raises
        ------
        InputError
            naming the file: missing, a link or special file (:class:`Refused` unless it is a
            ``sample`` file: then it is damage of that sample), or longer than ``limit``.
        """
        fd = self._open_regular(rel, os.O_RDONLY, sample=sample)
        path = self._root / rel
        if fd is None:
            raise InputError("is missing", path)
        try:
            size = os.fstat(fd).st_size
            if size > limit:
                raise InputError(f"has {size} bytes, more than the {limit} expected", path)
            chunks, left = [], limit + 1
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror or err}", path) from err
        finally:
            os.close(fd)
        data = b"".join(chunks)
        if len(data) > limit:
            raise InputError(f"grew past the {limit} bytes expected while read", path)
        return data

    def read_at(self, rel: str, offset: int, size: int) -> bytes:
        """``size`` bytes of the regular sample file ``rel`` from ``offset`` (a member of a
        shard); InputError naming the file when it is missing, not regular or shorter."""
        fd = self._open_regular(rel, os.O_RDONLY, sample=True)
        path = self._root / rel
        if fd is None:
            raise InputError("is missing", path)
        try:
            data = os.pread(fd, size, offset)
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror or err}", path) from err
        finally:
            os.close(fd)
        if len(data) != size:
            raise InputError(f"ends before byte {offset + size} (a shard cut short?)", path)
        return data

    def open_read(self, rel: str) -> BinaryIO | None:
        """A record file (``manifest.jsonl``) open for reading as a stream; None when missing."""
        fd = self._open_regular(rel, os.O_RDONLY)
        return None if fd is None else os.fdopen(fd, "rb")

    def entries(self, folder: str) -> Iterator[Entry]:
        """The entries of a subfolder (``""``: the folder itself) as a stream, in no order
        (none when it does not exist)."""
        fd = self._dir(tuple(relative_parts(folder)) if folder else (), create=False)
        if fd is None:
            return
        with os.scandir(fd) as found:
            for e in found:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield Entry(e.name, _kind(st.st_mode), st.st_size)

    def list(self, folder: str) -> list[Entry]:
        """The entries of a subfolder, sorted by name (see :meth:`entries`)."""
        return sorted(self.entries(folder), key=lambda e: e.name)

    # ---- writing -------------------------------------------------------------------------------
    def is_folder(self, folder: str) -> bool:
        """Whether the subfolder exists (a link in its place is refused)."""
        return self._dir(tuple(relative_parts(folder)), create=False) is not None

    def makedirs(self, folder: str) -> None:
        """Make a subfolder (and its parents); a link in their place is refused."""
        self._dir(tuple(relative_parts(folder)), create=True)

    def write(self, rel: str, data: bytes | Iterable[bytes], *, durable: bool = True) -> None:
        """Write ``rel`` atomically: a temporary file beside it, renamed into place (a link
        there is replaced, never written through). ``durable`` syncs the file first.

        Raises
        ------
        WriteError
            naming ``rel``, with the ``errno`` of the failure.
        """
        parent, name, path = self._locate(rel, create=True)
        assert parent is not None
        tmp = f".{name[:200]}.{secrets.token_hex(4)}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NO_FOLLOW
            fd = os.open(tmp, flags, 0o666, dir_fd=parent)
        except OSError as err:
            raise WriteError.from_os_error(err, path) from err
        try:
            with os.fdopen(fd, "wb") as fh:
                for chunk in [data] if isinstance(data, bytes) else data:
                    fh.write(chunk)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=parent)
            raise WriteError.from_os_error(err, path) from err

    def append(self, rel: str) -> Appender:
        """The record file ``rel`` open for appending lines (made when missing)."""
        fd = self._open_regular(rel, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        assert fd is not None
        return Appender(os.fdopen(fd, "ab"), self._root / rel)

    def remove(self, rel: str) -> bool:
        """Remove the file (or link: never its target) ``rel``; False when it was not there."""
        parent, name, path = self._locate(rel)
        if parent is None:
            return False
        try:
            os.unlink(name, dir_fd=parent)
        except FileNotFoundError:
            return False
        except OSError as err:
            raise WriteError.from_os_error(err, path) from err
        return True

    def sync(self, folder: str = "") -> None:
        """Make the renames into ``folder`` (default: the folder itself) durable."""
        fd = self._dir(tuple(relative_parts(folder)) if folder else (), create=False)
        if fd is None:
            return
        try:
            os.fsync(fd)
        except OSError as err:
            raise WriteError.from_os_error(err, self._root / folder) from err

    def lock(self, rel: str, holder: str) -> Held:
        """Take the exclusive lock of the folder on the file ``rel`` (made when missing; a
        link there is refused) and write ``holder`` in it.

        Raises
        ------
        LockedError
            when another process holds it (with what that process wrote).
        WriteError
            when the lock file cannot be made or written (a full disk).
        """
        fd = self._open_regular(rel, os.O_RDWR | os.O_CREAT)
        assert fd is not None
        path = self._root / rel
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            try:
                text = os.read(fd, 512).decode("utf-8", "replace").strip()
            except OSError:
                text = ""
            os.close(fd)
            raise LockedError(text) from err
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.encode(), 0)
        except OSError as err:
            os.close(fd)
            raise WriteError.from_os_error(err, path) from err
        return FolderLock(fd, path)

    def lines(self, rel: str) -> Iterator[bytes]:
        """The raw lines of a record file (none when it is missing)."""
        fh = self.open_read(rel)
        if fh is None:
            return
        with fh:
            yield from fh


#: the class of folders in a store (:mod:`studio.core.export.store` registers it when the
#: package is imported: it builds on this module, which therefore does not import it)
_STORES: list[type[ExportFolder]] = []


def register_store(cls: type[ExportFolder]) -> None:
    """Make ``cls`` the folder of URLs in a store (``ExportFolder("s3://...")``)."""
    _STORES[:] = [cls]


def _not_regular(path: Path, kind: Kind, sample: bool) -> InputError:
    """A sample file that is not a regular file is damage of that sample; a record that is
    not is refused (the command stops)."""
    return InputError(f"is {_what(kind)}", path) if sample else refused(path, _what(kind))


def _what(kind: Kind) -> str:
    return {"link": "a symbolic link", "folder": "a folder"}.get(kind, "not a regular file")
