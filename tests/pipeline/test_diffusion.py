"""The diffusion backend, loaded through the production code from tiny SDXL and
IP-Adapter FaceID components that the tests build, with every network socket refused."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from pipeline.errors import ModelMissing, PipelineError
from tests.pipeline.helpers import generate_from_one_photo

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


def test_the_pipeline_generates_with_diffusion_when_configured(
    no_network, model_dir, astronaut_rgb, analyzer
):
    """End to end on tiny models: insightface (512-d identity) and SDXL with FaceID."""
    from pipeline.imaging import encode
    from pipeline.orchestrator import HeadshotPipeline, PipelineConfig
    from pipeline.presets import BrandPreset, load_shipped
    from pipeline.provenance import TRAINED_ALGORITHMIC_MEDIA, read_digital_source_type
    from tests.pipeline.tiny_insightface import build_detector, build_recognizer

    face = analyzer.detect(astronaut_rgb)[0]
    left, right = face.eye_centres()
    nose = face.landmarks[4] - [0, 8]
    keypoints = np.array([left, right, nose, nose + [-18, 22], nose + [18, 22]]) * (640 / 512)
    folder = model_dir / "insightface" / "buffalo_l"
    build_detector(
        folder / "det_10g.onnx", box=tuple(v * 640 / 512 for v in face.box), keypoints=keypoints
    )
    build_recognizer(folder / "w600k_r50.onnx", seed=1)
    data = load_shipped()["corporate-executive"].model_dump(mode="json")
    data["generation"].update(steps=2, variations=2)
    data["outputs"] = [{"name": "tiny", "width": 64, "height": 64, "format": "jpeg"}]
    preset = BrandPreset.from_mapping(data)
    config = PipelineConfig(
        face_backend="insightface",
        generation_backend="diffusion",
        segmentation="grabcut",
        model_dir=model_dir,
        min_usable_photos=1,
    )
    pipeline = HeadshotPipeline.from_config(config)
    result, enrollment = generate_from_one_photo(
        pipeline,
        encode(astronaut_rgb),
        preset,
        preset_version=3,
        base_seed=11,
        attributes={"skin_tone": "light"},
    )
    assert result.backend == "diffusion-sdxl-faceid"
    assert [c.seed for c in result.candidates] == [11, 12]
    assert all(
        c.pixels.shape == (64, 64, 3) and "light skin tone" in c.prompt for c in result.candidates
    )
    from io import BytesIO

    from PIL import Image

    xmp = Image.open(BytesIO(result.candidates[0].encoded)).info["xmp"]
    assert read_digital_source_type(xmp) == TRAINED_ALGORITHMIC_MEDIA
    ranking = pipeline.select(result, preset=preset, enrollment=enrollment)
    assert len(ranking) == 2 and all(r.accepted or r.reason for r in ranking)
