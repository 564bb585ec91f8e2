"""Image ops of the engine, written once against a :class:`~studio.core.backend.Backend`
(``be.xp`` plus a few filter methods), so the same code runs on NumPy and on CuPy arrays."""
