"""Shared fixtures for the engine tests (no Qt)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloud_helpers import SmallJob
from cloud_helpers import small_job as make_small_job

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


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 endpoint on 127.0.0.1 for the session (moto's server mode, the ``dev``
    extra), and the environment pointing every client at it (``AWS_ENDPOINT_URL`` and test
    credentials: subprocesses and Ray workers inherit them)."""
    from studio.bench.export_storage import local_s3

    with local_s3() as endpoint:
        if endpoint is None:
            pytest.skip("needs moto[server] (the dev extra) and s3fs (the cloud extra)")
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint: str, request: pytest.FixtureRequest) -> str:
    """A new, empty bucket of the test endpoint: ``s3://NAME``."""
    import boto3

    digest = hashlib.blake2b(request.node.nodeid.encode(), digest_size=6).hexdigest()
    name = f"t-{digest}"
    boto3.client("s3", endpoint_url=s3_endpoint).create_bucket(Bucket=name)
    return f"s3://{name}"


@pytest.fixture(scope="session")
def small_job(tmp_path_factory: pytest.TempPathFactory) -> SmallJob:
    """A small job exported as a folder and as shards (see :class:`cloud_helpers.SmallJob`)."""
    return make_small_job(tmp_path_factory)


@pytest.fixture(scope="session")
def preset(small_job: SmallJob) -> Path:
    """The small job's preset (its sources beside it)."""
    return small_job.preset


@pytest.fixture(scope="session")
def folder(small_job: SmallJob) -> Path:
    """The small job exported as a folder."""
    return small_job.folder


@pytest.fixture(scope="session")
def shards(small_job: SmallJob) -> Path:
    """The small job exported as shards of 4 samples."""
    return small_job.shards
