"""Shared fixtures for the engine tests (no Qt)."""

from __future__ import annotations

import pytest

from studio.core.model.inputs import Face, Occluder
from studio.core.sources.synthetic import synthetic_face, synthetic_occluder, synthetic_texture


@pytest.fixture(scope="session")
def face() -> Face:
    return synthetic_face(256, seed=1)


@pytest.fixture(scope="session")
def occluder() -> Occluder:
    return synthetic_occluder(128, seed=2)


@pytest.fixture(scope="session")
def texture():
    return synthetic_texture(96, seed=3)
