"""Large exports for the review benchmark, made quickly.

A real export of :data:`BASE_SAMPLES` samples (procedural faces and hands, the shipped
``natocc-hands`` preset with occlusion masks, 256 px) is made once; an export of any size is
then its rows repeated with new sample indices and file names, every sample's files hard links
to the base sample's (the same bytes under every name, as ``studio verify`` would accept).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from studio.core.export import InProcessEngine, make_plan, run_export
from studio.core.export.records import MANIFEST
from studio.core.io.paths import shipped_presets
from studio.core.io.presets import load_preset
from studio.core.sources import refs_from_preset
from studio.core.sources.synthetic import write_face_folder, write_occluder_folder

BASE_SAMPLES = 32
SIDE = 256


def base_export(root: Path) -> Path:
    """``root/base``: a real export of :data:`BASE_SAMPLES` samples (made once per root)."""
    out = root / "base"
    if (out / MANIFEST).is_file():
        return out
    write_face_folder(root / "faces", 8, SIDE)
    write_occluder_folder(root / "occluders", 4, SIDE // 2)
    preset = load_preset(shipped_presets()["natocc-hands"])
    output = preset.output.model_copy(update={"occlusion_mask": True})
    preset = preset.model_copy(update={"output": output})
    overrides = {"faces": root / "faces", "occluders": root / "occluders"}
    refs = refs_from_preset(preset.sources, root, overrides)
    run_export(make_plan(preset, refs, out, count=BASE_SAMPLES, seed=1), InProcessEngine())
    return out


def grown_export(root: Path, count: int) -> Path:
    """``root/export<count>``: ``count`` samples, the base export's rows and files repeated
    (new indices, stems and file names; the files are hard links)."""
    base = base_export(root)
    out = root / f"export{count}"
    rows = [json.loads(line) for line in (base / MANIFEST).read_text().splitlines() if line]
    rows.sort(key=lambda r: r["index"])
    folders = {rel.split("/")[0] for r in rows for rel in r["files"].values()}
    for folder in folders:
        (out / folder).mkdir(parents=True, exist_ok=True)
    job = json.loads((base / "job.json").read_text())
    (out / "job.json").write_text(json.dumps({**job, "count": count}, indent=2, sort_keys=True))
    with (out / MANIFEST).open("w", encoding="utf-8") as fh:
        for i in range(count):
            row = dict(rows[i % len(rows)])
            stem = f"{i:07d}_{row['stem'].split('_', 1)[1]}"
            files = {}
            for key, rel in row["files"].items():
                folder, name = rel.split("/")
                files[key] = f"{folder}/{stem}{Path(name).suffix}"
                os.link(base / rel, out / files[key])
            row.update(index=i, stem=stem, files=files)
            fh.write(json.dumps(row, sort_keys=True) + "\n")
    return out
