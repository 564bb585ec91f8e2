"""Stand-in for `studio compare ... --progress jsonl` (the real one trains models: minutes).

Prints the event sequence of the real command for a baseline and each preset (plan, stage,
start, progress, epoch with val_miou, result with a gallery file, final done), one event every
--delay seconds. SIGTERM stops it like the real command: exit 130, one line on stderr.
A preset named "bad.yaml" fails like a bad preset: exit 2 with one line on stderr.
"""

import argparse
import json
import signal
import sys
import time
from pathlib import Path

p = argparse.ArgumentParser()
p.add_argument("command")
p.add_argument("presets", nargs="+")
for name in ("--faces", "--test", "--out", "--count", "--minutes", "--size", "--seed"):
    p.add_argument(name)
p.add_argument("--progress")
p.add_argument("--resume", action="store_true")
p.add_argument("--delay", type=float, default=0.0)
args = p.parse_args()
if any(Path(x).name == "bad.yaml" for x in args.presets):
    print(f"studio: error: {args.presets[0]}: mode: unknown value", file=sys.stderr)
    sys.exit(2)
stop = False


def on_term(signum, frame):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)


def emit(**event):
    if stop:
        print(f"stopped; continue with --resume ({out})", file=sys.stderr)
        sys.exit(130)
    print(json.dumps(event), flush=True)
    time.sleep(args.delay)


models = ["baseline", *(Path(x).stem for x in args.presets)]
emit(event="plan", models=models, out=str(out))
for k, model in enumerate(models):
    emit(event="stage", model=model, stage="train")
    emit(event="start", model=model, stage="train", total=6, done=0, unit="step")
    for epoch in range(3):
        steps = 2 * (epoch + 1)
        emit(
            event="progress",
            model=model,
            stage="train",
            done=steps,
            total=6,
            loss=0.5,
            rate=10.0,
            eta=1.0,
        )
        emit(
            event="epoch",
            model=model,
            stage="train",
            epoch=epoch,
            steps=steps,
            loss=0.5,
            val_miou=0.5 + 0.1 * epoch + 0.01 * k,
        )
    gallery = out / "eval" / model / "gallery.png"
    gallery.parent.mkdir(parents=True, exist_ok=True)
    gallery.write_bytes(b"png")
    emit(
        event="result",
        model=model,
        steps=6,
        face_iou=0.6 + 0.01 * k,
        miou=0.7 + 0.02 * k,
        boundary_f=0.4,
        gallery=str(gallery),
    )
emit(
    event="done",
    out=str(out),
    compare=str(out / "compare.json"),
    table=[],
    seconds=1.0,
    cancelled=False,
)
