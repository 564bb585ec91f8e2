"""Export safety, one test per point of issue 24, tried as an attacker and a careful operator.

The export folder may be shared and ``studio`` may run as root: links planted in it never make
a command read, write, truncate or delete a file outside it (the outside files are hashed
before and after); rows naming other files are damage, never opened. A killed driver leaves
no process behind; odd records are one line; ``--count N`` means N samples.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import export_helpers as helpers
import numpy as np
import pytest
import replicas
from export_helpers import export_cli, failure_rows, make_inputs, manifest_rows, output_files

from studio.cli import main
from studio.core.export.spec import ExportSpec
from studio.core.model.errors import InputError
from studio.core.sources.synthetic import synthetic_face

COUNT = 8
LOCK = ".studio-export.lock"


def _export(preset: Path, out: Path, *args: str, count: int = COUNT) -> int:
    return export_cli(preset, out, *args, count=count)


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A preset and an uninterrupted export of COUNT samples (the reference)."""
    return helpers.reference_job(tmp_path_factory, faces=4, count=COUNT)


def _samples(out: Path) -> dict[str, bytes]:
    """The sample files of an export (its report's pictures left out)."""
    return {k: v for k, v in output_files(out).items() if not k.startswith("report")}


def _copy(ref: Path, dest: Path) -> Path:
    shutil.copytree(ref, dest, symlinks=True)
    return dest


def _snapshot(root: Path) -> dict[str, str]:
    """Every entry under ``root`` (links as links): what the attack must leave unchanged."""
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            found[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[rel] = "folder"
    return found


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """Files outside the export that planted links point at (a photo, a secret, masks)."""
    root = tmp_path / "outside"
    root.mkdir()
    (root / "secret.txt").write_text("do not touch\n")
    cv2.imwrite(str(root / "photo.jpg"), synthetic_face(64, seed=9).image)
    (root / "thumbs").mkdir()
    shutil.copy(root / "photo.jpg", root / "thumbs" / "0000099.jpg")
    return root


def _one_line(err: str) -> str:
    """The one error line of a command (the lines naming the sources come before it)."""
    lines = [line for line in err.strip().splitlines() if line.startswith("studio:")]
    assert len(lines) == 1 and lines[0].startswith("studio: error: "), err
    assert "Traceback" not in err and "internal error" not in err
    return lines[0]


@contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Fail (not hang) when the block takes longer: a FIFO opened for reading blocks."""

    def expired(*_: object) -> None:
        raise AssertionError(f"still running after {seconds} s (a blocking read?)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# ---- 1. the lock file --------------------------------------------------------------------------


def test_1_a_linked_lock_file_is_refused_and_never_written_through(
    job, tmp_path: Path, outside: Path, capsys
) -> None:
    preset, ref = job
    out = _copy(ref, tmp_path / "out")
    (out / LOCK).unlink(missing_ok=True)
    (out / LOCK).symlink_to(outside / "secret.txt")
    before = _snapshot(outside)
    assert _export(preset, out, "--resume") == 2
    line = _one_line(capsys.readouterr().err)
    assert f"{out / LOCK}: is a symbolic link; refused" in line
    assert _export(preset, out) == 2  # a refused run (the folder holds a job) too
    assert "already holds an export job" in capsys.readouterr().err
    assert _snapshot(outside) == before
    (out / LOCK).unlink()
    (out / LOCK).symlink_to(outside / "made-by-the-lock")  # dangling: never created
    assert _export(preset, out, "--resume") == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert not (outside / "made-by-the-lock").exists() and _snapshot(outside) == before


# ---- 2. linked folders and records -------------------------------------------------------------


PLANTS = {  # what is replaced by a link, and which commands must refuse it
    "masks": ("thumbs", ("resume", "verify", "sheet", "report")),
    "failures.jsonl": ("secret.txt", ("resume", "verify", "report")),
    "manifest.jsonl": ("secret.txt", ("resume", "verify", "sheet", "report")),
    "report/thumbs": ("thumbs", ("report",)),
}


def _command(name: str, preset: Path, out: Path) -> int:
    if name == "resume":
        return _export(preset, out, "--resume")
    if name == "report":
        pytest.importorskip("matplotlib")
        return main(["report", str(out), "--samples", "1"])
    return main([name, str(out)])


@pytest.mark.parametrize("planted", sorted(PLANTS))
def test_2_linked_folders_and_records_are_refused_and_outside_files_stay(
    job, tmp_path: Path, outside: Path, capsys, planted: str
) -> None:
    preset, ref = job
    out = _copy(ref, tmp_path / "out")
    target, refusing = PLANTS[planted]
    path = out / planted
    if path.is_dir():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(outside / target)
    before = _snapshot(outside)
    for name in ("resume", "verify", "sheet", "report"):
        capsys.readouterr()
        code = _command(name, preset, out)
        err = capsys.readouterr().err
        if name in refusing:
            assert code == 2, (name, err)
            assert f"{path}: is a symbolic link; refused" in _one_line(err)
        else:
            assert "internal error" not in err and "Traceback" not in err
        assert _snapshot(outside) == before, name  # nothing written, appended or deleted


def test_2_stale_thumbnails_and_sample_files_that_are_links_never_reach_outside(
    job, tmp_path: Path, outside: Path, capsys
) -> None:
    pytest.importorskip("matplotlib")
    preset, ref = job
    out = _copy(ref, tmp_path / "out")
    (out / "report" / "thumbs").mkdir(parents=True)
    (out / "report" / "thumbs" / "0000099.jpg").symlink_to(outside / "photo.jpg")
    image = out / manifest_rows(out)[1]["files"]["image"]
    image.unlink()
    image.symlink_to(outside / "photo.jpg")
    before = _snapshot(outside)
    assert main(["report", str(out), "--samples", "1"]) == 0  # the stale link is removed
    assert not (out / "report" / "thumbs" / "0000099.jpg").exists()
    assert main(["verify", str(out)]) == 1
    assert f"{image.relative_to(out)} is a symbolic link" in capsys.readouterr().out
    assert _export(preset, out, "--resume") == 0  # remade: a file in place of the link
    assert not image.is_symlink() and _samples(out) == _samples(ref)
    assert _snapshot(outside) == before


# ---- 3. rows naming files elsewhere --------------------------------------------------------


def _hostile_rows(out: Path, outside: Path) -> list[str]:
    """Point four rows at ``../x``, ``/etc/passwd``, ``/dev/zero`` and a FIFO; return the
    paths that must never be opened."""
    (out.parent / "x").write_text("beside the export\n")
    os.mkfifo(out / "images" / "fifo.jpg")
    os.mkfifo(outside / "fifo")
    rows = manifest_rows(out)
    rows[1]["files"]["image"] = "../x"
    rows[2]["files"]["mask"] = "/etc/passwd"
    rows[3]["files"]["image"] = "/dev/zero"
    rows[4]["files"]["image"] = "images/fifo.jpg"
    rows[5]["files"]["occlusion_mask"] = f"images/../../{outside.name}/fifo"
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return ["../x", "/etc/passwd", "/dev/zero", "fifo.jpg", "fifo", "x"]


def test_3_rows_naming_other_files_are_damage_never_read(
    job, tmp_path: Path, outside: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset, ref = job
    out = _copy(ref, tmp_path / "out")
    never = _hostile_rows(out, outside)
    opened: list[str] = []
    real_open = os.open

    def watched_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", watched_open)
    with _deadline(60):
        assert main(["verify", str(out), "--json"]) == 1
        found = json.loads(capsys.readouterr().out)
        assert main(["sheet", str(out)]) == 2
        assert "lies outside the export's sample folders" in _one_line(capsys.readouterr().err)
        assert _export(preset, out, "--resume") == 0
    problems = "\n".join(found["problems"])
    for bad in ("'../x' lies outside", "'/etc/passwd' lies outside", "'/dev/zero' lies outside"):
        assert bad in problems
    assert "images/fifo.jpg is not a regular file" in problems
    assert "fifo' lies outside" in problems
    strays = [p for p in found["problems"] if "no manifest row names" in p]
    assert strays and all(p.startswith(("images/", "masks/", "occlusion_masks/")) for p in strays)
    assert not [p for p in opened if Path(p).name in never or p in never]
    assert "resume: 5 recorded samples damaged" in capsys.readouterr().err
    (out / "images" / "fifo.jpg").unlink()  # a stray the resume leaves to verify
    assert main(["verify", str(out)]) == 0
    assert output_files(out) == output_files(ref)


# ---- 4. a killed driver leaves nothing ---------------------------------------------------------


def _alive_in_group(group: int) -> list[int]:
    """Processes of a process group that still run (zombies excluded: they hold nothing)."""
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] != "Z":
            alive.append(int(pid))
    return alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_4_a_killed_driver_leaves_an_empty_process_group(job, tmp_path: Path) -> None:
    preset, _ = job
    args = [str(preset), "--out", str(tmp_path / "out"), "--count", "2000", "--workers", "2"]
    proc = helpers.start_export(args)
    helpers.wait_for_progress(proc, 3)
    assert len(_alive_in_group(proc.pid)) >= 3  # the driver, its workers, the tracker
    os.kill(proc.pid, signal.SIGKILL)  # what the out-of-memory killer does
    proc.wait()
    deadline = time.monotonic() + 5
    while _alive_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _alive_in_group(proc.pid) == []


def test_4_the_watchdog_ends_a_worker_whose_parent_died(tmp_path: Path) -> None:
    code = (
        "import os, time\n"
        "ready, told = os.pipe()\n"
        "if os.fork() == 0:\n"
        "    from studio.core.export.lifeline import die_with_parent\n"
        "    die_with_parent(death_signal=False)\n"  # the portable guard alone
        "    os.write(told, str(os.getpid()).encode() + b'\\n')\n"
        "    time.sleep(60)\n"
        "    print('outlived its parent', flush=True)\n"
        "else:\n"
        "    print(os.read(ready, 32).decode().strip(), flush=True)\n"
        "    os._exit(0)\n"  # the parent dies; the child is handed to init
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    proc.wait(timeout=30)
    deadline = time.monotonic() + 5
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child)
    assert "outlived" not in proc.stdout.read()


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---- 5. Ray stops on SIGTERM -------------------------------------------------------------------


def _tagged(tag: str) -> list[str]:
    """Command lines of the live processes whose environment carries ``tag``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if tag.encode() in Path(f"/proc/{pid}/environ").read_bytes():
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " "))
        except OSError:
            continue
    return found


@pytest.mark.parametrize("to", ["group", "driver"])
def test_5_ray_stops_on_sigterm_with_130_and_leaves_no_agent(
    job, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, to: str
) -> None:
    pytest.importorskip("ray")
    preset, _ = job
    tag = f"STUDIO_SAFETY_TAG={uuid.uuid4().hex}"
    monkeypatch.setenv(*tag.split("="))
    out = tmp_path / "out"
    args = [str(preset), "--out", str(out), "--count", "5000", "--engine", "ray", "--workers", "2"]
    proc = helpers.start_export(args)
    helpers.wait_for_progress(proc, 10)
    if to == "group":
        os.killpg(proc.pid, signal.SIGTERM)  # timeout, systemd, docker stop, Slurm
    else:
        os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "continue with --resume" in err and "SIGTERM received" not in err
    deadline = time.monotonic() + 15
    while _tagged(tag) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _tagged(tag) == []


# ---- 6. a damaged manifest line anywhere -------------------------------------------------------


def test_6_a_damaged_line_anywhere_is_named_dropped_and_remade(job, tmp_path: Path, capsys):
    preset, ref = job
    out = _copy(ref, tmp_path / "out")
    lines = (out / "manifest.jsonl").read_text().splitlines(keepends=True)
    lines[2] = '{"index": 2, "files": {"ima\n'  # not the last line
    lines[4] = "[4]\n"
    (out / "manifest.jsonl").write_text("".join(lines))
    assert main(["verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "manifest.jsonl: line 3 is not valid JSON" in text
    assert "manifest.jsonl: line 5 is not a JSON object" in text
    assert _export(preset, out, "--resume") == 0
    assert "2 damaged manifest lines (first: line 3 is not valid JSON)" in capsys.readouterr().err
    assert main(["verify", str(out)]) == 0
    assert output_files(out) == output_files(ref)
    assert manifest_rows(out) == manifest_rows(ref)


# ---- 7. odd folders and rows: one line -------------------------------------------------------

ODD_ROWS = {  # the change to a row, what the line says, the commands that read it
    "coverage": ({"coverage": 1e308}, "coverage 1e+308 is outside [0, 1]", ("report",)),
    "huge_index": ({"index": 10**40}, "outside [0, 2**62)", ("sheet", "verify", "report")),
    "negative_index": (
        {"index": -5, "files": {}},
        "has sample index -5",
        ("sheet", "verify", "report"),
    ),
}


def test_7_verify_without_a_sample_folder_lists_the_missing_files(job, tmp_path: Path, capsys):
    _, ref = job
    out = _copy(ref, tmp_path / "out")
    shutil.rmtree(out / "masks")
    assert main(["verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert text.count("masks/") == COUNT and "is missing" in text


@pytest.mark.parametrize("odd", sorted(ODD_ROWS))
def test_7_odd_rows_are_one_line_for_report_and_sheet(job, tmp_path: Path, capsys, odd: str):
    _, ref = job
    out = _copy(ref, tmp_path / "out")
    change, message, commands = ODD_ROWS[odd]
    rows = manifest_rows(out)
    rows[3].update(change)
    (out / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    for command in commands:
        if command == "report":
            pytest.importorskip("matplotlib")
        args = [command, str(out)]
        code = main(args)
        captured = capsys.readouterr()
        if args[0] == "verify":
            assert code == 1 and message in captured.out
        else:
            assert code == 2 and message in _one_line(captured.err), args


def test_7_a_string_in_stats_is_one_line(job, tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib")
    _, ref = job
    out = _copy(ref, tmp_path / "out")
    stats = json.loads((out / "stats.json").read_text())
    stats["last_session"]["images_per_s"] = "fast"
    (out / "stats.json").write_text(json.dumps(stats))
    assert main(["report", str(out)]) == 2
    assert "last_session.images_per_s is 'fast', not a number" in _one_line(capsys.readouterr().err)


# ---- 8. refused runs, full disks, closed streams, FIFO presets ---------------------------------


def test_8_a_refused_run_leaves_no_lock_and_a_full_disk_at_the_lock_is_one_line(
    job, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset, _ = job
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("the user's\n")
    assert _export(preset, busy) == 2
    assert "output folder is not empty" in _one_line(capsys.readouterr().err)
    assert sorted(p.name for p in busy.iterdir()) == ["keep.txt"]

    def full(*_: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as patch:
        patch.setattr(os, "pwrite", full)
        assert _export(preset, tmp_path / "full") == 2
    line = _one_line(capsys.readouterr().err)
    assert f"{tmp_path / 'full' / LOCK}: cannot write: No space left on device" in line


def test_8_closed_streams_end_the_run_cleanly(job, tmp_path: Path) -> None:
    preset, _ = job
    out = tmp_path / "out"
    args = [str(preset), "--out", str(out), "--count", "2000", "--workers", "2"]
    proc = helpers.start_export(args)  # | head -1
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "internal error" not in err
    assert main(["verify", str(out), "--sizes-only"]) == 1
    report = subprocess.run(
        [sys.executable, "-m", "studio.cli", "verify", str(out), "--json"],
        capture_output=True,
        text=True,
    )
    problems = json.loads(report.stdout)["problems"]
    assert problems == []  # only samples not made yet: no file that no row names
    closed = tmp_path / "closed"
    cmd = f"exec {sys.executable} -m studio.cli export {preset} --out {closed} --count 4 2>&-"
    shell = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert shell.returncode == 2 and "Traceback" not in shell.stdout
    assert not closed.exists()  # refused before any work


def test_8_a_fifo_as_the_preset_is_refused_at_once(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "preset.yaml"
    os.mkfifo(fifo)
    with _deadline(30):
        assert main(["export", str(fifo), "--out", str(tmp_path / "out")]) == 2
        assert main(["validate", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert err.count("is not a regular file") == 2 and not (tmp_path / "out").exists()


# ---- 9. training on damaged exports ------------------------------------------------------------


def test_9_train_skips_an_unreadable_sample_with_one_warning(job, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    _, ref = job
    out = _copy(ref, tmp_path / "out")
    damaged = out / manifest_rows(out)[2]["files"]["image"]
    damaged.write_bytes(damaged.read_bytes()[:200])  # truncated
    lines = (out / "manifest.jsonl").read_text().splitlines(keepends=True)
    lines[5] = '{"index": 5, "fi\n'  # a damaged line: left out with a warning
    (out / "manifest.jsonl").write_text("".join(lines))
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "studio.cli", "train", str(out), "--out", str(run)]
    tiny = ["--size", "32", "--width", "4", "--batch", "4", "--steps", "4", "--threads", "1"]
    proc = subprocess.run(
        [*cmd, *tiny, "--loader-workers", "2", "--progress", "none"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert "1 rows left out (first: line 6 is not valid JSON" in warnings[0], proc.stderr
    skipped = warnings[1:]
    assert skipped and all(str(damaged) in w and "skipped" in w for w in skipped), proc.stderr
    assert "Traceback" not in proc.stderr and (run / "model.pt").exists()


# ---- 10. masks beside their images -------------------------------------------------------------


def _beside_folder(root: Path, n: int = 3) -> Path:
    """``X.jpg`` + ``X.mask.png`` (and one ``Y_mask.png``) in one folder."""
    folder = root / "faces_with_masks"
    folder.mkdir(parents=True)
    for i in range(n):
        face = synthetic_face(128, seed=30 + i)
        cv2.imwrite(str(folder / f"f{i}.jpg"), face.image[:, :, ::-1])
        suffix = "_mask" if i == n - 1 else ".mask"
        cv2.imwrite(str(folder / f"f{i}{suffix}.png"), face.mask.astype(np.uint8) * 255)
    return folder


def test_10_masks_beside_their_images_and_photos_as_masks(job, tmp_path: Path, capsys) -> None:
    preset, _ = job
    faces = _beside_folder(tmp_path)
    for extra in ([], ["--face-masks", str(faces)]):
        out = tmp_path / f"out{len(extra)}"
        assert _export(preset, out, "--faces", str(faces), *extra, count=6) == 0
        assert not failure_rows(out)
        assert {r["face_id"] for r in manifest_rows(out)} == {"f0.jpg", "f1.jpg", "f2.jpg"}
    assert main(["inspect", str(faces), "--check"]) == 0
    assert "3 usable items, 0 problems" in capsys.readouterr().out
    photos = replicas.phone_photos(tmp_path)
    assert (
        _export(preset, tmp_path / "same", "--faces", str(photos), "--face-masks", str(photos)) == 2
    )
    assert "the mask folder is the image folder" in _one_line(capsys.readouterr().err)
    fake = tmp_path / "fake_masks"
    shutil.copytree(photos, fake)  # "masks" that are photos of the same names
    assert (
        _export(preset, tmp_path / "fake", "--faces", str(photos), "--face-masks", str(fake)) == 2
    )
    assert "the masks look like photos" in _one_line(capsys.readouterr().err)


# ---- 11. counts, names, flags ------------------------------------------------------------------


def test_11_count_means_samples_replaced_deterministically_and_jobs_grow(tmp_path: Path) -> None:
    root = make_inputs(tmp_path / "in", faces=3)
    (root / "faces" / "face.01.jpg").write_bytes(b"\xff\xd8\xff corrupt")
    preset = helpers.write_preset(root / "p.yaml")
    one, two = tmp_path / "one", tmp_path / "two"
    assert _export(preset, one, count=10) == 0
    base = ["export", str(preset), "--out", str(two), "--count", "10", "--progress", "none"]
    assert main([*base, "--workers", "2"]) == 0
    rows = manifest_rows(one)
    assert len(rows) == 10 and output_files(one) == output_files(two)
    failed = sorted(f["index"] for f in failure_rows(one) if f["index"] is not None)
    assert failed and max(r["index"] for r in rows) == 9 + len(failed)
    assert _export(preset, one, "--resume", count=16) == 0  # a finished job grows
    assert _export(preset, tmp_path / "fresh", count=16) == 0
    assert output_files(one) == output_files(tmp_path / "fresh")
    assert manifest_rows(one) == manifest_rows(tmp_path / "fresh")
    assert _export(preset, one, "--resume", count=12) == 2  # never shrinks


def test_11_unusable_files_are_named_and_names_sanitised(tmp_path: Path, capsys) -> None:
    root = make_inputs(tmp_path / "in", faces=2)
    shutil.copy(root / "faces" / "face.00.jpg", root / "faces" / "anim.gif")
    (root / "faces" / "folder.jpg").mkdir()
    for folder, ext in (("faces", "jpg"), ("face_masks", "png")):
        (root / folder / f"face.01.{ext}").rename(root / folder / f"esc\x1b[31m\n.{ext}")
    preset = helpers.write_preset(root / "p.yaml")
    out = tmp_path / "out"
    assert _export(preset, out, count=4) == 0
    named = {Path(f["path"]).name: f["reason"] for f in failure_rows(out)}
    assert "GIF images are not read" in named["anim.gif"]
    assert named["folder.jpg"] == "a folder, not an image"
    names = [p.name for p in out.rglob("*")]
    assert any("esc_[31m_" in n for n in names)
    assert not [n for n in names if any(ord(c) < 32 or ord(c) == 127 for c in n)]
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["export", str(preset), "--out", str(tmp_path / "w"), "--workers", "0"])
    assert "--workers: must be 1 or more" in capsys.readouterr().err
    with pytest.raises(InputError, match="workers must be 1 or more"):
        ExportSpec(str(preset), str(tmp_path / "w"), workers=0).make_engine()


def test_11_resume_names_the_preset_inspect_and_shipped_names(
    job, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset, ref = job
    other = helpers.write_preset(preset.parent / "other.yaml", "rotation:\n  angle: 10\n")
    assert _export(other, _copy(ref, tmp_path / "out"), "--resume", count=COUNT + 4) == 2
    assert "cannot resume a different job: preset." in capsys.readouterr().err
    celeba = replicas.celebamask_hq(tmp_path)
    assert main(["inspect", str(celeba)]) == 0
    assert "occluder_class: 255 in exported label maps" in capsys.readouterr().out
    data = replicas.reference_dataset(tmp_path)
    assert main(["inspect", str(data)]) == 0
    assert "object_image_sr" in capsys.readouterr().out
    monkeypatch.chdir(tmp_path)  # outside a checkout
    assert main(["validate", "presets/natocc-hands.yaml"]) == 2
    assert "the shipped preset of this name is 'natocc-hands'" in capsys.readouterr().err
    assert main(["validate", "natocc-hands"]) == 0
    labelled = tmp_path / "labelled"
    assert main(["export", "demo", "--faces", str(celeba), "--out", str(labelled), "--count",
                 "2", "--labels", "--workers", "1", "--progress", "none"]) == 0  # fmt: skip
    assert len(list((labelled / "labels").iterdir())) == 2
