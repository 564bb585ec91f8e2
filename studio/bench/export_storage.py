"""Where an export writes: WebDataset shards against a folder of files, and an S3 store (a
local endpoint) against a folder, in img/s of whole jobs (records, lock and start-up
included), measured side by side in one run (rounds interleaved, the best of each kept).

The S3 endpoint is moto's server mode on 127.0.0.1 (the ``dev`` extra), a stand-in written in
Python that shares this machine's cores: its ratio says what the store path costs here (the
requests, the records' parts and index, the lease), not what a real S3 would give. Part of
``studio bench --suite export`` (on that suite's inputs).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from studio.bench.common import BenchRow
from studio.core.export import LocalEngine, make_plan, run_export
from studio.core.export.shards import ShardSpec
from studio.core.model.preset import Preset
from studio.core.sources import refs_from_preset

SUITE = "export"
WORKERS = 2


def storage_preset() -> Preset:
    """NatOcc with the default colour transfer (no SOT): a lighter render than the suite's,
    so that what the storage costs shows."""
    return Preset.model_validate(
        {
            "name": "bench-storage",
            "sources": {"faces": "faces", "face_masks": "face_masks", "occluders": "occluders"},
        }
    )


@contextlib.contextmanager
def local_s3() -> Iterator[str | None]:
    """moto's S3 server on 127.0.0.1 (the ``dev`` extra), and the environment pointing every
    client at it (``AWS_ENDPOINT_URL``, test credentials: child processes inherit them): its
    endpoint, or None without moto and s3fs. The tests' endpoint too."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("s3fs") is None:
        yield None
        return
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield endpoint
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


def timed_export(root: Path, out: str, count: int, shards: ShardSpec | None) -> float:
    """img/s of a whole export job (2 workers) into ``out``."""
    preset = storage_preset()
    refs = refs_from_preset(preset.sources, root)
    plan = make_plan(preset, refs, out, count=count, shards=shards)
    summary = run_export(plan, LocalEngine(WORKERS))
    return summary.written / max(summary.seconds, 1e-9)


def run(root: Path, quick: bool = True, rounds: int = 3) -> list[BenchRow]:
    """Folder, shards and S3 exports of one job on the inputs in ``root``, side by side."""
    count = 24 if quick else 96
    shards = ShardSpec(samples=count // 6)  # 6 shards: both workers busy to the end
    with tempfile.TemporaryDirectory(prefix="studio-bench-storage-") as tmp, local_s3() as end:
        s3 = None
        if end is not None:
            import boto3

            boto3.client("s3", endpoint_url=end).create_bucket(Bucket="bench")
            s3 = "s3://bench"
        configs: dict[str, Callable[[int], float]] = {
            "folder": lambda r: timed_export(root, f"{tmp}/folder-{r}", count, None),
            "shards": lambda r: timed_export(root, f"{tmp}/shards-{r}", count, shards),
        }
        if s3 is not None:
            configs["s3"] = lambda r: timed_export(root, f"{s3}/folder-{r}", count, None)
            configs["s3 shards"] = lambda r: timed_export(root, f"{s3}/shards-{r}", count, shards)
        rates: dict[str, list[float]] = {name: [] for name in configs}
        for r in range(rounds):
            for name, measure in configs.items():
                rates[name].append(measure(r))
    best = {name: max(values) for name, values in rates.items()}

    def spread(name: str) -> str:
        return "rounds " + ", ".join(f"{x:.1f}" for x in rates[name])

    where = f"{count} samples, {WORKERS} workers, natocc (no SOT) on the suite's faces"
    rows = [
        BenchRow(SUITE, "export to a folder (whole job)", best["folder"], "img/s",
                 note=f"{where}; {spread('folder')}"),
        BenchRow(SUITE, f"export as shards of {shards.samples}", best["shards"], "img/s",
                 note=spread("shards")),
        BenchRow(SUITE, "shards / folder", best["shards"] / best["folder"], "ratio", ">= 0.9",
                 best["shards"] / best["folder"] >= 0.9),
    ]  # fmt: skip
    if s3 is None:
        rows.append(
            BenchRow(SUITE, "s3 / folder", 0.0, "ratio", note="skipped: needs moto and s3fs")
        )
        return rows
    note = "moto (a Python S3 stand-in) on 127.0.0.1, sharing the cores"
    rows += [
        BenchRow(SUITE, "export to s3, a file an object", best["s3"], "img/s",
                 note=f"{note}; {spread('s3')}"),
        BenchRow(SUITE, "s3 / folder", best["s3"] / best["folder"], "ratio", note=note),
        BenchRow(SUITE, "export to s3 as shards", best["s3 shards"], "img/s",
                 note=spread("s3 shards")),
        BenchRow(SUITE, "s3 shards / folder", best["s3 shards"] / best["folder"], "ratio",
                 note=note),
    ]  # fmt: skip
    return rows
