"""Benchmarks behind ``studio bench``. Each module in ``SUITES`` exposes
``run(quick: bool, backend: str) -> list[BenchRow]``. Ratios are measured side by side in one
run; absolute figures depend on the machine (reported with it)."""

SUITES: tuple[str, ...] = ("engine", "inputs", "export", "gui", "gpu", "realism", "train")
#: suites that measure the backend they are given (the others measure the CPU only)
BACKEND_SUITES: tuple[str, ...] = ("gpu",)
