"""Reading YAML that may come from anyone: bounded in size and depth, plain data only.

Safe YAML (no tags such as ``!!python/object``), no aliases (they can make a small file expand
into a huge document), no duplicate keys (the last one would silently win), at most
:data:`MAX_BYTES` of UTF-8 text and :data:`MAX_DEPTH` levels of nesting.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from studio.core.model.errors import InputError

MAX_BYTES = 1_000_000
MAX_DEPTH = 32


class _Refused(Exception):
    def __init__(self, reason: str, mark: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mark = mark


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that refuses aliases, duplicate keys and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            raise _Refused("YAML aliases (*name) are not allowed", self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    f"nested deeper than {MAX_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base class names it
                break
            if duplicate:
                raise _Refused(f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _where(mark: Any) -> str:
    return f" at line {mark.line + 1}" if mark is not None else ""


def parse_yaml(text: str, source: str | Path = "yaml") -> Any:
    """The plain data of YAML ``text``.

    Raises
    ------
    InputError
        naming ``source`` and the line, for invalid YAML, tags, aliases, duplicate keys and
        nesting deeper than :data:`MAX_DEPTH`.
    """
    if len(text) > MAX_BYTES:
        raise InputError(f"over the size limit of {MAX_BYTES:,} bytes", source)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except _Refused as err:
        raise InputError(f"{err.reason}{_where(err.mark)}", source) from err
    except yaml.constructor.ConstructorError as err:
        raise InputError(
            f"YAML tag not allowed{_where(err.problem_mark)} (plain safe YAML only): "
            f"{err.problem}",
            source,
        ) from err
    except yaml.YAMLError as err:
        raise InputError(
            f"not valid YAML{_where(getattr(err, 'problem_mark', None))}", source
        ) from err
    except RecursionError as err:
        raise InputError(f"nested deeper than {MAX_DEPTH} levels", source) from err


def read_text(path: str | Path, what: str = "file") -> str:
    """UTF-8 text of ``path``, at most :data:`MAX_BYTES` (read no further). Only a regular
    file is read: a FIFO, a device (``/dev/zero``) or a socket is refused at once."""
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError as err:
        raise InputError(f"{what} not found", path) from err
    except OSError as err:
        raise InputError(f"cannot read {what}: {err.strerror or err}", path) from err
    with os.fdopen(fd, "rb") as fh:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"is a folder, not a {what}", path)
        if not stat.S_ISREG(mode):
            raise InputError(f"is not a regular file (a device, FIFO or socket): no {what}", path)
        try:
            data = fh.read(MAX_BYTES + 1)
        except OSError as err:
            raise InputError(f"cannot read {what}: {err.strerror or err}", path) from err
    return decode_text(data, path, what)


def decode_text(data: bytes, path: str | Path, what: str = "file") -> str:
    """``data`` as UTF-8 text of at most :data:`MAX_BYTES` (errors name ``path``)."""
    if len(data) > MAX_BYTES:
        raise InputError(f"{what} is over the size limit of {MAX_BYTES:,} bytes", path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"{what} is not UTF-8 text (byte {err.start})", path) from err
