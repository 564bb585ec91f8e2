"""Fault injection for the export tests: a disk that fails the N-th write of a kind of file.

Every file of an export folder is opened by ``studio.core.export.folder.ExportFolder`` with
``os.open`` and written through ``os.fdopen`` (sample files, job.json and stats.json to a temp
file renamed into place, manifest and failure rows appended); other files go through
``studio.core.io.writers`` (``tempfile.mkstemp``). ``FaultyDisk`` patches these (in this
process: use one worker) and raises ``OSError(errno)`` on the N-th write whose file name
(a temp file's holds its target's) matches.
"""

from __future__ import annotations

import errno as errnos
import os
from pathlib import Path
from typing import Any

import pytest

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
        real_fdopen, real_mkstemp, real_open = os.fdopen, writers.tempfile.mkstemp, os.open
        names: dict[int, str] = {}

        def os_open(path: Any, *args: Any, **kwargs: Any) -> int:
            fd = real_open(path, *args, **kwargs)
            if isinstance(path, (str, Path)):
                names[fd] = Path(path).name
            return fd

        def mkstemp(*args: Any, **kwargs: Any) -> tuple[int, str]:
            fd, tmp = real_mkstemp(*args, **kwargs)
            names[fd] = Path(tmp).name
            return fd, tmp

        def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            fh = real_fdopen(fd, mode, *args, **kwargs)
            name = names.pop(fd, "")
            return _FailingFile(fh, self, name) if "w" in mode or "a" in mode else fh

        monkeypatch.setattr(writers.tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(os, "fdopen", fdopen)
        monkeypatch.setattr(os, "open", os_open)
        return self
