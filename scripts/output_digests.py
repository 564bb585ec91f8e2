"""Digests of what the engine and the exporter write, to compare two versions of the code.

    python scripts/output_digests.py OUT.json          # write this tree's digests
    python scripts/output_digests.py OUT.json --against OLD.json   # and list what changed

Covers the rendering cases of the backend tests (every op, harmonisation, RandOcc) and a small
export of every shipped preset on the bundled samples (images, masks, class maps, params and
the manifest's rows without timings). A refactor must leave every digest unchanged; a change
that moves pixels on purpose says which digests moved and why.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ("demo", "natocc-hands", "natocc-objects", "randocc", "seed-compatible")
VOLATILE = {"elapsed", "time", "seconds", "started", "finished", "worker", "pid"}


def render_digests() -> dict[str, str]:
    sys.path.insert(0, str(ROOT / "tests" / "core"))
    from render_cases import cases, result_digest  # type: ignore[import-not-found]

    from studio.core import RenderCache, render

    out = {}
    for name, face, occ, params in cases():
        result = render(face, occ, params, cache=RenderCache())
        out[f"render/{name}"] = result_digest(result)
    return out


def _strip(row: object) -> object:
    if isinstance(row, dict):
        return {k: _strip(v) for k, v in row.items() if k not in VOLATILE}
    if isinstance(row, list):
        return [_strip(v) for v in row]
    return row


def export_digests(studio: str) -> dict[str, str]:
    samples = ROOT / "studio" / "resources" / "samples"
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for preset in PRESETS:
            folder = Path(tmp) / preset
            cmd = [studio, "export", preset, "--out", str(folder), "--count", "10", "--seed", "5",
                   "--workers", "1", "--progress", "none",
                   "--faces", str(samples / "faces" / "images"),
                   "--occluders", str(samples / "occluders"),
                   "--textures", str(samples / "textures")]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                out[f"export/{preset}"] = f"exit {proc.returncode}: {proc.stderr.strip()[-200:]}"
                continue
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(folder).as_posix()
                if not path.is_file() or rel in {"job.json", "stats.json"}:
                    continue
                if rel.endswith(".jsonl"):
                    rows = [_strip(json.loads(line)) for line in path.read_text().splitlines()]
                    data = json.dumps(rows, sort_keys=True).encode()
                else:
                    data = path.read_bytes()
                out[f"export/{preset}/{rel}"] = hashlib.sha256(data).hexdigest()[:16]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--against", type=Path, help="digests written by another version")
    parser.add_argument("--studio", default=str(Path(sys.executable).parent / "studio"))
    args = parser.parse_args()
    digests = {**render_digests(), **export_digests(args.studio)}
    args.out.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"{len(digests)} digests written to {args.out}")
    if args.against is None:
        return 0
    old = json.loads(args.against.read_text())
    changed = sorted(k for k in old.keys() | digests.keys() if old.get(k) != digests.get(k))
    for key in changed:
        print(f"changed: {key}: {old.get(key)} -> {digests.get(key)}")
    print(f"{len(changed)} of {len(old)} digests changed")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
