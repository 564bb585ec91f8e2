"""WebDataset shards (``studio export --format webdataset``): the members are the bytes of a
folder export, tar headers are fixed, WebDataset reads them back, shards are byte-identical
whatever the workers, a resume remakes damaged or partly recorded shards, and the readers
(verify, sheet, report, training) read them."""

from __future__ import annotations

import importlib.util
import json
import tarfile
from pathlib import Path

import pytest
from cloud_helpers import (
    COUNT,
    SHARD,
    folder_rows,
    rows,
    sample_files,
    shard_files,
    shard_members,
)
from export_helpers import export_cli

from studio.cli import main
from studio.core.export import ExportSamples, is_export
from studio.core.export.shards import ShardSpec, member_key, stem_of


def shard_bytes(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "shards").iterdir())}


@pytest.mark.parametrize("stem", ["0000003_face.01", "0000004_a%2Eb.c", "0000005_x.face1", "n"])
def test_keys_hold_no_dot_and_give_the_stem_back(stem: str) -> None:
    key = member_key(stem)
    assert "." not in key and "/" not in key
    assert stem_of(key) == stem


def test_shard_names() -> None:
    spec = ShardSpec(samples=4)
    assert [spec.name(i) for i in (0, 4, 8, 10)] == [
        "shards/000000.tar",
        "shards/000001.tar",
        "shards/000002.tar",
        "shards/000002_10.tar",
    ]


def test_members_are_the_bytes_of_a_folder_export(folder: Path, shards: Path) -> None:
    assert sorted(p.name for p in (shards / "shards").iterdir()) == [
        "000000.tar",
        "000001.tar",
        "000002.tar",
    ]
    assert not any((shards / d).exists() for d in ("images", "masks", "occlusion_masks"))
    assert shard_files(shards) == sample_files(folder)
    assert folder_rows(rows(shards)) == rows(folder)
    for row in rows(shards):
        assert row["shard"]["name"] == f"shards/{row['index'] // 4:06d}.tar"
        params = json.loads(shard_members(shards)[row["members"]["params"][0]][1])
        assert params == {k: row[k] for k in params} and params["params"] == row["params"]


def test_tar_headers_are_fixed(shards: Path) -> None:
    for info, _ in shard_members(shards).values():
        assert (info.mtime, info.uid, info.gid, info.uname, info.gname) == (0, 0, 0, "", "")
        assert info.mode == 0o644 and info.isreg()


@pytest.mark.skipif(importlib.util.find_spec("webdataset") is None, reason="pip install webdataset")
def test_webdataset_reads_the_shards_back(folder: Path, shards: Path) -> None:
    import webdataset as wds

    urls = [str(p) for p in sorted((shards / "shards").iterdir())]
    samples = list(wds.WebDataset(urls, shardshuffle=False))
    by_stem = {r["stem"]: r for r in rows(folder)}
    assert sorted(stem_of(s["__key__"]) for s in samples) == sorted(by_stem)
    for sample in samples:
        row = by_stem[stem_of(sample["__key__"])]
        assert sample["jpg"] == (folder / row["files"]["image"]).read_bytes()
        assert sample["mask.png"] == (folder / row["files"]["mask"]).read_bytes()
        assert json.loads(sample["json"])["index"] == row["index"]


def test_two_workers_and_resume_give_the_same_shards(
    preset: Path, shards: Path, tmp_path: Path
) -> None:
    two = tmp_path / "two"
    assert export_cli(preset, two, *SHARD, "--workers", "2", count=COUNT) == 0
    assert shard_bytes(two) == shard_bytes(shards)
    assert rows(two) == rows(shards)
    # a crash: a shard cut short, the rows of another one recorded in part, a stray shard
    damaged = two / "shards" / "000000.tar"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    lines = (two / "manifest.jsonl").read_text().splitlines(keepends=True)
    part = [n for n, x in enumerate(lines) if '"shards/000001.tar"' in x][:1]
    (two / "manifest.jsonl").write_text("".join(x for n, x in enumerate(lines) if n not in part))
    (two / "shards" / "000007.tar").write_bytes(b"a stray")
    assert main(["verify", str(two)]) == 1
    assert export_cli(preset, two, *SHARD, "--resume", count=COUNT) == 0
    assert shard_bytes(two) == shard_bytes(shards)
    assert rows(two) == rows(shards)
    assert main(["verify", str(two)]) == 0


def test_a_byte_bound_continues_a_shard_in_another(preset: Path, shards: Path, tmp_path: Path):
    out = tmp_path / "small"
    assert export_cli(preset, out, *SHARD, "--shard-bytes", "20KiB", count=COUNT) == 0
    names = sorted(p.name for p in (out / "shards").iterdir())
    assert len(names) > 3 and all((out / "shards" / n).stat().st_size < 40 * 2**10 for n in names)
    assert {n for n in names if "_" not in n} == {"000000.tar", "000001.tar", "000002.tar"}
    assert shard_files(out) == shard_files(shards)
    for row in rows(out):
        assert row["shard"]["name"].startswith(f"shards/{row['index'] // 4:06d}")
    assert main(["verify", str(out)]) == 0


def test_readers_read_shards(folder: Path, shards: Path, tmp_path: Path) -> None:
    assert is_export(shards) and is_export(folder) and not is_export(tmp_path)
    from_shards, from_folder = ExportSamples(shards), ExportSamples(folder)
    assert from_shards.ids() == from_folder.ids()
    for item in from_shards.ids()[:3]:
        a, b = from_shards.load(item), from_folder.load(item)
        assert (a.image == b.image).all() and (a.mask == b.mask).all()
        assert (from_shards.occlusion(item, a.mask.shape) == 1).any()
    assert from_shards.path_of(from_shards.ids()[0]).startswith(f"{shards}/shards/000000.tar:")
    assert main(["sheet", str(shards), "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0


def test_format_flags(preset: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = export_cli(preset, tmp_path / "o", "--shard-samples", "4", count=2)
    assert code == 2 and "shard sizes go with the webdataset format" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit) as exited:
        export_cli(preset, tmp_path / "o", *SHARD, "--shard-bytes", "lots", count=2)
    assert exited.value.code == 2 and "not a size: 'lots'" in capsys.readouterr().err
    # a resume keeps the format of the job
    assert export_cli(preset, tmp_path / "f", count=2) == 0
    assert export_cli(preset, tmp_path / "f", *SHARD, "--resume", count=2) == 2
    assert "format" in capsys.readouterr().err
    assert json.loads((tmp_path / "f" / "job.json").read_text()).get("format") is None


def test_tar_opens_with_the_standard_library(shards: Path) -> None:
    with tarfile.open(shards / "shards" / "000001.tar") as tar:
        names = tar.getnames()
    assert names[0] == f"{member_key(rows(shards)[4]['stem'])}.jpg"
    assert len(names) == 4 * 4  # image, mask, occlusion mask, parameters
