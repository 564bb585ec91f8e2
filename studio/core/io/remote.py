"""Inputs and outputs by URL (``s3://bucket/prefix``, ``gs://...``) through fsspec.

The ``cloud`` extra installs fsspec with s3fs and gcsfs; other fsspec protocols work when
their package is installed. Credentials and endpoints come from the usual environment
(``AWS_ENDPOINT_URL``, ``AWS_PROFILE``, ``GOOGLE_APPLICATION_CREDENTIALS``...) or from
:func:`set_storage_options` (``--storage-option k=v`` on the command line), passed to the
file system as keyword arguments. ``file://`` URLs are plain local paths.

- :class:`StoreURL`: a URL as the path of an export folder (joins with ``/``, prints as
  itself); :func:`location` turns what a user gave into one (or a local :class:`Path`).
- :func:`filesystem`: the fsspec file system and path of a URL (listing caches off: an
  export's objects change under it).
- :func:`mirror`: a local copy of an input folder (or file) by URL, in the user cache
  (``STUDIO_CACHE_DIR``), made once per machine and input state: the input layer reads
  local folders, and every process (a Ray worker on another machine too) fetches its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from studio.core.io.paths import cache_root
from studio.core.model.errors import BackendError, InputError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: what the file systems of these protocols get unless the options say otherwise
_DEFAULTS: dict[str, dict[str, Any]] = {
    "s3": {"use_listings_cache": False},
    "gs": {"use_listings_cache": False},
    "gcs": {"use_listings_cache": False},
}
_OPTIONS: dict[str, Any] = {}
#: local mirror folder -> the URL it copies (this process's mirrors)
_MIRRORS: dict[str, str] = {}
INSTALL_HINT = "pip install 'occlusion-studio[cloud]'"


def is_url(value: object) -> bool:
    """Whether ``value`` is a URL (``s3://...``, ``file:///...``), not a local path."""
    return isinstance(value, str) and _SCHEME.match(value) is not None


def in_store(value: object) -> bool:
    """Whether ``value`` is the URL of a store (any URL but ``file://``)."""
    return is_url(value) and protocol(str(value)) != "file"


def protocol(url: str) -> str:
    found = _SCHEME.match(url)
    return found.group(1).lower() if found else "file"


def local_file_path(url: str) -> str:
    """The local path of a ``file://`` URL."""
    return url[len("file://") :] or "/"


class StoreURL(str):
    """The URL of an export folder in a store (``s3://bucket/prefix``, no trailing slash):
    joins with ``/`` like a :class:`Path` and prints as itself."""

    def __new__(cls, url: str) -> StoreURL:
        head = _SCHEME.match(url)
        assert head is not None, url
        rest = url[head.end() :].rstrip("/")
        return super().__new__(cls, f"{head.group(1).lower()}://{rest}")

    def __truediv__(self, rel: object) -> StoreURL:
        return StoreURL(f"{self}/{str(rel).strip('/')}")

    @property
    def name(self) -> str:
        return self.rsplit("/", 1)[-1]

    @property
    def parent(self) -> StoreURL:
        head, _, tail = self.rpartition("/")
        return self if head.endswith(":/") or not tail else StoreURL(head)

    def exists(self) -> bool:
        fs, path = filesystem(self)
        return bool(fs.exists(path))

    def is_dir(self) -> bool:
        fs, path = filesystem(self)
        return bool(fs.isdir(path))

    def resolve(self) -> StoreURL:
        return self

    def as_posix(self) -> str:
        return str(self)


#: where an export folder lies: a local path, or a URL in a store
Location = Path | StoreURL


def location(where: str | Path) -> Location:
    """Where an export folder lies: a :class:`StoreURL`, or an absolute local path (a
    ``file://`` URL is one)."""
    if in_store(where):
        return StoreURL(str(where))
    if is_url(where):
        where = local_file_path(str(where))
    return Path(where).expanduser().resolve()


def set_storage_options(options: Mapping[str, Any]) -> None:
    """Keyword arguments of every file system opened from now on in this process (an
    endpoint, a profile, ``anon``...); the environment's settings apply as well."""
    _OPTIONS.clear()
    _OPTIONS.update(options)


def storage_options() -> dict[str, Any]:
    return dict(_OPTIONS)


def parse_options(items: list[str]) -> dict[str, Any]:
    """``KEY=VALUE`` options as keyword arguments (a value is read as JSON when it is JSON:
    ``anon=true``, ``client_kwargs={"region_name": "eu-west-1"}``; else it is text).

    Raises
    ------
    InputError
        for an item without ``=`` or with an empty key.
    """
    options: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"a storage option is KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = json.loads(value)
        except ValueError:
            options[key.strip()] = value
    return options


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec file system of ``url`` and the path in it.

    Raises
    ------
    BackendError
        when fsspec or the protocol's package is not installed (the line says how to get it),
        or the protocol is unknown.
    """
    try:
        import fsspec
    except ImportError as err:
        raise BackendError(f"{url}: URLs need fsspec: {INSTALL_HINT}") from err
    name = protocol(url)
    options = {**_DEFAULTS.get(name, {}), **_OPTIONS}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError as err:
        raise BackendError(f"{name}:// needs {err.name or 'its package'}: {INSTALL_HINT}") from err
    except (ValueError, TypeError) as err:
        raise BackendError(f"cannot open {name}:// storage: {err}", url) from err
    return fs, str(path).rstrip("/")


# ---- input mirrors -----------------------------------------------------------------------


def object_tag(info: Mapping[str, Any]) -> str:
    """What changes when an object is replaced (its ETag, hash or time), besides its size."""
    for key in ("ETag", "etag", "md5Hash", "crc32c", "generation", "mtime", "LastModified"):
        if info.get(key) is not None:
            return str(info[key])
    return ""


def _listing(fs: Any, root: str) -> dict[str, Mapping[str, Any]]:
    """The files under ``root`` by relative path (``""``: ``root`` is itself a file)."""
    try:
        info = fs.info(root)
    except FileNotFoundError:
        return {}
    if info.get("type") != "directory":
        return {"": info}
    found = fs.find(root, detail=True)
    return {p[len(root) :].lstrip("/"): i for p, i in sorted(found.items()) if p != root}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock between the processes of this machine (one download at a time)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def mirror(url: str) -> Path:
    """A local copy of the input folder (or file) at ``url``, in the user cache.

    The copy is keyed by the URL and the listing (names, sizes, ETags): a changed input gets
    a new copy; an unchanged one is fetched once per machine (processes wait for the one
    that fetches). The copy keeps the last name of the URL (``.../faces`` -> ``faces``), so
    layouts are recognised as they would be locally.

    Raises
    ------
    InputError
        when nothing lies at ``url``.
    """
    if protocol(url) == "file":
        return Path(local_file_path(url))
    fs, root = filesystem(url)
    listing = _listing(fs, root)
    if not listing:
        raise InputError("not found (no object under this URL)", url)
    h = hashlib.blake2b(digest_size=10)
    for rel, info in listing.items():
        h.update(f"{rel}\0{info.get('size')}\0{object_tag(info)}\n".encode())
    base = cache_root() / "inputs" / hashlib.blake2b(url.encode(), digest_size=8).hexdigest()
    name = root.rsplit("/", 1)[-1] or "input"
    done = base / h.hexdigest()
    with _locked(base / ".lock"):
        if not done.is_dir():
            part = base / f".part-{secrets.token_hex(4)}"
            try:
                _fetch(fs, root, listing, part / name)
                part.rename(done)
            finally:
                shutil.rmtree(part, ignore_errors=True)
    _MIRRORS[str(done / name)] = url.rstrip("/")
    return done / name


def _fetch(fs: Any, root: str, listing: Mapping[str, Any], target: Path) -> None:
    if set(listing) == {""}:
        target.parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(root, str(target))
        return
    remote, local = [], []
    for rel in listing:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        remote.append(f"{root}/{rel}")
        local.append(str(dest))
    fs.get(remote, local)


def public_text(text: str) -> str:
    """``text`` with the local mirror folders of this process named by their URLs (what a
    job records of its inputs is the same on every machine)."""
    for local, url in _MIRRORS.items():
        if local in text:
            text = text.replace(local, url)
    return text
