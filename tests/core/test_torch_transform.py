"""studio.integrations.torch on CPU: shapes, dtypes, masks, determinism across workers."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest

from studio.core.model.errors import InputError
from studio.core.model.inputs import Face
from studio.core.model.preset import Preset
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder, synthetic_texture

torch = pytest.importorskip("torch", reason="torch is not installed (pip install -e .[torch])")

from studio.integrations.torch import OcclusionDataset, RandomOcclusion  # noqa: E402

SIZE = 112


def test_base_install_never_imports_torch():
    code = (
        "import sys, studio.core, studio.core.engine.render, studio.cli, studio.integrations;"
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.fixture(scope="module")
def occluders():
    return [synthetic_occluder(80, s) for s in range(3)]


@pytest.fixture(scope="module")
def face():
    return synthetic_face(SIZE, 0)


def _chw(face: Face) -> torch.Tensor:
    return torch.from_numpy(face.image).permute(2, 0, 1).contiguous()


def test_uint8_image_without_mask(face, occluders):
    transform = RandomOcclusion(Preset(), occluders)
    image = _chw(face)
    out = transform(image, index=0)
    assert set(out) == {"image", "mask", "occlusion_mask", "occluded"}
    assert out["image"].shape == (3, SIZE, SIZE) and out["image"].dtype == torch.uint8
    assert out["occlusion_mask"].shape == (SIZE, SIZE)
    assert out["occlusion_mask"].dtype == torch.bool and bool(out["occluded"])
    occ = out["occlusion_mask"]
    assert 0 < occ.sum() < SIZE * SIZE
    assert torch.equal(out["mask"], ~occ)  # whole image is the face region
    changed = (out["image"] != image).any(dim=0)
    assert changed[occ].float().mean() > 0.5
    far = ~torch.from_numpy(_grow(occ.numpy(), 8))
    assert not changed[far].any(), "pixels far from the occluder are untouched"
    assert torch.equal(image, _chw(face)), "the input tensor is not modified"


def _grow(mask: np.ndarray, r: int) -> np.ndarray:
    import cv2

    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0


def test_float_image_keeps_dtype_and_untouched_values(face, occluders):
    transform = RandomOcclusion(Preset(), occluders)
    image = _chw(face).to(torch.float32) / 255 + 0.001  # not on the uint8 grid
    out = transform(image, index=3)
    assert out["image"].dtype == torch.float32
    assert float(out["image"].min()) >= 0.0 and float(out["image"].max()) <= 1.0
    far = ~torch.from_numpy(_grow(out["occlusion_mask"].numpy(), 8))
    assert torch.equal(out["image"][:, far], image[:, far])
    inside = out["occlusion_mask"]
    assert (out["image"][:, inside] - image[:, inside]).abs().max() > 0.05


def test_face_mask_is_updated_in_its_own_dtype(face, occluders):
    transform = RandomOcclusion(Preset(), occluders)
    mask = torch.from_numpy(face.mask.astype(np.uint8) * 255)
    out = transform(_chw(face), mask, index=1)
    assert out["mask"].dtype == torch.uint8
    assert set(out["mask"].unique().tolist()) <= {0, 255}
    expected = (mask > 0) & ~out["occlusion_mask"]
    assert torch.equal(out["mask"] > 0, expected)
    coverage = 1 - expected.sum() / (mask > 0).sum()
    spec = Preset().placement
    assert spec.min_coverage - 0.01 <= float(coverage) <= spec.max_coverage + 0.01
    bool_out = transform(_chw(face), mask > 0, index=1)
    assert bool_out["mask"].dtype == torch.bool
    assert torch.equal(bool_out["mask"], expected)


def test_label_map_gets_the_occluder_class(face, occluders):
    labels = np.zeros((SIZE, SIZE), np.int64)
    labels[face.mask] = 1
    labels[: SIZE // 3][face.mask[: SIZE // 3]] = 2
    labels[-10:] = 3
    transform = RandomOcclusion(Preset(occluder_class=200), occluders)
    mask = torch.from_numpy(labels)
    out = transform(_chw(face), mask, index=2)
    assert out["mask"].dtype == torch.int64
    occ = out["occlusion_mask"]
    assert (out["mask"][occ] == 200).all()
    assert torch.equal(out["mask"][~occ], mask[~occ])


def test_p_zero_returns_the_input_unchanged(face, occluders):
    transform = RandomOcclusion(Preset(), occluders, p=0.0)
    image = _chw(face)
    out = transform(image, index=0)
    assert out["image"] is image and not bool(out["occluded"])
    assert not out["occlusion_mask"].any()


def test_randocc_with_textures_and_flat_colours(face):
    preset = Preset(mode="randocc", shape={"canvas": 96})
    for pool in ([synthetic_texture(64, 1)], None):
        out = RandomOcclusion(preset, pool)(_chw(face), index=5)
        assert bool(out["occluded"]) and out["occlusion_mask"].any()


def test_natocc_without_occluders_is_refused():
    with pytest.raises(InputError, match="natocc needs occluders"):
        RandomOcclusion(Preset())


def test_bad_shapes_are_refused(face, occluders):
    transform = RandomOcclusion(Preset(), occluders)
    with pytest.raises(ValueError, match=r"\(3, H, W\)"):
        transform(torch.zeros(SIZE, SIZE, 3, dtype=torch.uint8))
    with pytest.raises(ValueError, match="mask must be"):
        transform(_chw(face), torch.zeros(5, 5, dtype=torch.bool))


def test_samples_depend_only_on_seed_epoch_and_index(face, occluders):
    transform = RandomOcclusion(Preset(), occluders, seed=7)
    image = _chw(face)
    a = transform(image, index=4)["image"]
    transform(image, index=9)  # other calls in between change nothing
    assert torch.equal(transform(image, index=4)["image"], a)
    assert not torch.equal(transform(image, index=5)["image"], a)
    transform.set_epoch(1)
    assert not torch.equal(transform(image, index=4)["image"], a)
    clone = pickle.loads(pickle.dumps(RandomOcclusion(Preset(), occluders, seed=7)))
    assert torch.equal(clone(image, index=4)["image"], a)


def test_seed_from_a_seeded_torch_generator(occluders):
    seeds = [
        RandomOcclusion(Preset(), occluders, seed=None, generator=torch.Generator().manual_seed(3))
        for _ in range(2)
    ]
    assert seeds[0].seed == seeds[1].seed
    other = RandomOcclusion(
        Preset(), occluders, seed=None, generator=torch.Generator().manual_seed(4)
    )
    assert other.seed != seeds[0].seed


class SyntheticFaces:
    """A picklable in-memory FaceSource."""

    def __init__(self, count: int) -> None:
        self.count = count

    def ids(self) -> list[str]:
        return [f"face-{i:02d}" for i in range(self.count)]

    def load(self, item_id: str) -> Face:
        return synthetic_face(SIZE, int(item_id.split("-")[1]))


def _epoch(dataset: OcclusionDataset, epoch: int, workers: int) -> list[dict]:
    dataset.set_epoch(epoch)
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=3,
        num_workers=workers,
        generator=torch.Generator().manual_seed(0),
    )
    return list(loader)


def _same(batches_a: list[dict], batches_b: list[dict]) -> bool:
    return len(batches_a) == len(batches_b) and all(
        a["id"] == b["id"] and all(torch.equal(a[k], b[k]) for k in ("image", "mask"))
        for a, b in zip(batches_a, batches_b, strict=True)
    )


def test_dataloader_epoch_is_the_same_with_0_and_2_workers(occluders):
    dataset = OcclusionDataset(SyntheticFaces(7), Preset(), occluders, seed=11)
    single = _epoch(dataset, 0, workers=0)
    assert single[0]["image"].shape == (3, 3, SIZE, SIZE)
    assert single[0]["mask"].dtype == torch.bool
    assert _same(single, _epoch(dataset, 0, workers=2))
    assert not _same(single, _epoch(dataset, 1, workers=0))
    assert _same(_epoch(dataset, 1, workers=2), _epoch(dataset, 1, workers=0))


def test_dataset_and_transform_open_folders_through_the_input_layer(tmp_path):
    """Folders as users have them: a CelebAMask-HQ root of faces (label maps) and the
    reference generator's hands with their sibling masks."""
    import replicas

    celeba = replicas.celebamask_hq(tmp_path)
    hands = replicas.reference_dataset(tmp_path) / "11k-hands_img"
    preset = Preset(occluder_class=19, placement={"min_coverage": 0.02, "max_coverage": 0.9})
    data = OcclusionDataset(celeba, preset, hands, seed=3)
    assert data.ids == ["0.jpg", "1.jpg", "2.jpg", "2001.jpg"]
    items = [data[i] for i in range(len(data))]
    assert [it["id"] for it in items] == data.ids
    occluded = [it for it in items if bool(it["occluded"])]
    assert occluded
    for it in occluded:
        assert it["mask"].dtype == torch.uint8
        assert torch.equal(it["mask"] == 19, it["occlusion_mask"])
    item = items[1]
    again = OcclusionDataset(celeba, preset, hands, seed=3)[1]
    assert torch.equal(item["image"], again["image"])
    with pytest.raises(InputError, match="cannot carry an alpha channel"):
        RandomOcclusion(preset, replicas.eleven_k_hands_raw(tmp_path / "raw"))
