"""Face geometry from landmarks: head pose, eye openness, aligned crops."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pipeline.faces import Face

# How far the scheme's nose point sits in front of the eyes, in inter-ocular distances
# (anthropometric averages: about 22 mm below the nose, 35 mm at the tip, against 63 mm).
NOSE_DEPTH_IOD = {"dlib5": 0.35, "arcface5": 0.55}


@dataclass(frozen=True)
class Pose:
    yaw: float  # degrees; the sign says to which side of the image the face turns
    roll: float  # degrees of tilt of the eye line
    pitch: float | None  # degrees, or None where the landmarks cannot tell


def head_pose(face: Face) -> Pose:
    """Yaw and roll from five landmarks.

    Roll is the eye line's angle. Yaw comes from how far the nose point sits off
    the eyes' midpoint: it lies in front of the eyes, so turning the head by an
    angle moves it sideways by depth x tan(angle). Pitch is not measured: with
    five points a raised chin and a strongly lowered one project alike.
    """
    left, right = face.eye_centres()
    roll = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    distance = float(np.linalg.norm(right - left))
    if distance <= 0:
        raise ValueError("the eyes coincide")
    offset = face.nose() - (left + right) / 2.0
    angle = math.radians(roll)
    along_eye_line = offset[0] * math.cos(angle) + offset[1] * math.sin(angle)
    yaw = math.degrees(math.atan(along_eye_line / distance / NOSE_DEPTH_IOD[face.scheme]))
    return Pose(yaw=round(yaw, 1), roll=round(roll, 1), pitch=None)


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
