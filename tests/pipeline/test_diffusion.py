"""The diffusion backend, loaded through the production code from tiny SDXL and
IP-Adapter FaceID components that the tests build, with every network socket refused."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from pipeline.errors import ModelMissing, PipelineError

pytest.importorskip("diffusers", reason="diffusers is not installed (make install adds it)")
pytest.importorskip(
    "torch", reason="torch is not installed (make install-torch adds the CPU build)"
)
from pipeline.diffusion import DiffusionBackend  # noqa: E402
from tests.pipeline.tiny_sdxl import build_faceid_adapter, build_sdxl  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diffusion-models")
    sdxl = build_sdxl(folder)
    build_faceid_adapter(folder / "ip-adapter" / "ip-adapter-faceid_sdxl.bin", sdxl)
    return folder


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("no network access is allowed while loading or running models")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def backend(no_network, model_dir):
    return DiffusionBackend(identity_strength=1.0).load(model_dir)


def identity(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=512)
    return vector / np.linalg.norm(vector)


def run(backend, who: np.ndarray, seed: int) -> np.ndarray:
    return backend(
        prompt="portrait of a person",
        negative_prompt="blurry",
        identity=who,
        seeds=[seed],
        width=64,
        height=64,
        steps=2,
        guidance=5.0,
    )[0]


def test_two_steps_on_the_cpu_give_an_image(backend):
    image = run(backend, identity(0), seed=7)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8 and backend.identity_dim == 512


def test_same_seed_reproduces_and_the_identity_changes_the_image(backend):
    first, again = run(backend, identity(0), 7), run(backend, identity(0), 7)
    assert np.array_equal(first, again)
    other = run(backend, identity(1), 7)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 0.5


def test_a_128_d_dlib_embedding_is_refused_with_a_reason(backend):
    with pytest.raises(PipelineError, match="512-d ArcFace"):
        run(backend, np.ones(128) / np.sqrt(128), 1)


def test_missing_weights_are_named(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        DiffusionBackend().load(tmp_path)
    assert str(tmp_path / "sdxl" / "model_index.json") in caught.value.message
    assert "ip-adapter-faceid_sdxl.bin" in caught.value.message
