"""What an output folder holds, for the Export tab's sentence about it (no Qt here).

An export writes into a new or empty folder, or resumes the unfinished job of a folder; a folder
holding a finished job (``job.json`` and ``stats.json``) or other files is not written to. The
tab proposes the next numbered folder beside it (``export-2``, ``export-3``...) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from studio.core.export.records import JOB, LOCK, STATS

Kind = Literal["new", "empty", "finished", "unfinished", "other", "file"]


@dataclass(frozen=True)
class FolderState:
    kind: Kind
    path: Path

    @property
    def writable(self) -> bool:
        """Whether a new export may start there."""
        return self.kind in ("new", "empty")


def folder_state(out: str | Path) -> FolderState:
    """What ``out`` holds (reads two names and lists the folder once)."""
    path = Path(out).expanduser()
    if not path.exists():
        return FolderState("new", path)
    if not path.is_dir():
        return FolderState("file", path)
    if (path / JOB).is_file():
        return FolderState("finished" if (path / STATS).is_file() else "unfinished", path)
    try:
        names = [p.name for p in path.iterdir() if p.name != LOCK]
    except OSError:
        return FolderState("other", path)
    return FolderState("other" if names else "empty", path)


def next_numbered(out: str | Path) -> Path:
    """The first ``NAME-N`` folder beside ``out`` (N from 2, or after out's own number) that
    is new or empty."""
    path = Path(out).expanduser()
    match = re.fullmatch(r"(.*?)-(\d+)", path.name)
    stem, n = (match.group(1), int(match.group(2)) + 1) if match else (path.name, 2)
    while True:
        candidate = path.with_name(f"{stem}-{n}")
        if folder_state(candidate).writable:
            return candidate
        n += 1
