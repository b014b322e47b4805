"""Control images: drawn where the preset's framing puts the face, in the conventions
the ControlNets were trained on."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.backends.conditioning import (
    KEYPOINT_COLOURS,
    NECK,
    NOSE,
    POSE_COLOURS,
    R_SHOULDER,
    five_points,
    keypoint_image,
    pose_image,
    pose_points,
    transform,
)
from pipeline.backends.framing import framing_matrix
from pipeline.faces import Face
from pipeline.presets import OutputSize, load_shipped

SIZE = OutputSize(name="generation", width=512, height=640)


@pytest.fixture(scope="module")
def face(analyzer, astronaut_rgb):
    return analyzer.detect(astronaut_rgb)[0]


@pytest.fixture(scope="module")
def preset():
    return load_shipped()["corporate-executive"]


def test_five_points_keep_the_measured_eyes_and_put_the_mouth_below_the_nose(face):
    points = five_points(face)
    left, right = face.eye_centres()
    assert np.allclose(points[0], left) and np.allclose(points[1], right)
    eye_y = (left[1] + right[1]) / 2
    assert eye_y < points[2][1] < points[3][1] and points[3][0] < points[4][0]
    # the dlib nose point (below the nose) lies near the template's nose tip
    assert np.hypot(*(points[2] - face.nose())) < 0.35 * np.hypot(*(right - left))


def test_scrfd_keypoints_are_used_as_measured():
    landmarks = np.array([[60.0, 50], [30, 50], [45, 65], [55, 80], [35, 80]])  # mirrored order
    face = Face(box=(10, 10, 90, 100), score=0.9, landmarks=landmarks, scheme="arcface5")
    points = five_points(face)
    assert points[0][0] == 30 and points[1][0] == 60 and points[3][0] == 35


def test_keypoints_land_on_the_preset_eye_line(face, preset):
    matrix = framing_matrix(face, preset, SIZE)
    image = keypoint_image(face, matrix, SIZE.width, SIZE.height)
    eyes = transform(five_points(face)[:2], matrix)
    assert abs(eyes[:, 1].mean() - preset.framing.eye_line * SIZE.height) < 1.0
    assert abs(eyes[:, 0].mean() - SIZE.width / 2) < 1.0
    for point, colour in zip(transform(five_points(face), matrix), KEYPOINT_COLOURS, strict=True):
        x, y = (int(round(v)) for v in point)
        assert tuple(image[y, x]) == colour
    # black away from the face
    assert image[:40, :40].max() == 0 and image[-40:, :].max() == 0


def test_pose_has_the_neck_under_the_nose_and_shoulders_to_the_sides(face, preset):
    matrix = framing_matrix(face, preset, SIZE)
    image = pose_image(face, matrix, SIZE.width, SIZE.height)
    points = {k: transform(v[None, :], matrix)[0] for k, v in pose_points(face).items()}
    assert points[NECK][1] > points[NOSE][1] + 20
    assert abs(points[NECK][0] - points[NOSE][0]) < 10
    assert points[R_SHOULDER][0] < points[NECK][0] - 60
    for index in (NOSE, NECK):
        x, y = (int(round(v)) for v in points[index])
        assert tuple(image[y, x]) == POSE_COLOURS[index]
    assert image[:20, :].max() == 0


def test_a_tilted_selfie_gives_level_keypoints(face, preset, astronaut_rgb):
    """The framing levels the eyes, so the control image does too."""
    import cv2

    height, width = astronaut_rgb.shape[:2]
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), 12, 1.0)
    tilted = Face(
        box=face.box,
        score=face.score,
        landmarks=transform(face.landmarks, rotation),
        scheme=face.scheme,
    )
    matrix = framing_matrix(tilted, preset, SIZE)
    eyes = transform(five_points(tilted)[:2], matrix)
    assert abs(eyes[0][1] - eyes[1][1]) < 0.5
