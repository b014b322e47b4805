"""The diffusion backend, loaded through the production code from tiny SDXL and
IP-Adapter FaceID components that the tests build, with every network socket refused."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ModelMissing, PipelineError
from tests.pipeline.helpers import generate_from_one_photo

pytest.importorskip("diffusers", reason="diffusers is not installed (make install adds it)")
pytest.importorskip(
    "torch", reason="torch is not installed (make install-torch adds the CPU build)"
)
import torch  # noqa: E402

from pipeline.backends.sdxl import (  # noqa: E402
    SCHEDULER_CLASSES,
    SDXLModel,
    batch_size_for,
    generation_size,
)
from pipeline.presets import SCHEDULERS  # noqa: E402
from tests.pipeline.tiny_sdxl import (  # noqa: E402
    build_adapters,
    build_controlnet,
    build_sdxl,
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("diffusion-models")
    sdxl = build_sdxl(folder)
    build_adapters(folder, sdxl)  # every zero-shot method's files, InstantID's IdentityNet too
    build_controlnet(folder / "controlnet" / "pose", sdxl, seed=4)
    build_controlnet(folder / "controlnet" / "depth", sdxl, seed=6)
    build_controlnet(folder / "controlnet" / "edge", sdxl, seed=8)
    return folder


@pytest.fixture
def backend(no_network, model_dir):
    return SDXLModel().load(model_dir)


@pytest.fixture
def controlled(no_network, model_dir):
    # InstantID: IdentityNet on the keypoints, and the pose ControlNet configured
    return SDXLModel(identity_method="instantid", controlnets=("pose",), batch_size=2).load(
        model_dir
    )


def identity(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=512)
    return vector / np.linalg.norm(vector)


def run(backend, who: np.ndarray, seed: int, **options) -> np.ndarray:
    return runs(backend, who, [seed], **options)[0]


def runs(backend, who: np.ndarray, seeds: list[int], **options) -> list[np.ndarray]:
    options = {"identity_strength": 1.0, "scheduler": "euler", **options}
    return backend(
        prompt="portrait of a person",
        negative_prompt="blurry",
        identity=who,
        seeds=seeds,
        width=64,
        height=64,
        steps=2,
        guidance=5.0,
        **options,
    )


def differs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


BLACK = np.zeros((64, 64, 3), dtype=np.uint8)
SQUARE = BLACK.copy()
SQUARE[20:40, 24:40] = 255


def test_two_steps_on_the_cpu_give_an_image(backend):
    image = run(backend, identity(0), seed=7)
    assert image.shape == (64, 64, 3) and image.dtype == np.uint8 and backend.identity_dim == 512


def test_same_seed_reproduces_and_the_identity_changes_the_image(backend):
    first, again = run(backend, identity(0), 7), run(backend, identity(0), 7)
    assert np.array_equal(first, again)
    assert differs(first, run(backend, identity(1), 7)) > 0.5
    assert differs(first, run(backend, identity(0), 7, identity_strength=0.2)) > 0.5


def test_every_preset_scheduler_is_known_and_changes_the_sampling(backend):
    assert set(SCHEDULERS) == set(SCHEDULER_CLASSES)
    images = {name: run(backend, identity(0), 7, scheduler=name) for name in SCHEDULERS}
    assert differs(images["euler"], images["dpmpp_2m_karras"]) > 0.5
    assert differs(images["euler"], images["ddim"]) > 0.5
    run(backend, identity(0), 7, scheduler="dpmpp_2m_karras")
    scheduler = backend._pipe.scheduler
    assert type(scheduler).__name__ == "DPMSolverMultistepScheduler"
    assert scheduler.config.use_karras_sigmas


def test_the_keypoint_image_steers_the_result_and_a_zero_weight_pose_does_not(
    no_network, controlled
):
    base = run(
        controlled, identity(0), 7, control={"keypoints": (BLACK, 1.0), "pose": (BLACK, 0.0)}
    )
    moved = run(
        controlled, identity(0), 7, control={"keypoints": (SQUARE, 1.0), "pose": (BLACK, 0.0)}
    )
    idle = run(
        controlled, identity(0), 7, control={"keypoints": (BLACK, 1.0), "pose": (SQUARE, 0.0)}
    )
    posed = run(
        controlled, identity(0), 7, control={"keypoints": (BLACK, 1.0), "pose": (SQUARE, 1.0)}
    )
    assert differs(base, moved) > 0.5 and differs(base, posed) > 0.5
    assert np.array_equal(base, idle)


def test_control_images_must_match_the_configured_controlnets(controlled):
    with pytest.raises(PipelineError, match="ControlNets loaded are"):
        run(controlled, identity(0), 7, control={"keypoints": (BLACK, 1.0)})


def test_a_batch_gives_the_images_of_its_seeds_one_by_one(controlled):
    control = {"keypoints": (SQUARE, 0.8), "pose": (BLACK, 0.0)}
    batched = runs(controlled, identity(0), [7, 8, 9], control=control)
    alone = [run(controlled, identity(0), seed, control=control) for seed in (7, 8, 9)]
    assert len(batched) == 3
    for together, single in zip(batched, alone, strict=True):
        assert differs(together, single) < 0.5


def test_out_of_memory_splits_the_batch_instead_of_failing(controlled, monkeypatch):
    pipe = controlled._pipe
    calls = []

    class TightMemory:
        def __getattr__(self, name):
            return getattr(pipe, name)

        def __setattr__(self, name, value):
            setattr(pipe, name, value)

        def __call__(self, **kwargs):
            calls.append(kwargs["num_images_per_prompt"])
            if kwargs["num_images_per_prompt"] > 1:
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return pipe(**kwargs)

    monkeypatch.setattr(controlled, "_pipe", TightMemory())
    control = {"keypoints": (SQUARE, 0.8), "pose": (BLACK, 0.0)}
    images = runs(controlled, identity(0), [7, 8], control=control)
    assert calls == [2, 1, 1] and len(images) == 2


def test_batch_size_follows_free_memory():
    gib = 2**30
    assert batch_size_for(80 * gib, 1024, 1024) == 8
    assert batch_size_for(8 * gib, 1024, 1024) == 4
    assert batch_size_for(3 * gib, 1024, 1024) == 1
    assert batch_size_for(1 * gib, 1024, 1024) == 1  # never zero: the split handles the rest
    assert batch_size_for(8 * gib, 512, 512) == 8


def test_generation_size_keeps_the_aspect_and_the_native_resolution():
    assert generation_size(2048, 2048, 1024) == (1024, 1024)
    assert generation_size(1600, 2000, 1024) == (832, 1024)
    assert generation_size(512, 640, 1024) == (512, 640)


def test_a_128_d_dlib_embedding_is_refused_with_a_reason(backend):
    with pytest.raises(PipelineError, match="512-d ArcFace"):
        run(backend, np.ones(128) / np.sqrt(128), 1)


def test_missing_weights_are_named(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        SDXLModel().load(tmp_path)
    assert str(tmp_path / "sdxl" / "model_index.json") in caught.value.message
    assert "ip-adapter-faceid_sdxl.bin" in caught.value.message


def test_a_configured_controlnet_that_is_missing_is_named(model_dir, tmp_path):
    import shutil

    shutil.copytree(model_dir / "sdxl", tmp_path / "sdxl")
    shutil.copytree(model_dir / "ip-adapter", tmp_path / "ip-adapter")
    with pytest.raises(ModelMissing) as caught:
        SDXLModel(controlnets=("pose",)).load(tmp_path)
    assert str(tmp_path / "controlnet" / "pose" / "config.json") in caught.value.message
    assert "HEADSHOTS_CONTROLNETS" in caught.value.message
    with pytest.raises(PipelineError, match="Unknown ControlNet"):
        SDXLModel(controlnets=("canny",))


@pytest.fixture
def insightface_pack(model_dir, astronaut_rgb, analyzer):
    """Tiny SCRFD and ArcFace models that find the astronaut's face (512-d identity)."""
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
    return folder


def tiny_preset(**generation):
    from pipeline.presets import BrandPreset, load_shipped

    data = load_shipped()["corporate-executive"].model_dump(mode="json")
    data["generation"].update({"steps": 2, "variations": 2, "scheduler": "euler", **generation})
    data["outputs"] = [
        {"name": "print", "width": 128, "height": 128, "format": "jpeg"},
        {"name": "tiny", "width": 64, "height": 64, "format": "jpeg"},
    ]
    return BrandPreset.from_mapping(data)


def diffusion_pipeline(model_dir, **options):
    from pipeline.orchestrator import HeadshotPipeline, PipelineConfig

    config = PipelineConfig(
        face_backend="insightface",
        generation_backend="diffusion",
        licence_profile="research",  # the FaceID adapters and insightface's packs
        segmentation="grabcut",
        model_dir=model_dir,
        min_usable_photos=1,
        diffusion_native_side=64,
        retouch_landmarks="five-point",  # the face mesh is not in the tiny models' folder
        **options,
    )
    return HeadshotPipeline.from_config(config)


def test_the_pipeline_generates_with_diffusion_when_configured(
    no_network, model_dir, insightface_pack, astronaut_rgb
):
    """End to end on tiny models: insightface (512-d identity), SDXL with InstantID (its
    adapter, and IdentityNet on the keypoints), the pose ControlNet, generation at the
    native size, then upscaling."""
    from io import BytesIO

    from PIL import Image

    from pipeline.imaging import encode
    from pipeline.provenance import TRAINED_ALGORITHMIC_MEDIA, read_digital_source_type

    preset = tiny_preset(spatial_control=0.5, identity_strength=0.9)
    pipeline = diffusion_pipeline(model_dir, identity_method="instantid", controlnets=("pose",))
    stages = []
    result, enrollment = generate_from_one_photo(
        pipeline,
        encode(astronaut_rgb),
        preset,
        preset_version=3,
        base_seed=11,
        attributes={"skin_tone": "light"},
        progress=lambda percent, stage: stages.append((percent, stage)),
    )
    assert result.backend == "diffusion-sdxl-instantid"
    assert [c.seed for c in result.candidates] == [11, 12]
    first = result.candidates[0]
    assert first.pixels.shape == (128, 128, 3) and "light skin tone" in first.prompt
    assert first.info["generated_size"] == [64, 64] and first.info["upscaler"] == "lanczos"
    assert first.info["controlnets"] == {"keypoints": 0.9, "pose": 0.5}
    assert first.info["scheduler"] == "euler" and first.info["precision"] == "float32"
    # finished as the studio's headshots are: colour always, retouch where a face is found
    assert first.info["finish"]["graded_to_k"] == preset.lighting.color_temperature_k
    assert first.info["finish"]["retouch"] in {"five-point", "no face found"}
    assert [stage for _, stage in stages][-1] == "checking identity"
    assert [percent for percent, _ in stages] == sorted(percent for percent, _ in stages)
    xmp = Image.open(BytesIO(first.encoded)).info["xmp"]
    assert read_digital_source_type(xmp) == TRAINED_ALGORITHMIC_MEDIA
    # generation was conditioned on ArcFace: dlib gives the second, independent opinion
    assert result.identity_check is not None
    assert result.identity_check.analyzer.name == "dlib-resnet-v1"
    ranking = pipeline.select(result, preset=preset, enrollment=enrollment)
    assert len(ranking) == 2
    for item in ranking:
        assert "identity_check" in item.scores
        # tiny random models draw no face: the second model says so
        assert not item.accepted and item.reason


def test_a_preset_asking_for_spatial_control_needs_the_pose_controlnet(
    no_network, model_dir, insightface_pack, astronaut_rgb
):
    from pipeline.imaging import encode

    pipeline = diffusion_pipeline(model_dir, identity_method="faceid")
    with pytest.raises(PipelineError, match="pose ControlNet") as caught:
        generate_from_one_photo(pipeline, encode(astronaut_rgb), tiny_preset(spatial_control=0.6))
    assert caught.value.code == "model_missing"


def test_a_preset_chooses_among_the_identity_methods_the_installation_offers(
    no_network, model_dir, insightface_pack, astronaut_rgb
):
    """The worker's default is FaceID; it also offers Plus Face, loaded when a style asks."""
    from pipeline.imaging import encode

    pipeline = diffusion_pipeline(
        model_dir, identity_method="faceid", identity_methods=("plus-face",)
    )
    default, _ = generate_from_one_photo(pipeline, encode(astronaut_rgb), tiny_preset())
    chosen, _ = generate_from_one_photo(
        pipeline, encode(astronaut_rgb), tiny_preset(identity_method="plus-face")
    )
    assert default.backend == "diffusion-sdxl-faceid" and default.identity_method == "faceid"
    assert chosen.backend == "diffusion-sdxl-plus-face"
    assert chosen.candidates[0].info["identity_method"] == "plus-face"
    with pytest.raises(PipelineError, match="does not offer.*faceid, plus-face") as caught:
        generate_from_one_photo(
            pipeline, encode(astronaut_rgb), tiny_preset(identity_method="instantid")
        )
    assert "HEADSHOTS_IDENTITY_METHODS" in caught.value.message


def test_an_offered_method_whose_files_are_missing_is_named_at_start(
    model_dir, insightface_pack, tmp_path
):
    import shutil

    shutil.copytree(model_dir / "insightface", tmp_path / "insightface")
    shutil.copytree(model_dir / "sdxl", tmp_path / "sdxl")
    shutil.copytree(model_dir / "ip-adapter", tmp_path / "ip-adapter")
    pipeline = diffusion_pipeline(
        tmp_path, identity_method="faceid", identity_methods=("instantid",)
    )
    with pytest.raises(ModelMissing) as caught:
        pipeline.backend()  # what a worker builds at boot, before its first job
    assert str(tmp_path / "instantid" / "ip-adapter.bin") in caught.value.message


def test_depth_and_edge_controlnets_get_their_drawings_at_the_presets_weights(
    no_network, model_dir, insightface_pack, astronaut_rgb
):
    from pipeline.imaging import encode

    pipeline = diffusion_pipeline(
        model_dir, identity_method="faceid", controlnets=("depth", "edge")
    )
    steered, _ = generate_from_one_photo(
        pipeline, encode(astronaut_rgb), tiny_preset(depth_control=0.5, edge_control=0.7)
    )
    assert steered.candidates[0].info["controlnets"] == {"depth": 0.5, "edge": 0.7}
    idle, _ = generate_from_one_photo(
        pipeline, encode(astronaut_rgb), tiny_preset(depth_control=0.0, edge_control=0.0)
    )
    assert differs(steered.candidates[0].pixels, idle.candidates[0].pixels) > 0.5
    # a style asking for a ControlNet the worker lacks is told which, and how to add it
    plain = diffusion_pipeline(model_dir, identity_method="faceid")
    with pytest.raises(PipelineError, match="edge ControlNet.*HEADSHOTS_CONTROLNETS"):
        generate_from_one_photo(plain, encode(astronaut_rgb), tiny_preset(edge_control=0.4))


def test_the_variations_are_shared_between_the_presets_look_and_its_styles(
    no_network, model_dir, insightface_pack, astronaut_rgb
):
    from pipeline.imaging import encode

    styles = [
        {"name": "Navy suit", "attire": "a navy suit and white shirt"},
        {"name": "City", "backdrop": "a softly blurred city street", "lighting": "window light"},
    ]
    pipeline = diffusion_pipeline(model_dir, identity_method="faceid")
    result, _ = generate_from_one_photo(
        pipeline, encode(astronaut_rgb), tiny_preset(variations=5, styles=styles), base_seed=40
    )
    candidates = result.candidates
    assert [c.seed for c in candidates] == [40, 41, 42, 43, 44]
    assert [c.info.get("style", "") for c in candidates] == [
        "",
        "Navy suit",
        "City",
        "",
        "Navy suit",
    ]
    assert "navy suit and white shirt" in candidates[1].prompt
    assert "navy suit" not in candidates[0].prompt and "city street" in candidates[2].prompt
    assert "window light" in candidates[2].prompt
    # each image comes from its own seed and prompt: the same seed alone gives the same image
    alone, _ = generate_from_one_photo(
        pipeline,
        encode(astronaut_rgb),
        tiny_preset(variations=1, styles=[]),
        base_seed=43,
    )
    assert differs(alone.candidates[0].pixels, candidates[3].pixels) == 0
