"""The gpu bench suite runs without a GPU and never invents CUDA figures."""

from __future__ import annotations

import math

import pytest

from studio.bench import SUITES, gpu
from studio.core.ops.backend import cuda_available


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setattr(gpu, "SIZE", 128)  # the suite's logic, not its figures


@pytest.mark.skipif(cuda_available(), reason="this machine has a CUDA GPU")
@pytest.mark.parametrize("backend", ["cuda", "cpu"])
def test_cuda_rows_say_not_measured_without_a_gpu(small, backend):
    assert "gpu" in SUITES
    rows = {r.name: r for r in gpu.render_rows(quick=True, backend=backend)}
    for name in ("render 1024 SOT, cuda", "cuda speed-up over cpu", "preview 1024, cuda"):
        assert math.isnan(rows[name].value) and rows[name].ok is None
        expected = "not measured: no GPU" if backend == "cuda" else "not measured: run with"
        assert rows[name].note.startswith(expected)
    for name in ("render 1024 SOT, cpu", "preview 1024, cpu"):
        assert rows[name].value > 0 and rows[name].unit == "ms"


def test_dataloader_rows_are_measured_on_cpu(monkeypatch):
    pytest.importorskip("torch", reason="torch is not installed")
    monkeypatch.setitem(gpu.LOADER_SAMPLES, True, 8)
    rows = gpu.dataloader_rows(quick=True)
    assert [r.unit for r in rows] == ["samples/s", "samples/s", "x slower"]
    assert all(r.value > 0 and math.isfinite(r.value) for r in rows)
    assert rows[2].value == pytest.approx(rows[0].value / rows[1].value)


def test_bench_backend_cuda_measures_cuda_or_refuses(capsys, monkeypatch) -> None:
    from studio.cli import main
    from studio.core.ops import backend as backend_mod
    if backend_mod.cuda_available():
        pytest.skip("a GPU is here: --backend cuda measures it")
    assert main(["bench", "--backend", "cuda", "--quick"]) == 2
    assert "the cuda backend needs CuPy" in capsys.readouterr().err
    # with a working CUDA backend, CPU-only suites are refused rather than measured
    monkeypatch.setattr(
        "studio.commands.bench.get_backend", lambda name: type("B", (), {"name": "cuda"})
    )
    assert main(["bench", "--backend", "cuda", "--suite", "engine"]) == 2
    assert "suite engine measures the CPU only" in capsys.readouterr().err
