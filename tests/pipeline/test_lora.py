"""Per-person fine-tuning (the LoRA identity method) on tiny SDXL components the tests
build, loaded through the production code with every network socket refused: training
fits the person's photos, the saved LoRA changes what is generated, and the diffusion
backend trains, generates and hands the model back under the commercial licence
profile."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="diffusers is not installed (make install-torch adds it)")
pytest.importorskip("peft", reason="peft is not installed (make install-torch adds it)")

from pipeline.backends.lora import (  # noqa: E402
    LoraSettings,
    LoraTrainer,
    TrainedLora,
    caption,
    training_images,
)
from pipeline.backends.sdxl import SDXLModel  # noqa: E402
from tests.pipeline.tiny_sdxl import build_sdxl  # noqa: E402

TINY = LoraSettings(rank=4, alpha=4, steps=30, learning_rate=5e-3, resolution=64, seed=1)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lora-models")
    build_sdxl(folder)  # SDXL alone: the LoRA method needs no identity adapter
    return folder


@pytest.fixture(scope="module")
def photos(corpus, analyzer):
    """Three real photographs of one person, as training squares."""
    items = []
    for name in ["obama.jpg", "obama3.jpg", "obama2.jpg"]:
        pixels = corpus(name)
        face = analyzer.detect(pixels)[0]
        items.append((pixels, face.eye_centres(), face.height))
    return training_images(items, TINY)


@pytest.fixture(scope="module")
def trained(model_dir, photos):
    trainer = LoraTrainer(model_dir / "sdxl").load()
    text = caption(TINY, {"skin_tone": "brown", "hair_color": "black"})
    return trainer, text, trainer.train(photos, text, TINY)


def test_training_squares_frame_the_face_and_captions_say_what_was_measured(photos):
    assert [p.shape for p in photos] == [(64, 64, 3)] * 3
    text = caption(TINY, {"skin_tone": "brown", "hair_color": "black", "glasses": True})
    assert text == (
        "a photo of ohwx person, with their own brown skin tone, black hair, wearing their glasses"
    )
    assert caption(TINY, {}) == "a photo of ohwx person"


def test_training_lowers_the_loss_and_leaves_the_base_as_it_was(no_network, trained, photos):
    trainer, text, lora = trained
    before = trainer.loss_on(photos, text, TINY, seed=7)
    after = trainer.loss_on(photos, text, TINY, seed=7, lora=lora.weights)
    assert after < before - 0.01, (before, after)
    assert trainer.loss_on(photos, text, TINY, seed=7) == pytest.approx(before)
    assert len(lora.losses) == TINY.steps and lora.images == 3
    assert lora.describe()["rank"] == 4


def test_the_saved_lora_changes_what_is_generated(no_network, model_dir, trained):
    _, _, lora = trained
    model = SDXLModel(identity_method="lora").load(model_dir)
    assert model.name == "diffusion-sdxl-lora"

    def generate(strength: float) -> np.ndarray:
        return model(
            prompt="a photo of ohwx person, portrait",
            negative_prompt="blurry",
            identity=None,
            seeds=[5],
            width=64,
            height=64,
            steps=2,
            guidance=5.0,
            scheduler="euler",
            identity_strength=strength,
            lora=lora.weights,
        )[0]

    full, again, none = generate(1.0), generate(1.0), generate(0.0)
    assert np.array_equal(full, again)  # the adapter is unloaded after each call
    assert np.abs(full.astype(int) - none.astype(int)).mean() > 1.0
    with pytest.raises(Exception, match="trained model"):
        model(
            prompt="p",
            negative_prompt="",
            identity=None,
            seeds=[1],
            width=64,
            height=64,
            steps=1,
            guidance=1.0,
        )


def test_the_backend_trains_then_generates_under_the_commercial_profile(
    no_network, model_dir, astronaut_rgb
):
    from pipeline.config import PipelineConfig
    from pipeline.imaging import encode
    from pipeline.orchestrator import HeadshotPipeline
    from tests.pipeline.helpers import generate_from_one_photo
    from tests.pipeline.test_diffusion import tiny_preset

    config = PipelineConfig(
        generation_backend="diffusion",
        identity_method="lora",
        segmentation="grabcut",
        face_detector="hog",
        retouch_landmarks="five-point",  # the face mesh is not in the tiny models' folder
        model_dir=model_dir,
        min_usable_photos=1,
        diffusion_native_side=64,
        lora_steps=3,
        lora_resolution=64,
    )
    assert config.licence_profile == "commercial"  # SDXL and dlib only: cleared
    pipeline = HeadshotPipeline.from_config(config)
    stages = []
    result, enrollment = generate_from_one_photo(
        pipeline,
        encode(astronaut_rgb),
        tiny_preset(),
        progress=lambda percent, stage: stages.append((percent, stage)),
    )
    assert result.backend == "diffusion-sdxl-lora"
    assert isinstance(result.person_model, TrainedLora) and result.person_model.weights
    assert "train_s" in result.timings
    assert "training the person's model" in {stage for _, stage in stages}
    assert [percent for percent, _ in stages] == sorted(percent for percent, _ in stages)
    first = result.candidates[0]
    assert first.info["identity_method"] == "lora"
    # the next round with the same selfies reuses the stored model: nothing is trained
    again = pipeline.generate(
        preset=tiny_preset(),
        preset_version=1,
        selfies=[pipeline.load_selfie("a", encode(astronaut_rgb))],
        enrollment=enrollment,
        base_seed=1,
        person_model=result.person_model.weights,
    )
    assert again.person_model is None and "train_s" not in again.timings
    assert np.array_equal(again.candidates[0].pixels, first.pixels)


def test_a_stored_model_is_reused_only_for_what_it_was_made_from(model_dir):
    from pipeline.backends.lora import person_model_key
    from pipeline.config import PipelineConfig

    config = PipelineConfig(generation_backend="diffusion", model_dir=model_dir)
    key = person_model_key(config, ["3", "1", "2"])
    assert key is not None and key == person_model_key(config, ["1", "2", "3"])  # any order
    assert key != person_model_key(config, ["1", "2"])  # another set of photos
    longer = PipelineConfig(generation_backend="diffusion", model_dir=model_dir, lora_steps=900)
    assert key != person_model_key(longer, ["1", "2", "3"])  # other training
    (model_dir / "sdxl" / "unet" / "extra.safetensors").write_bytes(b"x")
    try:
        assert key != person_model_key(config, ["1", "2", "3"])  # another base model
    finally:
        (model_dir / "sdxl" / "unet" / "extra.safetensors").unlink()
    assert person_model_key(PipelineConfig(), ["1"]) is None  # the studio trains nothing
    faceid = PipelineConfig(generation_backend="diffusion", identity_method="faceid")
    assert person_model_key(faceid, ["1"]) is None


def test_a_bf16_base_trains_with_the_lora_in_float32(no_network):
    """The GPU worker holds SDXL in bf16 and trains on it: every input reaches the UNet
    in its own precision (the first GPU run stopped here on a float32 time embedding)."""
    import torch
    from diffusers import DDPMScheduler, UNet2DConditionModel

    from bench.sdxl_models import TINY_UNET

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**TINY_UNET).to(torch.bfloat16)
    config = unet.config
    pooled = config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim
    text = (
        torch.randn(1, 77, config.cross_attention_dim),
        torch.randn(1, pooled),
        torch.tensor([[64.0, 64.0, 0.0, 0.0, 64.0, 64.0]]),
    )
    latents = torch.randn(2, 4, 32, 32, dtype=torch.bfloat16)
    trainer = LoraTrainer.on_unet(unet, DDPMScheduler(), "cpu")
    weights, losses = trainer.fit(latents, text, LoraSettings(rank=4, alpha=4, steps=3))
    assert weights and len(losses) == 3 and all(np.isfinite(losses))
    assert all(p.dtype == torch.bfloat16 for p in unet.parameters())  # the base as it was
