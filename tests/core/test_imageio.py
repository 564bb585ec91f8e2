"""The image reader on awkward and broken files: usable ones load right, others say why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from badcorpus import (
    build_corpus,
    cmyk_jpeg,
    exif_rotated_jpeg,
    face_image,
    gray16_png,
    png_bytes,
    png_header_only,
)

from studio.core.io import imageio
from studio.core.model.errors import InputError
from studio.core.sources.base import FolderFaceSource, FolderOccluderSource


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("corpus")
    return root, build_corpus(root)


def test_every_corpus_face_loads_or_fails_with_its_reason(corpus: tuple[Path, dict]) -> None:
    root, expect = corpus
    source = FolderFaceSource(root / "faces", root / "masks")
    report = source.report(check=True)
    problems = {
        Path(p.path).relative_to(root / "faces").as_posix(): p.reason
        for p in report.problems
        if Path(p.path).is_relative_to(root / "faces")
    }
    problems.update(
        {
            Path(p.path).name: p.reason
            for p in report.problems
            if Path(p.path).is_relative_to(root / "masks")
        }
    )
    for name, (outcome, check) in expect.items():
        if outcome == "ok":
            face = source.load(name)
            assert check(face.image), name
            assert face.mask.shape == face.image.shape[:2]
            assert name not in problems
        else:
            stem_mask = name.rsplit(".", 1)[0] + ".png"
            reason = problems.get(name) or problems.get(stem_mask)
            assert reason is not None, f"{name} was not reported"
            assert check in reason, (name, reason)
    ok = sum(1 for outcome, _ in expect.values() if outcome == "ok")
    assert report.count == ok
    # the text file is not an image name and is not listed; the empty folder adds nothing
    assert "notes.txt" not in source.ids()


def test_load_errors_name_the_file(corpus: tuple[Path, dict]) -> None:
    root, _ = corpus
    source = FolderFaceSource(root / "faces", root / "masks")
    with pytest.raises(InputError) as err:
        source.load("truncated.jpg")
    assert err.value.path == str(root / "faces" / "truncated.jpg")
    assert err.value.reason == "truncated JPEG"
    with pytest.raises(InputError) as err:
        source.load("mismatch.png")
    assert err.value.path == str(root / "masks" / "mismatch.png")


def test_rgba_occluders_keep_alpha_and_reject_empty(corpus: tuple[Path, dict]) -> None:
    root, _ = corpus
    source = FolderOccluderSource(root / "occluders")
    cup = source.load("cup.png")
    assert cup.size == (20, 20)  # cropped to the opaque part
    assert (cup.image[0, 0] == (10, 200, 30)).all()
    with pytest.raises(InputError, match="empty"):
        source.load("transparent.png")
    with pytest.raises(InputError, match="no alpha"):
        source.load("opaque_rgb.jpg")
    report = source.report(check=True)
    assert report.count == 1 and len(report.problems) == 2


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    img = face_image(64, 48)
    img[:8, :8] = (255, 0, 0)  # red top-left corner as stored
    path = tmp_path / "r.jpg"
    path.write_bytes(exif_rotated_jpeg(img))
    out = imageio.read_image(path)
    assert out.shape == (48, 64, 3)
    # orientation 6: stored top-left ends up top-right
    assert out[2, -3, 0] > 200 and out[2, -3, 1] < 60


def test_16_bit_is_scaled_not_clipped(tmp_path: Path) -> None:
    path = tmp_path / "g.png"
    path.write_bytes(gray16_png())
    out = imageio.read_image(path)
    assert out.dtype == np.uint8 and out[0, 0, 0] == 128 and out[0, -1, 0] == 255


def test_cmyk_jpeg_becomes_rgb(tmp_path: Path) -> None:
    path = tmp_path / "c.jpg"
    path.write_bytes(cmyk_jpeg((30, 90, 220)))
    out = imageio.read_image(path)
    assert out.shape[2] == 3
    assert np.abs(out[10, 10].astype(int) - (30, 90, 220)).max() <= 6


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([0, 255], [False, True]),
        ([0, 1], [False, True]),
        ([0, 100, 127, 128, 200, 255], [False, False, False, True, True, True]),
        ([0, 0], [False, False]),
    ],
)
def test_mask_threshold_at_half_max(
    tmp_path: Path, values: list[int], expected: list[bool]
) -> None:
    path = tmp_path / "m.png"
    path.write_bytes(png_bytes(np.array([values], np.uint8)))
    assert imageio.read_mask(path).ravel().tolist() == expected


def test_mask_size_mismatch_and_nearest_resize(tmp_path: Path) -> None:
    path = tmp_path / "m.png"
    mask = np.zeros((4, 4), np.uint8)
    mask[:2] = 255
    path.write_bytes(png_bytes(mask))
    with pytest.raises(InputError, match="mask 4x4 does not match image 8x6"):
        imageio.read_mask(path, shape=(6, 8))
    big = imageio.read_mask(path, shape=(8, 8), resize=True)
    assert big.shape == (8, 8) and big[:4].all() and not big[4:].any()


def test_pixel_guard_rejects_from_the_header_before_decoding(tmp_path: Path) -> None:
    """The headers say 20000x20000 and 10000x7000 while the bodies hold a few bytes: a reader
    that decoded first would report a damaged file (after allocating 1.2 GB / 210 MB); the
    guard rejects from the header. 70 MP is under Pillow's own limit, so only ours fires."""
    for w, h in ((20000, 20000), (10000, 7000)):
        path = tmp_path / f"{w}.png"
        path.write_bytes(png_header_only(w, h))
        with pytest.raises(InputError, match="decompression-bomb"):
            imageio.read_image(path)
        with pytest.raises(InputError, match="decompression-bomb"):
            imageio.read_mask(path)
    assert imageio.probe(tmp_path / "10000.png", max_pixels=80_000_000).width == 10000
    # a limit above Pillow's own fixed one (179 MP) is honoured too
    assert imageio.probe(tmp_path / "20000.png", max_pixels=500_000_000).width == 20000


def test_pixel_limit_is_configurable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "mid.png"
    path.write_bytes(png_bytes(face_image(100, 100)))
    assert imageio.read_image(path, max_pixels=10_000).shape == (100, 100, 3)
    with pytest.raises(
        InputError,
        match=r"100x100 \(10,000 pixels\) is over the decompression-bomb limit of 9,999 ",
    ):
        imageio.read_image(path, max_pixels=9_999)
    monkeypatch.setenv("STUDIO_MAX_PIXELS", "5000")
    with pytest.raises(InputError, match="decompression-bomb"):
        imageio.read_image(path)
    header = tmp_path / "70mp.png"
    header.write_bytes(png_header_only(10000, 7000))
    monkeypatch.delenv("STUDIO_MAX_PIXELS")
    with pytest.raises(
        InputError, match=r"10000x7000 \(70,000,000 pixels\) .* limit of 64,000,000"
    ):
        imageio.probe(header)


def test_probe_reads_only_the_header(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(png_bytes(face_image(30, 20)))
    info = imageio.probe(path)
    assert (info.width, info.height, info.format) == (20, 30, "PNG")


@pytest.mark.parametrize("ext", ["png", "tif"])
def test_16_bit_colour_and_alpha(tmp_path: Path, ext: str) -> None:
    import cv2

    bgr = np.zeros((20, 30, 3), np.uint16)
    bgr[..., 0], bgr[..., 1] = 65535, 32896  # blue full, green half
    path = tmp_path / f"c16.{ext}"
    cv2.imwrite(str(path), bgr)
    assert imageio.read_image(path)[0, 0].tolist() == [0, 128, 255]
    rgba = np.dstack([bgr, np.full((20, 30), 65535, np.uint16)])
    cv2.imwrite(str(tmp_path / "a16.png"), rgba)
    assert imageio.read_image(tmp_path / "a16.png", keep_alpha=True)[0, 0].tolist() == [
        0,
        128,
        255,
        255,
    ]


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_randomly_damaged_files_load_or_fail_with_input_error(tmp_path: Path) -> None:
    """Bytes flipped, cut and inserted in files of every format: nothing but InputError."""
    import io

    from PIL import Image

    image = face_image(40, 30)
    originals = []
    for fmt in ("PNG", "JPEG", "TIFF", "WEBP", "BMP", "GIF"):
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, fmt)
        originals.append(buf.getvalue())
    originals += [exif_rotated_jpeg(image), cmyk_jpeg((10, 20, 30)), gray16_png()]
    rng = np.random.default_rng(7)
    path = tmp_path / "damaged.img"
    failures = 0
    for attempt in range(400):
        data = bytearray(originals[attempt % len(originals)])
        for _ in range(int(rng.integers(1, 5))):
            at = int(rng.integers(0, len(data)))
            choice = int(rng.integers(0, 3))
            if choice == 0:
                data[at] = int(rng.integers(0, 256))
            elif choice == 1 and at > 0:
                del data[at:]
            else:
                data[at:at] = rng.integers(0, 256, 4, dtype=np.uint8).tobytes()
        path.write_bytes(bytes(data))
        for read in (imageio.read_image, imageio.read_mask):
            try:
                out = read(path)
                assert out.dtype in (np.uint8, bool) and out.size > 0
            except InputError as err:
                assert err.reason and err.path == str(path)
                failures += 1
    assert failures > 100  # the damage is real: many files are refused


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_jpeg_fast_path_matches_pillow_and_is_taken(tmp_path: Path, mode: str) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    shape = (48, 64, 3) if mode == "RGB" else (48, 64)
    path = tmp_path / "photo.jpg"
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path, quality=90)
    with Image.open(path) as header:
        fast = imageio._fast_jpeg(path, header)
    assert fast is not None  # complete and upright: OpenCV decodes it
    with Image.open(path) as img:
        expected = np.asarray(img.convert("RGB"))
    assert np.array_equal(imageio.read_image(path), expected)
    assert np.array_equal(fast, expected)


def test_truncated_jpeg_leaves_the_fast_path_and_is_named(tmp_path: Path) -> None:
    from PIL import Image

    path = tmp_path / "cut.jpg"
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    assert not imageio._jpeg_is_complete(path.read_bytes())
    assert imageio._jpeg_is_complete(data)
    with pytest.raises(InputError, match="truncated"):
        imageio.read_image(path)


def test_the_fast_png_mask_path_gives_pillows_mask(tmp_path: Path) -> None:
    """Greyscale PNG masks (8 and 16 bit, 0/255, 0/1, anti-aliased) decode with OpenCV, to
    exactly the mask Pillow's path gives."""
    from PIL import Image

    rng = np.random.default_rng(3)
    grey = (rng.random((37, 53)) * 255).astype(np.uint8)
    cases = {
        "u8.png": Image.fromarray(grey),
        "binary01.png": Image.fromarray((grey > 128).astype(np.uint8)),
        "u16.png": Image.fromarray(grey.astype(np.uint16) * 257),
    }
    for name, picture in cases.items():
        path = tmp_path / name
        picture.save(path)
        header = imageio._open(path, None)
        fast = imageio._fast_grey_png(path, header)
        header.close()
        assert fast is not None, name  # the fast path is taken
        slow = imageio.threshold_mask(imageio._grey_of(imageio._decode(path, None)))
        assert np.array_equal(imageio.read_mask(path), slow), name
