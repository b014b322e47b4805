"""The face mesh and the retouch: on real photographs shipped in packages."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.backends.retouch import band_energy, retouch
from pipeline.errors import ModelMissing
from pipeline.faces.mesh import LEFT_EYE, RIGHT_EYE, FaceMesh, FaceRegions, regions


@pytest.fixture(scope="module")
def portrait(astronaut_rgb, analyzer):
    """The public-domain portrait at the size of a headshot's face (x3)."""
    big = cv2.resize(astronaut_rgb, None, fx=3, fy=3, interpolation=cv2.INTER_LANCZOS4)
    return big, analyzer.detect(big)[0]


def test_the_mesh_finds_the_eyes_the_face_backend_found_on_six_real_people(mesh, group, analyzer):
    faces = analyzer.detect(group)
    assert len(faces) == 6
    confident = 0
    for face in faces:
        points = mesh(group, face)
        if points.score < 0.5:
            continue  # a turned head: the retouch falls back for it (tested below)
        confident += 1
        left, right = face.eye_centres()
        mesh_right = points.points[list(RIGHT_EYE)].mean(axis=0)  # the person's right: image left
        mesh_left = points.points[list(LEFT_EYE)].mean(axis=0)
        assert np.linalg.norm(mesh_right - left) < 0.1 * points.iod
        assert np.linalg.norm(mesh_left - right) < 0.1 * points.iod
    assert confident >= 5


def test_a_missing_landmark_model_is_named_with_how_to_install(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        FaceMesh().load(tmp_path)
    assert str(tmp_path / "mediapipe" / "face_landmark.tflite") in caught.value.message
    assert "models install" in caught.value.message


def test_retouch_heals_spots_keeps_pores_and_moves_no_feature(mesh, portrait):
    pixels, face = portrait
    points = mesh(pixels, face)
    places = regions(points, pixels.shape)
    spotted = pixels.astype(np.float32).copy()
    rng = np.random.default_rng(3)
    ys, xs = np.nonzero(places.skin > 0.99)
    radius = max(2, round(points.iod / 25))
    centres = [(int(ys[i]), int(xs[i])) for i in rng.choice(len(ys), 10, replace=False)]
    for y, x in centres:  # small dark blemishes on the skin
        cv2.circle(spotted, (x, y), radius, (130, 70, 60), -1, lineType=cv2.LINE_AA)

    done = retouch(spotted, places, iod=points.iod, strength=0.25)

    def contrast(image: np.ndarray) -> float:
        ring = 3 * radius
        return float(
            np.mean(
                [
                    image[y - ring : y + ring, x - ring : x + ring].mean() - image[y, x].mean()
                    for y, x in centres
                ]
            )
        )

    assert contrast(done.pixels) < 0.25 * contrast(spotted)  # blemishes healed
    kept = band_energy(spotted, done.pixels, places, iod=points.iod, healed=done.spots)
    assert kept.fine >= 0.8  # pores and freckles kept
    assert kept.middle < 0.85  # and the skin evened
    # no pixel of an eye, brow, lip or nostril changes; no landmark moves
    core = places.features > 0.99
    assert np.abs(done.pixels[core] - spotted[core]).max() < 1.0
    after = mesh(np.clip(done.pixels, 0, 255).astype(np.uint8), face)
    assert np.abs(after.points - points.points).mean() < 0.01 * points.iod


def test_retouch_lifts_the_shadow_under_the_eyes_toward_the_skin_around(mesh, portrait):
    pixels, face = portrait
    points = mesh(pixels, face)
    places = regions(points, pixels.shape)
    shaded = pixels.astype(np.float32) * (1.0 - 0.3 * places.under_eyes[:, :, None])
    done = retouch(shaded, places, iod=points.iod, strength=0.5).pixels
    band = places.under_eyes > 0.9
    grow = round(points.iod * 0.3)
    near = cv2.dilate(band.astype(np.uint8), np.ones((grow, grow), np.uint8)) > 0
    ring = near & (places.under_eyes < 0.05) & (places.skin > 0.9)  # the cheeks just around
    assert band.sum() > 100 and ring.sum() > 100

    def gap(image: np.ndarray) -> float:
        return float(image[ring].mean() - image[band].mean())

    assert gap(shaded) > 10  # a shadow to lift
    assert gap(done) < 0.6 * gap(shaded)
    # the lift itself, beyond what evening the skin does anywhere
    no_band = FaceRegions(
        skin=places.skin, under_eyes=np.zeros_like(places.under_eyes), features=places.features
    )
    evened_only = retouch(shaded, no_band, iod=points.iod, strength=0.5).pixels
    assert gap(done) < 0.8 * gap(evened_only)


def test_no_strength_no_change(mesh, portrait):
    pixels, face = portrait
    points = mesh(pixels, face)
    image = pixels.astype(np.float32)
    assert np.array_equal(
        retouch(image, regions(points, pixels.shape), iod=points.iod, strength=0.0).pixels, image
    )


def test_a_generated_headshot_is_finished_as_the_studios_are(portrait, mesh):
    """The finishing the diffusion backend shares with the studio: colour graded to the
    preset, the skin retouched within its cap in the mesh's skin, eyes left as they were."""
    from pipeline.backends.finish import finish_generated
    from pipeline.presets import load_shipped

    pixels, face = portrait
    preset = load_shipped()["corporate-executive"]
    finished, info = finish_generated(pixels, face, preset, mesh)
    assert info == {"graded_to_k": preset.lighting.color_temperature_k, "retouch": mesh.name}
    places = regions(mesh(pixels, face), pixels.shape)
    iod = mesh(pixels, face).iod
    energy = band_energy(pixels.astype(np.float32), finished.astype(np.float32), places, iod=iod)
    assert energy.fine < 0.9  # fine skin texture softened
    unfinished, plain = finish_generated(pixels, None, preset, mesh)
    assert plain["retouch"] == "no face found" and unfinished.shape == pixels.shape
