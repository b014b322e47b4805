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
    depth_image,
    edge_image,
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


def test_the_depth_relief_is_nearest_at_the_face_and_black_round_the_person(face, preset):
    matrix = framing_matrix(face, preset, SIZE)
    depth = depth_image(face, matrix, SIZE.width, SIZE.height)[:, :, 0].astype(int)
    eyes = transform(five_points(face)[:2], matrix)
    centre = eyes.mean(axis=0)
    iod = float(np.hypot(*(eyes[1] - eyes[0])))
    x, y = (int(round(v)) for v in centre)
    face_depth = depth[y, x]
    assert face_depth > 200  # near
    # the shoulders are further than the face, nearer than the backdrop
    shoulder = depth[min(SIZE.height - 1, int(y + 4.2 * iod)), int(x + 2.2 * iod)]
    assert 40 < shoulder < face_depth
    # the backdrop beside the head, and above it, is black
    assert depth[y, max(0, int(x - 3.0 * iod))] == 0
    assert depth[0, :].max() == 0
    # the relief is smooth inside the head (its only step is the head's own edge)
    half = int(0.6 * iod)
    head = depth[y - half : y + half, x - half : x + half]
    assert np.abs(np.diff(head, axis=1)).max() <= 6


def test_the_edges_are_the_selfies_own_inside_the_head_and_none_outside(
    face, preset, astronaut_rgb
):
    import cv2

    matrix = framing_matrix(face, preset, SIZE)
    edges = edge_image(astronaut_rgb, face, matrix, SIZE.width, SIZE.height)[:, :, 0]
    eyes = transform(five_points(face)[:2], matrix)
    iod = float(np.hypot(*(eyes[1] - eyes[0])))
    x, y = (int(round(v)) for v in eyes.mean(axis=0))
    # the eyes, brows and mouth give edges; the backdrop (the flag, the suit's far side) none
    assert edges[y - int(iod) : y + int(1.5 * iod), x - int(iod) : x + int(iod)].mean() > 5
    assert edges[:, : max(1, int(x - 2.0 * iod))].max() == 0
    assert edges[min(SIZE.height - 1, int(y + 2.6 * iod)) :, :].max() == 0
    # they are the selfie's own: the same Canny on the framed selfie, where kept
    framed = cv2.warpAffine(
        astronaut_rgb,
        matrix,
        (SIZE.width, SIZE.height),
        flags=cv2.INTER_AREA,
        borderMode=cv2.BORDER_REPLICATE,
    )
    canny = cv2.Canny(
        cv2.GaussianBlur(cv2.cvtColor(framed, cv2.COLOR_RGB2GRAY), (3, 3), 0), 100, 200
    )
    kept = edges > 0
    assert kept.any() and np.array_equal(canny[kept], edges[kept])
