from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from pipeline.backends.studio_looks import hex_to_rgb
from pipeline.backends.studio_renderer import StudioRenderer
from pipeline.faces import cosine
from pipeline.imaging import encode, fit_output
from pipeline.presets import load_shipped
from pipeline.provenance import COMPOSITE_SYNTHETIC, read_digital_source_type, xmp_packet


@pytest.fixture(scope="module")
def rendered(analyzer, astronaut_rgb, segmenter):
    face = analyzer.detect(astronaut_rgb)[0]
    outputs = {}
    for slug, preset in load_shipped().items():
        outputs[slug] = (
            preset,
            StudioRenderer(preset, segmenter=segmenter)(astronaut_rgb, face, seed=11),
        )
    return outputs


def test_uses_the_segmentation_model(rendered):
    for _, result in rendered.values():
        assert result.segmentation == "mediapipe-selfie-segmentation"


def test_keeps_the_hair(analyzer, rendered):
    """Above the forehead, inside the head's width, the output is hair, not backdrop."""
    preset, result = rendered["legal-professional"]
    backdrop = hex_to_rgb(preset.backdrop.colors[0])
    face = analyzer.detect(result.pixels)[0]
    left, right = face.eye_centres()
    iod = float(right[0] - left[0])
    centre_x = int((left[0] + right[0]) / 2)
    top = int(left[1] - 1.3 * iod)
    crown = result.pixels[
        top - 10 : top + 10, centre_x - int(0.5 * iod) : centre_x + int(0.5 * iod)
    ]
    distance = np.linalg.norm(crown.reshape(-1, 3).astype(np.float32) - backdrop, axis=1)
    assert (distance > 40).mean() > 0.9


def test_grabcut_fallback_without_the_model(analyzer, astronaut_rgb):
    preset = load_shipped()["legal-professional"]
    result = StudioRenderer(preset)(astronaut_rgb, analyzer.detect(astronaut_rgb)[0], seed=11)
    assert result.segmentation in {"grabcut", "geometric"}
    corner = result.pixels[:40, :40].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - hex_to_rgb(preset.backdrop.colors[0])).max() < 3.0


def test_renders_the_primary_output_size(rendered):
    for preset, result in rendered.values():
        size = preset.primary_output
        assert result.pixels.shape == (size.height, size.width, 3)


def test_solid_backdrop_matches_the_preset_colour(rendered):
    preset, result = rendered["legal-professional"]
    expected = hex_to_rgb(preset.backdrop.colors[0])
    corners = [result.pixels[:40, :40], result.pixels[:40, -40:]]
    for corner in corners:
        assert np.abs(corner.reshape(-1, 3).mean(axis=0) - expected).max() < 3.0


def test_gradient_backdrop_runs_between_its_colours(rendered):
    preset, result = rendered["healthcare-professional"]
    top, bottom = (hex_to_rgb(c) for c in preset.backdrop.colors)
    assert np.abs(result.pixels[:10, :30].reshape(-1, 3).mean(axis=0) - top).max() < 6.0
    assert result.pixels[:10, :30].mean() > result.pixels[600:610, :30].mean()  # lighter at the top
    assert np.abs(bottom - top).max() > 20


def test_face_sits_where_the_framing_says(analyzer, rendered):
    for preset, result in rendered.values():
        face = analyzer.detect(result.pixels)[0]
        left, right = face.eye_centres()
        height, width = result.pixels.shape[:2]
        eye_line = (left[1] + right[1]) / 2 / height
        assert eye_line == pytest.approx(preset.framing.eye_line, abs=0.03)
        assert (left[0] + right[0]) / 2 / width == pytest.approx(0.5, abs=0.03)
        assert abs(left[1] - right[1]) < 0.01 * height  # eyes level


def test_keeps_the_identity(analyzer, astronaut_rgb, rendered):
    source = analyzer.embed(astronaut_rgb, analyzer.detect(astronaut_rgb)[0])
    for _, result in rendered.values():
        output = analyzer.embed(result.pixels, analyzer.detect(result.pixels)[0])
        assert cosine(source, output) > analyzer.same_person_threshold


@pytest.mark.parametrize("with_model", [True, False])
def test_same_seed_reproduces_and_other_seeds_vary(analyzer, astronaut_rgb, segmenter, with_model):
    preset = load_shipped()["corporate-executive"]
    face = analyzer.detect(astronaut_rgb)[0]
    renderer = StudioRenderer(preset, segmenter=segmenter if with_model else None)
    first, again, other = (renderer(astronaut_rgb, face, seed=s).pixels for s in (3, 3, 4))
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)


def test_output_carries_provenance_and_no_input_metadata(rendered):
    preset, result = rendered["corporate-executive"]
    xmp = xmp_packet(
        digital_source_type=COMPOSITE_SYNTHETIC,
        generator=StudioRenderer.name,
        preset=preset.slug,
        preset_version=3,
        seed=11,
    )
    image = Image.open(io.BytesIO(encode(result.pixels, xmp=xmp)))
    assert read_digital_source_type(image.info["xmp"]) == COMPOSITE_SYNTHETIC
    assert b'hs:presetVersion="3"' in image.info["xmp"]
    assert not image.getexif()


def test_fit_output_keeps_head_room(rendered):
    preset, result = rendered["corporate-executive"]
    square = preset.outputs[1]
    fitted = fit_output(result.pixels, square)
    assert fitted.shape == (square.height, square.width, 3)
    assert np.abs(fitted[:5].astype(int) - result.pixels[:5].astype(int)).mean() < 12


def test_a_colour_cast_selfie_is_brought_back_to_the_enrolled_skin(
    analyzer, astronaut_rgb, selfies, segmenter
):
    from pipeline.backends.studio_renderer import measure_skin
    from pipeline.imaging import decode_image

    preset = load_shipped()["legal-professional"]
    enrolled = measure_skin(astronaut_rgb, analyzer.detect(astronaut_rgb)[0])
    warm = decode_image(selfies["selfie-04-warm.jpg"], max_bytes=10**8, max_pixels=10**8).pixels
    face = analyzer.detect(warm)[0]
    renderer = StudioRenderer(preset, segmenter=segmenter)

    def skin_error(result) -> float:
        return float(
            np.linalg.norm(
                measure_skin(result.pixels, analyzer.detect(result.pixels)[0]) - enrolled
            )
        )

    uncorrected = skin_error(renderer(warm, face, seed=2))
    corrected = skin_error(renderer(warm, face, seed=2, skin_target=list(enrolled)))
    assert corrected < 4.0 < uncorrected


def test_framing_does_not_depend_on_the_detectors_box(analyzer, astronaut_rgb, segmenter):
    from pipeline.faces import Face

    face = analyzer.detect(astronaut_rgb)[0]
    x0, y0, x1, y1 = face.box
    taller = Face(
        box=(x0, y0 - 25, x1, y1 + 10), score=face.score, landmarks=face.landmarks
    )  # as SCRFD draws it
    renderer = StudioRenderer(load_shipped()["corporate-executive"], segmenter=segmenter)
    assert np.array_equal(
        renderer(astronaut_rgb, face, seed=4).pixels, renderer(astronaut_rgb, taller, seed=4).pixels
    )


LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _tungsten(pixels: np.ndarray, kelvin: float = 3200) -> np.ndarray:
    """The same scene under a warm lamp: each channel scaled as a black body's light of
    ``kelvin`` against daylight, the luminance kept (a camera meters the same scene)."""
    from pipeline.backends.studio_looks import kelvin_to_rgb

    cast = kelvin_to_rgb(kelvin) / kelvin_to_rgb(6000)
    lit = pixels.astype(np.float32) * cast
    lit *= float((pixels.astype(np.float32) @ LUMA).mean() / (lit @ LUMA).mean())
    return np.clip(lit + 0.5, 0, 255).astype(np.uint8)


def test_a_tungsten_cast_is_corrected_to_the_presets_light(analyzer, astronaut_rgb, segmenter):
    """The same person under tungsten and under daylight: skin on the output within
    delta E 3 of each other, where the cast itself is far more."""
    from pipeline.faces.regions import LEFT_CHEEK, RIGHT_CHEEK, FaceFrame, lab

    def skin(pixels: np.ndarray) -> np.ndarray:
        frame = FaceFrame.of(analyzer.detect(pixels)[0])
        cheeks = np.concatenate(
            [frame.pixels(pixels, LEFT_CHEEK), frame.pixels(pixels, RIGHT_CHEEK)]
        )
        return lab(cheeks[None, :, :])[0].mean(axis=0)

    # The daylight photo a little darker, so that the lamp's red does not clip on the skin.
    daylight = (astronaut_rgb.astype(np.float32) * 0.8).astype(np.uint8)
    warm = _tungsten(daylight)
    assert int(warm[..., 0].max()) < 255
    assert np.linalg.norm(skin(warm) - skin(daylight)) > 10  # a visible cast going in
    preset = load_shipped()["corporate-executive"]
    face = analyzer.detect(astronaut_rgb)[0]
    renderer = StudioRenderer(preset, segmenter=segmenter)
    daylight_out = renderer(daylight, face, seed=3).pixels
    tungsten_out = renderer(warm, face, seed=3).pixels
    assert np.linalg.norm(skin(tungsten_out) - skin(daylight_out)) < 3.0


def test_a_matte_that_clips_the_head_is_never_offered(analyzer, astronaut_rgb, portrait_enrolled):
    """GrabCut (the fallback without the segmentation model) loses the sides of this
    portrait's hair: the render says so, and selection holds it back with that reason."""
    from pipeline.selection import CandidateSelector

    preset = load_shipped()["legal-professional"]
    face = analyzer.detect(astronaut_rgb)[0]
    clipped = StudioRenderer(preset, segmenter=None)(astronaut_rgb, face, seed=5)
    assert clipped.segmentation == "grabcut" and "clips the top of your head" in clipped.problem
    identity, enrolled = portrait_enrolled
    ranking = CandidateSelector(analyzer, identity_threshold=analyzer.same_person_threshold)(
        {"c01": clipped.pixels}, identity, preset, enrolled, problems={"c01": clipped.problem}
    )
    assert not ranking[0].accepted and "clips the top of your head" in ranking[0].reason


def test_the_model_matte_keeps_the_whole_head_and_has_soft_hair_edges(
    analyzer, astronaut_rgb, segmenter
):
    import cv2

    from pipeline.backends.matting import clips_the_head

    preset = load_shipped()["legal-professional"]
    face = analyzer.detect(astronaut_rgb)[0]
    result = StudioRenderer(preset, segmenter=segmenter)(astronaut_rgb, face, seed=5)
    assert result.problem == ""
    # a cut head is caught, a whole one is not
    height, width = 400, 300
    eyes = (np.array([120.0, 200.0]), np.array([180.0, 200.0]))
    whole = np.zeros((height, width), np.float32)
    cv2.ellipse(whole, (150, 170), (90, 120), 0, 0, 360, 1.0, -1)
    assert not clips_the_head(whole, eyes)
    flat_top = whole.copy()
    flat_top[:150] = 0.0  # the crown cut off flat, just above the eyebrows
    assert clips_the_head(flat_top, eyes)


@pytest.fixture(scope="module")
def portrait_enrolled(analyzer, astronaut_rgb):
    from pipeline.checks.attributes import measure

    face = analyzer.detect(astronaut_rgb)[0]
    return analyzer.embed(astronaut_rgb, face), measure(astronaut_rgb, face).as_dict()
