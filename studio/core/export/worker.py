"""Rendering one planned sample and writing its files (runs in worker processes).

Sample ``i`` draws everything from its own generator, seeded by ``SeedSequence(job seed,
spawn_key=(i,))``: which occluder or texture it uses, then its parameters. Each worker keeps
bounded caches of decoded inputs; they change speed, never bytes.

A worker writes what it makes itself, to the job's output folder or store (a Ray worker on
another machine too): each sample's files, or (``--format webdataset``) the shards of the
batches it is given, one batch per shard range (:mod:`.shards`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from studio.core.engine.cache import RenderCache
from studio.core.engine.draw import draw_sample, sample_rng
from studio.core.engine.pool import ItemPool
from studio.core.engine.render import render
from studio.core.export.folder import ExportFolder
from studio.core.export.inputs import open_job_sources
from studio.core.export.lifeline import die_with_parent
from studio.core.export.plan import JobPlan
from studio.core.export.rows import file_hash
from studio.core.export.shards import ShardWriter, member_key, member_name
from studio.core.io import remote
from studio.core.io.writers import dumps_json, encode_image
from studio.core.model.errors import (
    InputError,
    PlacementError,
    RenderError,
    StudioError,
    WriteError,
)
from studio.core.model.inputs import Face

DEFAULT_CACHE_MB = 256  #: per-worker bound of the decoded-input cache


@dataclass
class Outcome:
    """What one sample gave: a manifest row, or failure rows (path + reason)."""

    index: int
    row: dict[str, Any] | None = None
    failures: list[dict[str, Any]] = field(default_factory=list)
    pid: int = 0  #: worker process (for memory reports; not recorded in the manifest)
    rss_mb: float = 0.0  #: its resident memory after this sample


def _rss_mb() -> float:
    """Resident memory of this process in MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class SampleMaker:
    """Per-worker state: sources reopened from the plan's refs, and bounded caches."""

    def __init__(self, plan: JobPlan, cache_mb: int = DEFAULT_CACHE_MB) -> None:
        self.plan = plan
        if plan.storage_options:
            remote.set_storage_options(plan.storage_options)
        self.spec = plan.preset.engine()
        opened = open_job_sources(plan.preset.mode, plan.sources)
        self.faces = opened.faces
        budget = cache_mb * 2**20
        self.pool = (
            None
            if opened.pool is None
            else ItemPool(opened.pool, ids=plan.pool_ids, cache_bytes=budget // 4)
        )
        self.face_cache = RenderCache(budget // 4, errors=(InputError,))
        self.render_cache = RenderCache(budget // 8)  # per-sample colour work rarely repeats
        self._folder: ExportFolder | None = None

    @property
    def folder(self) -> ExportFolder:
        """The output folder, opened at the first write (a worker may start before it exists)."""
        if self._folder is None:
            self._folder = ExportFolder(self.plan.out)
        return self._folder

    def _face(self, face_id: str) -> Face:
        return self.face_cache.get(("face", face_id), lambda: self.faces.load(face_id))

    def make(self, index: int) -> Outcome:
        """Render sample ``index`` and write its files; the manifest row is returned."""
        outcome = self._make(index, self._write_files)
        outcome.pid, outcome.rss_mb = os.getpid(), _rss_mb()
        return outcome

    def make_batch(self, indices: list[int]) -> list[Outcome]:
        """Make a batch of samples: each written as it is made, or (shards) the batch's
        samples written as shards once they are all made."""
        if self.plan.shards is None:
            return [self.make(i) for i in indices]
        return self._make_shards(indices)

    def _make_shards(self, indices: list[int]) -> list[Outcome]:
        """The samples of ``indices`` (one shard range) in shards: a shard is written whole
        when the next sample would pass its byte bound, and at the end of the batch."""
        spec = self.plan.shards
        assert spec is not None
        outcomes: list[Outcome] = []
        shard: ShardWriter | None = None
        rows: list[dict[str, Any]] = []

        def finish() -> None:
            if shard is not None and not rows:
                shard.discard()  # every sample of it failed: no shard
            elif shard is not None:
                size, digest = shard.finish(self.folder)
                for row in rows:
                    row["shard"] = {
                        "name": shard.name, "size": size, "hash": digest, "samples": len(rows)
                    }  # fmt: skip

        def add(index: int, files: dict[str, str], payload: dict[str, bytes]) -> dict[str, Any]:
            nonlocal shard, rows
            size = sum(len(p) for p in payload.values())
            if shard is None or (rows and shard.size + size > spec.bytes):
                finish()
                shard, rows = ShardWriter(spec.name(index if shard else indices[0])), []
            key = member_key(self.plan.stem_for(index))
            ext = self.plan.preset.output.image_format
            members = {}
            for name, data in payload.items():
                member = member_name(key, name, ext)
                members[name] = [member, shard.add(member, data)]
            return {"members": members}

        try:
            for i in indices:
                outcome = self._make(i, add)
                outcome.pid, outcome.rss_mb = os.getpid(), _rss_mb()
                if outcome.row is not None:
                    rows.append(outcome.row)
                outcomes.append(outcome)
            finish()
        except BaseException:
            if shard is not None:
                shard.discard()
            raise
        return outcomes

    def _make(self, index: int, store: Any) -> Outcome:
        plan = self.plan
        face_id = plan.face_for(index)
        stem = plan.stem_for(index)
        outcome = Outcome(index)
        try:
            face = self._face(face_id)
        except InputError as err:
            outcome.failures.append(_failure(index, err, self.faces.path_of(face_id), stem))
            return outcome
        rng = sample_rng(plan.seed, index)
        try:
            drawn = draw_sample(self.spec, rng, face, self.pool, self.render_cache)
        except (PlacementError, InputError) as err:
            outcome.failures.extend(self._unusable(getattr(err, "unusable", [])))
            outcome.failures.append(_failure(index, err, self.faces.path_of(face_id), stem))
            return outcome
        outcome.failures.extend(self._unusable(drawn.unusable))
        try:
            result = render(
                face, drawn.item, drawn.params, backend=plan.backend, cache=self.render_cache
            )
        except RenderError as err:
            outcome.failures.append(_failure(index, err, self.faces.path_of(face_id), stem))
            return outcome
        if plan.preset.output.labels and result.labels is None:
            no_labels = InputError("multi-class labels are on but the face has no label map")
            outcome.failures.append(_failure(index, no_labels, self.faces.path_of(face_id), stem))
            return outcome
        try:
            outcome.row = self._row(index, stem, drawn.params, result, drawn.attempts, store)
        except WriteError as err:
            if err.fatal:  # disk full, no permission: the job stops (and stays resumable)
                raise
            outcome.failures.append(_failure(index, err, err.path, stem))
        return outcome

    def _unusable(self, errors: list[InputError]) -> list[dict[str, Any]]:
        """Failure rows (index None) for occluders/textures that could not be loaded."""
        return [_failure(None, err, err.path) for err in errors]

    def _write_files(
        self, index: int, files: dict[str, str], payload: dict[str, bytes]
    ) -> dict[str, Any]:
        """Write a sample's files into the sample folders (all or none)."""
        written = []
        try:
            for key, rel in files.items():
                self.folder.write(rel, payload[key], durable=False)
                written.append(rel)
        except WriteError:
            for rel in written:  # no half sample is left behind
                self.folder.remove(rel)
            raise
        return {}

    def _row(
        self, index: int, stem: str, params: Any, result: Any, attempts: int, store: Any
    ) -> dict[str, Any]:
        """Encode a sample's files, ``store`` them (files, or members of a shard: what it
        returns joins the row) and return its manifest row."""
        plan = self.plan
        output = plan.preset.output
        folders = plan.folders
        ext = output.image_format
        files = {
            "image": f"{folders['image']}/{stem}.{ext}",
            "mask": f"{folders['mask']}/{stem}.png",
        }
        payload = {
            "image": encode_image(result.image, ext, output.jpeg_quality),
            "mask": encode_image(result.face_mask, "png"),
        }
        if output.occlusion_mask:
            files["occlusion_mask"] = f"{folders['occlusion_mask']}/{stem}.png"
            payload["occlusion_mask"] = encode_image(result.occlusion_mask, "png")
        if output.labels:
            files["labels"] = f"{folders['labels']}/{stem}.png"
            payload["labels"] = encode_image(result.labels, "png")
        h, w = result.image.shape[:2]
        row = {
            "index": index,
            "stem": stem,
            "seed": plan.seed,
            "face_id": params.face_id,
            "occluder_id": params.occluder_id,
            "texture_id": params.texture_id,
            "attempts": attempts,
            "coverage": result.stats["coverage"],
            "occluder_bbox": result.stats["occluder_bbox"],
            "size": [w, h],
            "params": params.to_dict(),
        }
        if plan.shards is not None:  # the sample's parameters travel with it
            payload["params"] = dumps_json(row, sort_keys=True).encode("utf-8")
        extra = store(index, files, payload)
        checks = {k: [len(payload[k]), file_hash(payload[k])] for k in payload}
        return {**row, "files": files, "checks": checks, **extra}


def _failure(
    index: int | None, err: StudioError, path: Any, stem: str | None = None
) -> dict[str, Any]:
    """A failures.jsonl row: ``index`` and ``stem`` for a failed sample, None for an input
    that was skipped (the sample then used another one)."""
    where = remote.public_text(str(err.path or path))  # an input by URL: named by its URL
    row: dict[str, Any] = {"index": index, "path": where, "reason": err.reason}
    if stem is not None:
        row["stem"] = stem
    return row


# --- process-level state for pool and Ray workers -------------------------------------------

_MAKERS: dict[str, SampleMaker] = {}
_STOP_SIGNALS = ("SIGINT", "SIGTERM")


def quiet_worker(single_thread: bool = True, death_signal: bool = False) -> None:
    """A worker process dies with its driver (:func:`~.lifeline.die_with_parent`; the Linux
    parent-death signal only when ``death_signal``), ignores Ctrl-C and SIGTERM (sent to the
    whole process group by terminals, ``timeout``, systemd, docker stop and Slurm: the driver
    stops the job and waits for the samples in flight), and renders on one thread (the
    workers share the cores)."""
    import signal

    import cv2

    die_with_parent(death_signal)
    stops = [getattr(signal, name) for name in _STOP_SIGNALS]
    for sig in stops:
        signal.signal(sig, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # started with them blocked: see engines.py
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
    if single_thread:
        cv2.setNumThreads(1)


def serve(conn: Connection, cache_mb: int = DEFAULT_CACHE_MB) -> None:
    """The body of a local engine's worker process, talking to the driver over ``conn``.

    Messages in: ``("plan", (JobPlan, environment))`` (answered ``("ready", pid)`` once the
    sources are open; the driver's environment variables replace the worker's, which a fork
    server's children inherit from the server instead), ``("make", [indices])`` (answered
    ``("done", [Outcome])``), None to stop. An
    exception while making samples is sent back as ``("error", exception)`` for the driver
    to raise. The worker also ends when the driver is gone (its end of ``conn`` closed).
    """
    quiet_worker()
    maker: SampleMaker | None = None
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        kind, payload = message
        try:
            if kind == "plan":
                plan, environment = payload
                os.environ.clear()
                os.environ.update(environment)
                maker = SampleMaker(plan, cache_mb)
                reply: tuple[str, Any] = ("ready", os.getpid())
            else:
                assert maker is not None, "a batch before the plan"
                reply = ("done", maker.make_batch(payload))
        except Exception as err:  # sent to the driver, which raises it
            reply = ("error", err)
        try:
            conn.send(reply)
        except (EOFError, OSError):
            return
        except Exception:  # an exception that does not pickle: its text instead
            raised = reply[1]
            conn.send(("error", StudioError(f"{type(raised).__name__} in a worker: {raised}")))


def make_batch_cached(plan: JobPlan, indices: list[int], cache_mb: int) -> list[Outcome]:
    """Ray task body: reuse one SampleMaker per plan in a long-lived worker process."""
    key = plan.token
    maker = _MAKERS.get(key)
    if maker is None:
        import cv2

        cv2.setNumThreads(1)
        _MAKERS.clear()
        maker = _MAKERS[key] = SampleMaker(plan, cache_mb)
    return maker.make_batch(indices)
