"""Finished row indices kept in the user cache folder (``<cache>/review/<key>.npz``), keyed by
the identity of the export's record files (path, size, modification time): opening the same
export again reads its columns back instead of its manifest."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from studio.core.export.records import FAILURES, MANIFEST
from studio.core.export.review import fields as F
from studio.core.export.review.index import ReviewIndex
from studio.core.io.paths import cache_root, file_key
from studio.core.io.remote import Location
from studio.core.io.writers import write_bytes_atomic

INDEX_VERSION = "review-index-v2"  #: changes whenever the cached columns change meaning


def cache_path(out: Path | str) -> Path | None:
    """Where the index of the export in ``out`` is kept (None: its records cannot be read, or
    it lies in a store, whose objects have no cheap identity here: read again each time)."""
    if not isinstance(out, Path):
        return None
    files = [out / MANIFEST] + ([out / FAILURES] if (out / FAILURES).exists() else [])
    try:
        key = file_key(*files, INDEX_VERSION)
    except OSError:
        return None
    digest = hashlib.blake2b(key.encode(), digest_size=20).hexdigest()
    return cache_root() / "review" / f"{digest}.npz"


def write_cache(path: Path, index: ReviewIndex) -> None:
    """Keep a finished ``index`` at ``path`` (atomically)."""
    arrays: dict[str, np.ndarray] = {
        "index": index.index, "start": index.start, "length": index.length,
        "source": index.source,
    }  # fmt: skip
    meta = {
        "fields": [f.__dict__ for f in index.fields],
        "numbers": list(index.numbers),
        "codes": list(index.codes),
        "labels": index.labels,
        "notes": list(index.notes),
    }
    for i, key in enumerate(index.numbers):
        arrays[f"n{i}"] = index.numbers[key]
    for i, key in enumerate(index.codes):
        arrays[f"c{i}"] = index.codes[key]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    write_bytes_atomic(path, buffer.getvalue(), durable=False)


def read_cache(path: Path, out: Location) -> ReviewIndex | None:
    """The index kept at ``path`` for the export in ``out``, or None."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(data["meta"].tobytes())
        numbers = {k: data[f"n{i}"] for i, k in enumerate(meta["numbers"])}
        codes = {k: data[f"c{i}"] for i, k in enumerate(meta["codes"])}
        return ReviewIndex(
            out,
            data["index"],
            data["start"],
            data["length"],
            data["source"],
            numbers,
            codes,
            {k: list(v) for k, v in meta["labels"].items()},
            tuple(F.Field(**f) for f in meta["fields"]),
            True,
            tuple(meta["notes"]),
        )
