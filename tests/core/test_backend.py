"""Backend selection and the device backend's filters, tested without a GPU.

The device filters (:class:`NdimageBackend`, which :class:`CudaBackend` is with CuPy) run here
with NumPy + scipy.ndimage and are compared with the OpenCV reference; a stand-in ``cupy``
module lets the real :class:`CudaBackend` and ``backend="auto"`` selection run on the CPU.
"""

from __future__ import annotations

import sys
import types

import cv2
import numpy as np
import pytest
import scipy.ndimage
from fake_device import NumpyAsDevice

from studio.cli import main
from studio.core.model.errors import BackendError
from studio.core.ops import backend as backend_module
from studio.core.ops import geometry
from studio.core.ops.backend import CpuBackend, CudaBackend, cuda_available, get_backend
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder


@pytest.fixture
def fresh_cuda_probe():
    """Forget the cached CUDA probe before and after the test."""
    backend_module.cuda_device_name.cache_clear()
    saved = backend_module._BACKENDS.pop("cuda", None)
    yield
    backend_module.cuda_device_name.cache_clear()
    backend_module._BACKENDS.pop("cuda", None)
    if saved is not None:
        backend_module._BACKENDS["cuda"] = saved


def _install_fake_cupy(monkeypatch, devices: int = 1, kernel_ok: bool = True) -> None:
    """A ``cupy`` that is NumPy in disguise, with a CUDA runtime reporting ``devices``."""
    cupy = types.ModuleType("cupy")
    for name in dir(np):
        if not name.startswith("__"):
            setattr(cupy, name, getattr(np, name))

    class Runtime:
        @staticmethod
        def getDeviceCount() -> int:
            return devices

        @staticmethod
        def getDeviceProperties(index: int) -> dict:
            return {"name": b"Fake GPU"}

    cupy.cuda = types.SimpleNamespace(runtime=Runtime)
    cupy.asnumpy = np.asarray
    if not kernel_ok:
        cupy.arange = lambda *args, **kwargs: np.zeros(8, np.float32)
    cupyx = types.ModuleType("cupyx")
    cupyx_scipy = types.ModuleType("cupyx.scipy")
    cupyx.scipy = cupyx_scipy
    cupyx_scipy.ndimage = scipy.ndimage
    monkeypatch.setitem(sys.modules, "cupy", cupy)
    monkeypatch.setitem(sys.modules, "cupyx", cupyx)
    monkeypatch.setitem(sys.modules, "cupyx.scipy", cupyx_scipy)
    monkeypatch.setitem(sys.modules, "cupyx.scipy.ndimage", scipy.ndimage)


# --- selection --------------------------------------------------------------------------------


def test_cpu_is_numpy_and_opencv():
    be = get_backend("cpu")
    assert isinstance(be, CpuBackend) and be.xp is np and be.on_host


def test_auto_without_cupy_is_cpu_silently(monkeypatch, fresh_cuda_probe, capsys):
    monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError
    assert get_backend("auto").name == "cpu"
    assert capsys.readouterr() == ("", "")


def test_cuda_without_cupy_is_one_clear_line(monkeypatch, fresh_cuda_probe):
    monkeypatch.setitem(sys.modules, "cupy", None)
    with pytest.raises(BackendError) as err:
        get_backend("cuda")
    line = err.value.line()
    assert "\n" not in line and "CuPy is not installed" in line and ".[gpu]" in line


def test_cuda_with_cupy_but_no_device(monkeypatch, fresh_cuda_probe):
    _install_fake_cupy(monkeypatch, devices=0)
    assert not cuda_available()
    assert get_backend("auto").name == "cpu"
    with pytest.raises(BackendError, match="a CUDA GPU: none was found"):
        get_backend("cuda")


def test_cuda_driver_error_is_reported_in_one_line(monkeypatch, fresh_cuda_probe):
    _install_fake_cupy(monkeypatch)

    def broken() -> int:
        raise RuntimeError("cudaErrorInsufficientDriver: CUDA driver version is insufficient\nmore")

    monkeypatch.setattr(sys.modules["cupy"].cuda.runtime, "getDeviceCount", broken)
    with pytest.raises(BackendError) as err:
        get_backend("cuda")
    assert err.value.line() == (
        "the cuda backend needs a usable CUDA GPU: cudaErrorInsufficientDriver: CUDA driver "
        "version is insufficient"
    )


def test_failed_tiny_kernel_means_no_cuda(monkeypatch, fresh_cuda_probe):
    _install_fake_cupy(monkeypatch, kernel_ok=False)
    assert get_backend("auto").name == "cpu"
    with pytest.raises(BackendError, match="self-test"):
        get_backend("cuda")


def test_auto_picks_cuda_when_a_device_works(monkeypatch, fresh_cuda_probe):
    _install_fake_cupy(monkeypatch)
    be = get_backend("auto")
    assert isinstance(be, CudaBackend) and be.device == "Fake GPU" and not be.on_host
    assert get_backend("cuda") is be


def test_unknown_backend_and_backend_objects():
    with pytest.raises(BackendError, match="unknown backend 'tpu'"):
        get_backend("tpu")
    be = NumpyAsDevice()
    assert get_backend(be) is be


def _write_inputs(tmp_path) -> list[str]:
    face = synthetic_face(96, 0)
    occ = synthetic_occluder(48, 1)
    cv2.imwrite(str(tmp_path / "face.png"), face.image[:, :, ::-1])
    cv2.imwrite(str(tmp_path / "mask.png"), face.mask.astype(np.uint8) * 255)
    rgba = np.dstack([occ.image[:, :, ::-1], occ.alpha])
    cv2.imwrite(str(tmp_path / "occ.png"), rgba)
    return [
        "render",
        "--face",
        str(tmp_path / "face.png"),
        "--face-mask",
        str(tmp_path / "mask.png"),
        "--occluder",
        str(tmp_path / "occ.png"),
        "--out",
        str(tmp_path / "out"),
    ]


@pytest.mark.skipif(cuda_available(), reason="this machine has a CUDA GPU")
def test_cli_render_backend_cuda_without_gpu_fails_with_one_line(tmp_path, capsys):
    rc = main([*_write_inputs(tmp_path), "--backend", "cuda"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and err.startswith("studio: error: the cuda backend needs")
    assert not (tmp_path / "out").exists()


def test_cli_render_backend_auto_runs(tmp_path, capsys):
    rc = main([*_write_inputs(tmp_path), "--backend", "auto"])
    assert rc == 0 and (tmp_path / "out" / "image.jpg").is_file()


# --- the device filters against the OpenCV reference -----------------------------------------


def _values_close(a: np.ndarray, b: np.ndarray, tol: float = 1.0) -> float:
    """Fraction of values further apart than ``tol``; asserts shape and dtype match."""
    assert a.shape == b.shape and a.dtype == b.dtype
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64)) > tol))


@pytest.fixture(scope="module")
def images():
    return synthetic_face(160, 2).image, synthetic_occluder(90, 3)


@pytest.mark.parametrize("sigma", [0.4, 1.3, 3.0])
def test_gaussian_blur_matches_opencv(images, sigma):
    face, _ = images
    cpu, dev = CpuBackend(), NumpyAsDevice()
    assert _values_close(cpu.gaussian_blur(face, sigma), dev.gaussian_blur(face, sigma)) == 0
    f32 = face.astype(np.float32) / 255
    np.testing.assert_allclose(
        dev.gaussian_blur(f32, sigma), cpu.gaussian_blur(f32, sigma), atol=1e-5
    )
    assert dev.gaussian_blur(face, 0.0) is face


@pytest.mark.parametrize("angle,flip,shear", [(23.0, True, 5.0), (-170.0, False, 0.0), (90, 0, 0)])
def test_warp_affine_matches_opencv(images, angle, flip, shear):
    _, occ = images
    cpu, dev = CpuBackend(), NumpyAsDevice()
    matrix = geometry.occluder_matrix(occ.size, (70.3, 61.8), 1.37, angle, flip, shear)
    for replicate in (False, True):
        a = cpu.warp_affine(occ.image, matrix, (140, 120), replicate=replicate)
        b = dev.warp_affine(occ.image, matrix, (140, 120), replicate=replicate)
        assert _values_close(a, b) == 0
    alpha = occ.alpha.astype(np.float32) / 255
    a, b = cpu.warp_affine(alpha, matrix, (140, 120)), dev.warp_affine(alpha, matrix, (140, 120))
    np.testing.assert_allclose(b, a, atol=1e-5)  # same 1/32 pixel sampling grid as OpenCV
    assert np.array_equal(a >= 0.5, b >= 0.5)
    a = cpu.warp_affine(occ.image, matrix, (140, 120), linear=False)
    assert np.array_equal(a, dev.warp_affine(occ.image, matrix, (140, 120), linear=False))


@pytest.mark.parametrize("size", [(50, 37), (119, 60), (240, 300), (130, 200), (300, 150)])
@pytest.mark.parametrize("mode", ["area", "linear", "nearest"])
def test_resize_matches_opencv(images, size, mode):
    face, _ = images
    cpu, dev = CpuBackend(), NumpyAsDevice()
    a, b = cpu.resize(face, size, mode=mode), dev.resize(face, size, mode=mode)
    assert a.shape == (size[1], size[0], 3)
    assert _values_close(a, b) == 0
    if mode == "nearest":
        assert np.array_equal(a, b)
    f32 = face[..., 0].astype(np.float32)
    np.testing.assert_allclose(
        dev.resize(f32, size, mode=mode), cpu.resize(f32, size, mode=mode), atol=1e-3
    )


def test_integral_is_the_exact_summed_area_table_on_both_backends(images):
    face, occ = images
    for image in (face, occ.alpha):
        expected = np.zeros((image.shape[0] + 1, image.shape[1] + 1, *image.shape[2:]), np.int64)
        expected[1:, 1:] = image.astype(np.int64).cumsum(0).cumsum(1)
        for be in (CpuBackend(), NumpyAsDevice()):
            assert np.array_equal(be.integral(image), expected)


@pytest.mark.parametrize("radius", [1, 3, 6])
def test_morph_is_exact(images, radius):
    _, occ = images
    mask = (occ.alpha >= 128).astype(np.uint8)
    cpu, dev = CpuBackend(), NumpyAsDevice()
    for dilate in (True, False):
        a, b = cpu.morph(mask, radius, dilate=dilate), dev.morph(mask, radius, dilate=dilate)
        assert np.array_equal(a, b)
    assert np.count_nonzero(dev.morph(mask, radius, dilate=False)) < np.count_nonzero(mask)


@pytest.mark.parametrize("sigma", [0.5, 1.7])
def test_gaussian_blur_into_floats_skips_the_rounding(images, sigma):
    face, _ = images
    cpu, dev = CpuBackend(), NumpyAsDevice()
    reference = cpu.gaussian_blur(face.astype(np.float32), sigma)
    for be in (cpu, dev):
        out = be.gaussian_blur(face, sigma, floats=True)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, reference, atol=1e-3)
        assert be.gaussian_blur(face, 0.0, floats=True).dtype == np.float32


def test_mix_is_a_per_pixel_matrix_product(images):
    face, _ = images
    matrix = np.array([[0.3, 0.6, 0.1], [1.0, -1.0, 0.0]], np.float32)
    expected = face.astype(np.float32) @ matrix.T
    view = face[3:40, 5:70]  # rows of a larger image
    for be in (CpuBackend(), NumpyAsDevice()):
        np.testing.assert_allclose(be.mix(face, matrix), expected, atol=1e-3)
        np.testing.assert_allclose(be.mix(view, matrix), expected[3:40, 5:70], atol=1e-3)
        one = be.mix(face, matrix[:1])
        assert one.shape == face.shape[:2]
        np.testing.assert_allclose(one, expected[..., 0], atol=1e-3)
        pixels = face.reshape(-1, 3)[::7]  # N x 3 rows of pixels
        np.testing.assert_allclose(be.mix(pixels, matrix), pixels @ matrix.T, atol=1e-3)


def test_gain_and_premultiply_match_numpy(images):
    face, occ = images
    rng = np.random.default_rng(0)
    factor = rng.uniform(0.2, 1.6, face.shape[:2]).astype(np.float32)
    straight = rng.uniform(-40, 300, face.shape).astype(np.float32)
    alpha = cv2.resize(occ.alpha, face.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    u8 = np.clip(np.rint(face * factor[..., None]), 0, 255)
    rounded = np.clip(np.rint(straight), 0, 255)
    premultiplied = np.rint(rounded * (alpha[..., None] / 255.0))
    for be in (CpuBackend(), NumpyAsDevice()):
        f32 = face.astype(np.float32)
        np.testing.assert_allclose(be.gain(f32, factor), f32 * factor[..., None], rtol=1e-6)
        assert be.gain(f32, factor, out=f32) is f32  # in place
        assert _values_close(be.gain(face, factor), u8.astype(np.uint8), tol=0) < 0.001
        out = be.premultiply_u8(straight, alpha)
        assert out.dtype == np.uint8 and (out <= alpha[..., None]).all()
        assert _values_close(out, premultiplied.astype(np.uint8)) == 0
        inside = alpha == 255
        assert np.array_equal(out[inside], rounded[inside])
        assert not out[alpha == 0].any()
        shift = np.full(straight.shape, 7.25, np.float32)
        assert np.array_equal(be.premultiply_u8(straight - shift, alpha, shift), out)


def test_over_without_a_layer_only_darkens(images):
    face, occ = images
    alpha = cv2.resize(occ.alpha, face.shape[1::-1])
    for be in (CpuBackend(), NumpyAsDevice()):
        dark = be.over(face, None, alpha)
        assert np.array_equal(dark, be.over(face, np.zeros_like(face), alpha))
        assert (dark <= face).all() and np.array_equal(dark[alpha == 0], face[alpha == 0])


def test_host_only_steps_give_the_host_results_on_a_device():
    from studio.core.ops.backend import jpeg_roundtrip_host

    cpu, dev = CpuBackend(), NumpyAsDevice()
    image = synthetic_face(64, 5).image
    on_device = dev.asarray(image)
    uploads = dev.uploads
    out = dev.host_only(lambda host, a: jpeg_roundtrip_host(a, 80), on_device)
    assert np.array_equal(
        dev.to_numpy(out), cpu.host_only(lambda h, a: jpeg_roundtrip_host(a, 80), image)
    )
    assert dev.downloads >= 1 and dev.uploads == uploads + 1  # down once, the result up once
    pair = dev.host_only(lambda host, a: (a, None, 3), on_device)
    assert pair[1] is None and pair[2] == 3  # only arrays travel
    assert cpu.host is cpu and dev.host.name == "cpu"


def test_cuda_backend_class_runs_the_render_with_a_stand_in_cupy(monkeypatch, fresh_cuda_probe):
    """The real CudaBackend (its CuPy calls answered by NumPy) renders within parity."""
    from render_cases import cases, parity_problems, tolerance, tolerated_share

    from studio.core.engine.render import render

    _install_fake_cupy(monkeypatch)
    for _name, face, occluder, params in cases(128)[::5]:
        cpu = render(face, occluder, params, backend="cpu")
        dev = render(face, occluder, params, backend="cuda")
        assert parity_problems(cpu, dev, tolerance(params), tolerated_share(params)) == []
