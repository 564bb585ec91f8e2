"""Exports where training reads them: object storage (a real S3 endpoint on 127.0.0.1: moto's
server mode) behind ExportFolder, its records and lease, inputs by URL, kill -9 and --resume
in S3, and Ray nodes that share no folder (ray.cluster_utils.Cluster)."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cloud_helpers import (
    COUNT,
    SHARD,
    folder_rows,
    listing,
    read,
    rows,
    sample_files,
    shard_files,
    store,
    upload,
)
from export_helpers import export_cli, start_export, wait_for_progress

from studio.cli import main
from studio.core.export import ExportFolder, ExportSamples, StoreFolder
from studio.core.export.folder import LockedError
from studio.core.export.lease import boot_id
from studio.core.export.records import LOCK, MANIFEST, JobLock, read_rows
from studio.core.model.errors import InputError, WriteError


def shard_bytes(where: Path | str) -> dict[str, bytes]:
    return {rel: read(where, rel) for rel in listing(where) if rel.startswith("shards/")}


def test_a_store_folder_is_an_export_folder(bucket: str) -> None:
    out = ExportFolder(f"{bucket}/job", create=True)
    assert isinstance(out, StoreFolder) and str(out.path) == f"{bucket}/job"
    with pytest.raises(InputError, match="folder not found"):
        ExportFolder(f"{bucket}/nothing")
    out.write("images/a.jpg", b"abc")
    out.write("images/b.jpg", [b"x" * 10, b"y" * 5])  # chunks, one object
    assert out.read("images/a.jpg", 3) == b"abc"
    with pytest.raises(InputError, match="more than the 14 bytes"):
        out.read("images/b.jpg", 14, sample=True)
    assert out.read_at("images/b.jpg", 8, 4) == b"xxyy"
    with pytest.raises(InputError, match="ends before byte 20"):
        out.read_at("images/b.jpg", 10, 10)
    assert [(e.name, e.kind, e.size) for e in out.list("images")] == [
        ("a.jpg", "file", 3),
        ("b.jpg", "file", 15),
    ]
    assert out.is_folder("images") and not out.is_folder("masks")
    assert out.remove("images/a.jpg") and not out.remove("images/a.jpg")
    assert out.stat("images/a.jpg") is None
    for outside in ("../x", "/etc/passwd", "images/../../x"):
        with pytest.raises(InputError, match="outside the export folder"):
            out.write(outside, b"")
    assert ExportFolder(f"{bucket}/job").exists("images/b.jpg")  # opened again: the same


def test_records_are_parts_listed_by_an_index_then_one_object(bucket: str) -> None:
    out = ExportFolder(f"{bucket}/job", create=True)
    fs, root = store(f"{bucket}/job")
    appender = out.append(MANIFEST)
    lines = [json.dumps({"index": i, "pad": "x" * i}) for i in range(40)]
    for line in lines:
        appender.write_line(line)
        appender.sync()
    parts = [k for k in fs.find(f"{root}/.records/{MANIFEST}") if not k.endswith("index.json")]
    assert 1 <= len(parts) <= 8  # merged as they come: a few objects, not 40
    # another process reading the record meanwhile (or after a crash): every line, by offset
    again = ExportFolder(f"{bucket}/job")
    assert [r["index"] for _, _, _, r in read_rows(again, MANIFEST)] == list(range(40))
    offsets = [start for _, start, _, _ in read_rows(again, MANIFEST)]
    with again.open_read(MANIFEST) as fh:  # type: ignore[union-attr]
        fh.seek(offsets[33])
        assert json.loads(fh.readline())["index"] == 33
    # a damaged index is named, never read past
    index = f"{root}/.records/{MANIFEST}/index.json"
    saved = fs.cat_file(index)
    damaged = json.loads(saved)
    damaged["parts"][0]["key"] = "../../elsewhere"
    fs.pipe_file(index, json.dumps(damaged).encode())
    with pytest.raises(InputError, match=r"index\.json: is damaged"):
        list(again.lines(MANIFEST))
    fs.pipe_file(index, saved)
    appender.close()  # written whole as its object, the index emptied
    assert not [k for k in fs.find(f"{root}/.records") if not k.endswith("index.json")]
    assert fs.cat_file(f"{root}/{MANIFEST}").decode().splitlines() == lines
    # an object newer than its index (a rewrite that crashed before its switch): the object
    failures = out.append("failures.jsonl")
    failures.write_line('{"index": 1}')
    failures.sync()
    fs.pipe_file(f"{root}/failures.jsonl", b'{"index": 2}\n')
    assert list(again.lines("failures.jsonl")) == [b'{"index": 2}\n']
    out.write(MANIFEST, b'{"index": 0}\n')  # a rewrite: one object again
    assert list(again.lines(MANIFEST)) == [b'{"index": 0}\n']


def _ended_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _plant_lease(bucket: str, host: str, pid: int, expires: float) -> None:
    fs, root = store(f"{bucket}/job")
    lease = {
        "holder": f"pid {pid} on {host}",
        "host": host,
        "boot": boot_id(),
        "pid": pid,
        "token": "t0",
        "expires": expires,
    }
    fs.pipe_file(f"{root}/{LOCK}", json.dumps(lease).encode())


def test_the_lock_is_a_lease(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    out = ExportFolder(f"{bucket}/job", create=True)
    held = out.lock(LOCK, "run A")
    with pytest.raises(LockedError, match=r"run A; its lease runs \d+ s more"):
        ExportFolder(f"{bucket}/job").lock(LOCK, "run B")
    held.release()
    assert not out.exists(LOCK)
    ExportFolder(f"{bucket}/job", create=True).lock(LOCK, "run B").release()
    # a run of this machine that was killed: its lease is taken over at once
    import socket

    _plant_lease(bucket, socket.gethostname(), _ended_pid(), time.time() + 600)
    lock = JobLock(ExportFolder(f"{bucket}/job"))
    lock.acquire()
    assert lock.took_over is not None and "on this machine has ended" in lock.took_over
    lock.release()
    # a run of another machine: taken over once its lease has expired, not before
    _plant_lease(bucket, "elsewhere", 1, time.time() + 600)
    with pytest.raises(InputError, match="another export is running in this folder"):
        JobLock(ExportFolder(f"{bucket}/job")).acquire()
    _plant_lease(bucket, "elsewhere", 1, time.time() - 1)
    lock = JobLock(ExportFolder(f"{bucket}/job"))
    lock.acquire()
    assert lock.took_over is not None and "expired" in lock.took_over
    lock.release()
    # a holder whose lease another run took over stops at its next record sync
    monkeypatch.setenv("STUDIO_LEASE_SECONDS", "1")
    out = ExportFolder(f"{bucket}/job", create=True)
    out.lock(LOCK, "run C")
    appender = out.append(MANIFEST)
    _plant_lease(bucket, "elsewhere", 1, time.time() + 600)
    time.sleep(1.0)  # the holder's next renewal finds the lease changed
    appender.write_line("{}")
    with pytest.raises(WriteError, match="lost the lock of the export: another run took"):
        appender.sync()


@pytest.fixture
def inputs_url(bucket: str, preset: Path) -> str:
    return upload(preset.parent, f"{bucket}/inputs")


def test_s3_exports_hold_the_bytes_of_local_ones(
    bucket: str, inputs_url: str, preset: Path, folder: Path, shards: Path, tmp_path: Path
) -> None:
    data = ["--data", inputs_url]
    assert export_cli(preset, f"{bucket}/folder", *data, count=COUNT) == 0
    assert export_cli(preset, f"{bucket}/shards", *SHARD, *data, count=COUNT) == 0
    assert sample_files(f"{bucket}/folder") == sample_files(folder)
    assert rows(f"{bucket}/folder") == rows(folder)
    assert shard_bytes(f"{bucket}/shards") == shard_bytes(shards)
    assert shard_files(f"{bucket}/shards") == sample_files(folder)
    assert folder_rows(rows(f"{bucket}/shards")) == rows(folder)
    job = json.loads(read(f"{bucket}/shards", "job.json"))
    assert job["sources"]["faces"]["path"] == f"{inputs_url}/faces"
    assert "inputs/" not in json.dumps(job).replace(inputs_url, "")  # no local mirror named
    for out in (f"{bucket}/folder", f"{bucket}/shards"):
        assert main(["verify", out]) == 0
        assert not [k for k in listing(out) if k.startswith(".records/") and "index" not in k]
    assert main(["sheet", f"{bucket}/shards"]) == 0
    assert read(f"{bucket}/shards", "sheet.png")[:4] == b"\x89PNG"
    # damage in the store: verify names it, a resume remakes it
    fs, root = store(f"{bucket}/shards")
    fs.pipe_file(f"{root}/shards/000001.tar", b"not a tar")
    assert main(["verify", f"{bucket}/shards"]) == 1
    assert export_cli(preset, f"{bucket}/shards", *SHARD, *data, "--resume", count=COUNT) == 0
    assert shard_bytes(f"{bucket}/shards") == shard_bytes(shards)


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="the report extra")
def test_report_and_training_read_a_store(
    bucket: str, inputs_url: str, preset: Path, shards: Path, tmp_path: Path
) -> None:
    url = upload(shards, f"{bucket}/copy")
    assert main(["report", url]) == 0
    assert read(url, "report.html").startswith(b"<!") and read(url, "report.png")[:4] == b"\x89PNG"
    samples, local = ExportSamples(url), ExportSamples(shards)
    assert samples.ids() == local.ids()
    item = samples.ids()[0]
    assert (samples.load(item).image == local.load(item).image).all()
    from studio.integrations.torch import OcclusionDataset

    dataset = OcclusionDataset(url, preset, f"{inputs_url}/occluders")  # faces, occluders by URL
    assert len(dataset) == COUNT
    first = dataset[0]
    assert first["id"] == samples.ids()[0] and first["occlusion_mask"].any()
    run = tmp_path / "run"
    args = ["--out", str(run), "--steps", "2", "--size", "32", "--batch", "2", "--progress", "none"]
    assert main(["train", url, *args]) == 0
    assert json.loads((run / "config.json").read_text())["config"]["data"] == [url]


def test_the_review_reads_and_decides_in_a_store(
    bucket: str, shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Review's index, thumbnails, editor setup and decisions work on an export by URL,
    as they do on the same export in a folder; `studio review URL` takes and lists them."""
    from studio.core.export.records import is_export
    from studio.core.export.review.builder import open_index
    from studio.core.export.review.decisions import read_decisions
    from studio.core.export.review.editor import sample_setup
    from studio.core.export.review.tiles import ExportTiles

    url = upload(shards, f"{bucket}/review")
    assert is_export(url) and is_export(shards)
    assert not is_export(f"{bucket}/nothing") and not is_export(shards / "shards")
    here, there = open_index(shards), open_index(url)
    assert str(there.out) == url and there.complete
    assert np.array_equal(here.index, there.index)
    assert [there.row(p) for p in range(len(there))] == [here.row(p) for p in range(len(here))]
    for view in ("image", "occlusion"):
        local, remote = ExportTiles(here, view), ExportTiles(there, view)
        item = str(int(there.index[0]))
        assert np.array_equal(remote.make_thumbnail(item, 64), local.make_thumbnail(item, 64))
        made_of = remote.thumbnail_files(item)
        assert made_of is not None and json.dumps(there.row(0)["checks"], sort_keys=True) in made_of
    setup, again = sample_setup(url, there.row(0)), sample_setup(shards, here.row(0))
    assert setup.params == again.params and setup.face_id == again.face_id
    sample = int(there.index[1])
    assert main(["review", url, "--reject", str(sample)]) == 0
    capsys.readouterr()
    assert main(["review", url, "--list", "rejected"]) == 0
    assert capsys.readouterr().out.split("\t")[:2] == [str(sample), "rejected"]
    assert read_decisions(url).by_index == {sample: "reject"}
    assert read_decisions(shards).by_index == {}  # the store's decisions, not the folder's
    assert main(["review", f"{bucket}/nothing"]) == 2
    assert "folder not found" in capsys.readouterr().err


@pytest.mark.slow
def test_kill_9_then_resume_in_s3_ends_identical(
    bucket: str, inputs_url: str, preset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # enough samples that the kill lands mid-run: progress comes every 0.25 s, and 40 small
    # samples could all be made before the event the test waits for
    count, shard = 160, ["--format", "webdataset", "--shard-samples", "4"]
    ref = tmp_path / "ref"
    assert export_cli(preset, ref, *shard, count=count) == 0
    out = f"{bucket}/job"
    args = [str(preset), "--out", out, "--data", inputs_url, *shard, "--count", str(count)]
    env_cache = tmp_path / "machine-a"  # the killed run's machine (its own input mirror)
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(env_cache))
    proc = start_export([*args, "--workers", "1"])
    seen = wait_for_progress(proc, 8)[-1]["done"]
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL and seen < count, seen
    assert LOCK in listing(out)  # the killed run's lease is left
    assert main(["verify", out, "--sizes-only"]) == 1  # not finished
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "machine-b"))  # another mirror
    code = main(["export", *args, "--workers", "2", "--resume", "--progress", "none"])
    assert code == 0
    assert shard_bytes(out) == shard_bytes(ref)
    assert rows(out) == rows(ref)
    assert main(["verify", out]) == 0
    assert LOCK not in listing(out)
    assert (env_cache / "inputs").is_dir() and (tmp_path / "machine-b" / "inputs").is_dir()


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the cluster extra")
def test_ray_nodes_without_a_shared_folder(
    bucket: str, inputs_url: str, preset: Path, shards: Path, tmp_path: Path
) -> None:
    """The driver (a head node with no CPU) plans and records; the one worker node, with its
    own working folder, reads the inputs and writes the shards to the store itself."""
    import ray
    from ray.cluster_utils import Cluster

    head, node = tmp_path / "head", tmp_path / "node"
    cluster = Cluster(
        initialize_head=True,
        head_node_args={"num_cpus": 0, "env_vars": {"STUDIO_CACHE_DIR": str(head)}},
    )
    cluster.add_node(num_cpus=1, env_vars={"STUDIO_CACHE_DIR": str(node)})
    out = f"{bucket}/ray"
    try:
        code = main(
            [
                "export",
                str(preset),
                "--out",
                out,
                "--data",
                inputs_url,
                *SHARD,
                "--count",
                str(COUNT),
                "--engine",
                "ray",
                "--ray-address",
                cluster.address,
                "--progress",
                "none",
            ]
        )
    finally:
        ray.shutdown()
        cluster.shutdown()
    assert code == 0
    assert shard_bytes(out) == shard_bytes(shards)
    assert rows(out) == rows(shards)
    assert any((node / "inputs").rglob("*.jpg"))  # the worker node fetched the inputs itself
    assert not list(tmp_path.rglob("*.tar"))  # and wrote its shards to the store only
