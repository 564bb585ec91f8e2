"""Fault injection for the export tests: a disk that fails the N-th write of a kind of file.

Sample files, job.json and stats.json go through ``studio.core.io.writers`` (temp file + rename);
manifest and failure rows are appended by ``studio.core.export.records``. ``FaultyDisk``
patches both places (in this process: use one worker) and raises ``OSError(errno)`` on the
N-th write whose target name matches.
"""

from __future__ import annotations

import builtins
import errno as errnos
import os
from pathlib import Path
from typing import Any

import pytest

from studio.core.export import records
from studio.core.io import writers


class _FailingFile:
    """A file object whose writes fail once the disk says so."""

    def __init__(self, fh: Any, disk: FaultyDisk, name: str) -> None:
        self._fh, self._disk, self._name = fh, disk, name

    def write(self, data: Any) -> int:
        self._disk.check(self._name)
        return self._fh.write(data)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._fh, attr)

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


class FaultyDisk:
    """Fail the ``at``-th write (1-based) of files whose name contains ``match``."""

    def __init__(self, match: str, at: int, code: int = errnos.ENOSPC) -> None:
        self.match, self.at, self.code = match, at, code
        self.seen = 0
        self.failed: str | None = None

    def check(self, name: str) -> None:
        if self.match in name and self.failed is None:
            self.seen += 1
            if self.seen >= self.at:
                self.failed = name
                raise OSError(self.code, os.strerror(self.code), name)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> FaultyDisk:
        real_fdopen, real_mkstemp = os.fdopen, writers.tempfile.mkstemp
        names: dict[int, str] = {}

        def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
            fd, tmp = real_mkstemp(*args, **kwargs)
            names[fd] = Path(tmp).name
            return fd, tmp

        def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
            return _FailingFile(real_fdopen(fd, *args, **kwargs), self, names.pop(fd, ""))

        def open_(file: Any, *args: Any, **kwargs: Any) -> Any:
            return _FailingFile(builtins.open(file, *args, **kwargs), self, Path(file).name)

        monkeypatch.setattr(writers.tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(writers.os, "fdopen", fdopen)
        monkeypatch.setattr(records, "open", open_, raising=False)
        return self
