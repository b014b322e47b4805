"""The face-preserving mode on tiny SDXL inpainting components the tests build, loaded
through the production code with every network socket refused: the person's own face is
kept pixel for pixel, everything round it is generated, and the seam's harmonisation
moves the face's colour by a bounded amount only."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("diffusers", reason="diffusers is not installed (make install-torch adds it)")

from pipeline.backends.framing import framing_matrix  # noqa: E402
from pipeline.backends.keep_face import (  # noqa: E402
    HARMONY_MAX_DELTA_E,
    composite,
    face_masks,
    harmonise,
)
from pipeline.backends.sdxl import SDXLModel  # noqa: E402
from pipeline.presets import BrandPreset, OutputSize, load_shipped  # noqa: E402
from tests.pipeline.tiny_sdxl import build_sdxl  # noqa: E402

SIZE = 256


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keep-face-models")
    build_sdxl(folder, inpainting=True)
    return folder


def preset() -> BrandPreset:
    data = load_shipped()["corporate-executive"].model_dump(mode="json")
    data["generation"].update(steps=2, variations=2, scheduler="euler")
    data["outputs"] = [{"name": "print", "width": 512, "height": 512, "format": "jpeg"}]
    return BrandPreset.from_mapping(data)


@pytest.fixture(scope="module")
def framed(astronaut_rgb, analyzer):
    import cv2

    face = analyzer.detect(astronaut_rgb)[0]
    size = OutputSize(name="generation", width=SIZE, height=SIZE)
    matrix = framing_matrix(face, preset(), size)
    picture = cv2.warpAffine(
        astronaut_rgb, matrix, (SIZE, SIZE), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE
    )
    eyes = tuple(matrix @ np.array([p[0], p[1], 1.0]) for p in face.eye_centres())
    return picture, eyes


def test_the_core_holds_eyes_nose_and_mouth_and_leaves_hair_and_backdrop_to_the_model(framed):
    picture, (left, right) = framed
    kept, repaint = face_masks((left, right), (SIZE, SIZE))
    iod = float(np.linalg.norm(right - left))
    down = np.array([0.0, 1.0])
    for point in (
        left,
        right,
        (left + right) / 2 + 0.6 * iod * down,
        (left + right) / 2 + iod * down,
    ):
        x, y = np.round(point).astype(int)
        assert kept[y, x] == 1.0 and repaint[y, x] == 0
    crown = np.round((left + right) / 2 - 1.4 * iod * down).astype(int)
    assert kept[crown[1], crown[0]] == 0.0 and repaint[crown[1], crown[0]] == 255
    assert repaint[0, 0] == 255 and repaint[-1, -1] == 255


def test_the_face_is_kept_exactly_and_everything_round_it_is_generated(
    no_network, model_dir, framed
):
    picture, eyes = framed
    kept, repaint = face_masks(eyes, (SIZE, SIZE))
    model = SDXLModel(identity_method="keep-face").load(model_dir)
    assert model.name == "diffusion-sdxl-keep-face"
    generated = model(
        prompt="a professional headshot, navy suit",
        negative_prompt="blurry",
        identity=None,
        seeds=[3],
        width=SIZE,
        height=SIZE,
        steps=2,
        guidance=5.0,
        scheduler="euler",
        source=(picture, repaint),
    )[0]
    result = composite(generated, picture, kept)
    core = kept == 1.0
    assert np.array_equal(result[core], picture[core])  # before harmonisation: untouched
    away = kept == 0.0
    assert np.abs(result[away].astype(int) - picture[away].astype(int)).mean() > 5.0
    harmonised, delta_e = harmonise(result, picture, kept, eyes)
    assert 0.0 <= delta_e <= HARMONY_MAX_DELTA_E
    assert np.array_equal(harmonised[away], result[away])  # only the face's colour moves
    with pytest.raises(Exception, match="framed selfie"):
        model(
            prompt="p",
            negative_prompt="",
            identity=None,
            seeds=[1],
            width=SIZE,
            height=SIZE,
            steps=1,
            guidance=1.0,
        )


def test_the_backend_keeps_the_persons_face_under_the_commercial_profile(
    no_network, model_dir, astronaut_rgb, analyzer
):
    """Through the pipeline's one door: SDXL inpainting and dlib only, so the commercial
    profile loads it; the headshot's face is the person's own, as the identity gate sees."""
    from pipeline.config import PipelineConfig
    from pipeline.faces import cosine
    from pipeline.imaging import encode
    from pipeline.orchestrator import HeadshotPipeline
    from tests.pipeline.helpers import generate_from_one_photo

    config = PipelineConfig(
        generation_backend="diffusion",
        identity_method="keep-face",
        face_detector="hog",
        retouch_landmarks="five-point",  # the face mesh is not in the tiny models' folder
        segmentation="grabcut",
        model_dir=model_dir,
        min_usable_photos=1,
        diffusion_native_side=SIZE,
    )
    from pipeline.tools import manifest

    assert config.licence_profile == "commercial" and manifest.licence_problems(config) == []
    assert {"sdxl-inpaint"} <= manifest.enabled_models(config)
    assert "sdxl-base" not in manifest.enabled_models(config)
    pipeline = HeadshotPipeline.from_config(config)
    result, enrollment = generate_from_one_photo(pipeline, encode(astronaut_rgb), preset())
    assert result.backend == "diffusion-sdxl-keep-face" and len(result.candidates) == 2
    for candidate in result.candidates:
        assert candidate.pixels.shape == (512, 512, 3)
        assert 0.0 <= candidate.info["face_harmonised_delta_e"] <= HARMONY_MAX_DELTA_E
        faces = analyzer.detect(candidate.pixels)
        assert faces, "the kept face is found in the headshot"
        similarity = cosine(enrollment.embedding, analyzer.embed(candidate.pixels, faces[0]))
        assert similarity > analyzer.same_person_threshold
