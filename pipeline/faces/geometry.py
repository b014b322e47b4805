"""Face geometry from landmarks: head pose, eye openness, aligned crops, and the head's
outline (crown to chin) round the eyes."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.faces.analysis import Face

# The head's outline round the point between the eyes, in eye distances: the crown (hair
# included) 1.5 above the eye line, the chin 1.8 below, ears and hair 1.15 to each side.
HEAD_HALF_WIDTH = 1.15
HEAD_ABOVE_EYES = 1.5
HEAD_BELOW_EYES = 1.8
# Room the head needs from the photo's edge (eye distances).
HEAD_MARGIN = 0.1

# How far the scheme's nose point sits in front of the eyes, in inter-ocular distances
# (anthropometric averages: about 22 mm below the nose, 35 mm at the tip, against 63 mm).
NOSE_DEPTH_IOD = {"dlib5": 0.35, "arcface5": 0.55}


@dataclass(frozen=True)
class Pose:
    yaw: float  # degrees; the sign says to which side of the image the face turns
    roll: float  # degrees of tilt of the eye line
    pitch: float | None  # degrees, or None where the landmarks cannot tell


def head_pose(face: Face) -> Pose:
    """Yaw, roll and, where mouth landmarks exist, pitch.

    Roll is the eye line's angle. Yaw comes from how far the nose point sits off
    the eyes' midpoint: it lies in front of the eyes, so turning the head by an
    angle moves it sideways by depth x tan(angle). Pitch needs the chin (dlib's
    68-point model): the nose tip stands further forward than the chin, so nodding
    changes the ratio of their drops below the eye line. Without a chin it is not
    measured: with five points a raised chin and a lowered one project alike, and
    mouth corners move with a smile.
    """
    left, right = face.eye_centres()
    roll = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    distance = float(np.linalg.norm(right - left))
    if distance <= 0:
        raise ValueError("the eyes coincide")
    angle = math.radians(roll)
    along = np.array([math.cos(angle), math.sin(angle)])
    down = np.array([-math.sin(angle), math.cos(angle)])
    middle = (left + right) / 2.0
    along_eye_line = float(np.dot(face.nose() - middle, along))
    yaw = math.degrees(math.atan(along_eye_line / distance / NOSE_DEPTH_IOD[face.scheme]))
    pitch = None
    if face.landmarks68 is not None:
        nose_drop = float(np.dot(face.landmarks68[30] - middle, down))  # nose tip
        chin_drop = float(np.dot(face.landmarks68[8] - middle, down))
        if chin_drop > 0:
            pitch = round(_pitch_from_ratio(nose_drop / chin_drop), 1)
    return Pose(yaw=round(yaw, 1), roll=round(roll, 1), pitch=pitch)


# Average face, in inter-ocular distances below the eye line (h) and in front of it (d).
_NOSE_TIP_H, _NOSE_TIP_D = 0.6, 0.55
_CHIN_H, _CHIN_D = 1.75, 0.1


def _projected_ratio(pitch_degrees: float) -> float:
    phi = math.radians(pitch_degrees)
    nose = _NOSE_TIP_H * math.cos(phi) + _NOSE_TIP_D * math.sin(phi)
    chin = _CHIN_H * math.cos(phi) + _CHIN_D * math.sin(phi)
    return nose / chin


def _pitch_from_ratio(ratio: float) -> float:
    """Invert the projected nose/chin drop ratio (increasing in pitch over +-70 degrees);
    positive pitch: the chin is lowered."""
    low, high = -70.0, 70.0
    if ratio <= _projected_ratio(low):
        return low
    if ratio >= _projected_ratio(high):
        return high
    for _ in range(40):
        middle = (low + high) / 2.0
        if _projected_ratio(middle) < ratio:
            low = middle
        else:
            high = middle
    return (low + high) / 2.0


def frontal_eye_distance(face: Face) -> float:
    """The distance between the eye centres as it would be facing the camera: a measure of
    face size that does not depend on a detector's box, corrected for a turned head."""
    left, right = face.eye_centres()
    seen = float(np.linalg.norm(right - left))
    yaw = math.radians(min(abs(head_pose(face).yaw), 60.0))
    return seen / math.cos(yaw)


def eye_aspect_ratio(landmarks68: np.ndarray) -> float:
    """Mean eye openness over both eyes (68-point model): about 0.3 open, under 0.2 closed."""

    def ratio(eye: np.ndarray) -> float:
        vertical = np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])
        horizontal = 2.0 * np.linalg.norm(eye[0] - eye[3])
        return float(vertical / horizontal) if horizontal > 0 else 0.0

    return round((ratio(landmarks68[36:42]) + ratio(landmarks68[42:48])) / 2.0, 3)


def aligned_crop(pixels: np.ndarray, eyes: tuple[np.ndarray, np.ndarray], size: int) -> np.ndarray:
    """A square crop with the eyes level, 38% down, a third of the width apart."""
    import cv2

    left, right = (np.asarray(e, dtype=np.float64) for e in eyes)
    centre = (left + right) / 2.0
    angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    distance = float(np.linalg.norm(right - left))
    scale = (size / 3.0) / max(distance, 1e-6)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[0, 2] += size / 2.0 - centre[0]
    matrix[1, 2] += 0.38 * size - centre[1]
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return cv2.warpAffine(
        pixels, matrix, (size, size), flags=interpolation, borderMode=cv2.BORDER_REPLICATE
    )


def head_axes(
    eyes: tuple[np.ndarray, np.ndarray],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(centre between the eyes, unit vector along the eye line, unit vector down the face,
    eye distance in pixels)."""
    left, right = (np.asarray(e, dtype=np.float64) for e in eyes)
    distance = max(float(np.hypot(*(right - left))), 1e-6)
    across = (right - left) / distance
    down = np.array([-across[1], across[0]])
    return (left + right) / 2.0, across, down, distance


def head_outline(
    eyes: tuple[np.ndarray, np.ndarray], *, margin: float = 0.0, points: int = 48
) -> np.ndarray:
    """Points (N x 2, pixels) round the head: an ellipse from crown to chin, ``margin`` eye
    distances outside it."""
    centre, across, down, iod = head_axes(eyes)
    angles = np.linspace(0.0, 2.0 * math.pi, points, endpoint=False)
    x = np.cos(angles) * (HEAD_HALF_WIDTH + margin)
    # the upper half reaches the crown, the lower half the chin
    reach = np.where(np.sin(angles) < 0, HEAD_ABOVE_EYES, HEAD_BELOW_EYES) + margin
    y = np.sin(angles) * reach
    return centre + (x[:, None] * across + y[:, None] * down) * iod


def head_outside(
    shape: tuple[int, ...], eyes: tuple[np.ndarray, np.ndarray], valid: np.ndarray | None = None
) -> float:
    """The share of the head's outline (with its margin) that the photo does not hold.
    Without ``valid``: the share beyond the photo's edges. With ``valid`` (where a
    framed picture holds the photo's own pixels, 0..1): the share inside the picture
    where the photo had nothing; the picture's own edges may crop the head (a framing)."""
    height, width = shape[:2]
    outline = head_outline(eyes, margin=HEAD_MARGIN)
    xs, ys = np.round(outline[:, 0]).astype(int), np.round(outline[:, 1]).astype(int)
    inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
    if valid is None:
        return float(1.0 - inside.mean())
    missing = valid[ys[inside], xs[inside]] < 0.5
    return float(np.count_nonzero(missing)) / len(outline)
