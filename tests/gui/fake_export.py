"""Stand-in for `studio export ... --progress jsonl` (the real exporter is built elsewhere).

Writes one small file per image, one every --delay seconds, and prints the JSON-lines events.
SIGTERM stops it between images and prints a cancelled "done"; --resume skips finished files.
Like the real one it writes job.json first and stats.json when every image is written, and
when it cannot run (the preset file is missing, the folder holds a job or other files) it exits
2 with one line on stderr and an error event (with the hint) on stdout.
"""

import argparse
import json
import signal
import sys
import time
from pathlib import Path

import cv2
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("command")
p.add_argument("preset")
p.add_argument("--out", required=True)
p.add_argument("--count", type=int, required=True)
p.add_argument("--seed", type=int, default=0)
p.add_argument("--workers", type=int, default=1)
p.add_argument("--resume", action="store_true")
p.add_argument("--progress")
p.add_argument("--report", action="store_true")  # the stand-in writes no report
p.add_argument("--delay", type=float, default=0.02)
args = p.parse_args()


def fail(path, reason, hint=None, words=""):
    print(f"studio: error: {path}: {reason}{f' ({words})' if words else ''}", file=sys.stderr)
    print(json.dumps({"event": "error", "message": f"{path}: {reason}", "hint": hint}))
    sys.exit(2)


if not Path(args.preset).is_file():
    fail(args.preset, "preset file not found")
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
if (out / "job.json").exists() and not args.resume:
    fail(out, "already holds an export job", "resume", "pass --resume to continue it, or ...")
if any(out.iterdir()) and not args.resume:
    fail(out, "output folder is not empty")
if not args.resume:
    (out / "job.json").write_text(json.dumps({"count": args.count, "seed": args.seed}))


def emit(**event):
    print(json.dumps(event), flush=True)


emit(event="start", total=args.count, out=str(out))
t0 = time.perf_counter()
written = 0
(out / "images").mkdir(exist_ok=True)
(out / "masks").mkdir(exist_ok=True)
for i in range(args.count):
    if stop:
        break
    stem = f"{i:07d}_face"
    target = out / "images" / f"{stem}.png"
    if not target.exists():
        time.sleep(args.delay)
        image = np.full((24, 32, 3), (i * 37) % 256, np.uint8)
        cv2.imwrite(str(target), image)
        cv2.imwrite(str(out / "masks" / f"{stem}.png"), image[:, :, 0])
        files = {"image": f"images/{stem}.png", "mask": f"masks/{stem}.png"}
        with open(out / "manifest.jsonl", "a") as fh:
            fh.write(json.dumps({"index": i, "stem": stem, "files": files}) + "\n")
        written += 1
    done = i + 1
    rate = done / max(1e-6, time.perf_counter() - t0)
    emit(
        event="progress",
        done=done,
        total=args.count,
        failed=0,
        rate=rate,
        eta=(args.count - done) / rate,
    )
if not stop:
    (out / "stats.json").write_text(json.dumps({"planned": args.count}))
emit(event="done", written=written, failed=0, out=str(out), cancelled=stop)
