"""Image ops of the engine, written once against a :class:`~studio.core.backend.CpuBackend`-like
array namespace."""
