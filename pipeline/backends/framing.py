"""Framing: where the preset puts the face in the output, and the map from a selfie to
it. Shared by the studio renderer, the diffusion backend's control images and the
candidates' scoring."""

from __future__ import annotations

import math

import numpy as np

from pipeline.faces import Face
from pipeline.faces.geometry import frontal_eye_distance
from pipeline.presets import BrandPreset, OutputSize

# Head height (crown to chin) per height of dlib's face box (brows to chin).
HEAD_PER_FACE_BOX = 1.55
# Head height (crown to chin) per distance between the eye centres: the framing's size
# measure, independent of any detector's box (about 1.55 dlib boxes of 1.93 eye distances).
HEAD_PER_EYE_DISTANCE = 3.0
# Where the eyes sit inside the face box (share of its height from the top).
EYES_IN_FACE_BOX = 0.3


def target_geometry(preset: BrandPreset, out: OutputSize) -> tuple[float, float, float]:
    """(eye x, eye y, face-box height) that the framing asks for, in output pixels."""
    framing = preset.framing
    head_px = framing.head_height_share * out.height
    return out.width / 2.0, framing.eye_line * out.height, head_px / HEAD_PER_FACE_BOX


def framing_matrix(
    face: Face, preset: BrandPreset, out: OutputSize, zoom: float = 1.0
) -> np.ndarray:
    """The 2x3 affine map from selfie to output pixels that levels the eyes and puts them
    where the preset's framing says, at the head size it asks for."""
    import cv2

    left, right = face.eye_centres()
    centre = (left + right) / 2.0
    angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
    target_x = out.width / 2.0
    target_y = preset.framing.eye_line * out.height
    target_eye_distance = preset.framing.head_height_share * out.height / HEAD_PER_EYE_DISTANCE
    scale = zoom * target_eye_distance / frontal_eye_distance(face)
    matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
    matrix[0, 2] += target_x - centre[0]
    matrix[1, 2] += target_y - centre[1]
    return matrix


def source_region(
    face: Face, preset: BrandPreset, *, margin: float = 0.15
) -> tuple[int, int, int, int]:
    """The part of the selfie that the framing can show (x0, y0, x1, y1, unclipped), with
    room for the crop jitter: what is worth upscaling before rendering."""
    out = preset.primary_output
    _, target_y, _ = target_geometry(preset, out)
    target_eye_distance = preset.framing.head_height_share * out.height / HEAD_PER_EYE_DISTANCE
    scale = target_eye_distance / frontal_eye_distance(face) * (1.0 - 0.06)  # the smallest zoom
    left, right = face.eye_centres()
    centre = (left + right) / 2.0
    half_w = out.width / 2.0 / scale * (1.0 + margin)
    above = target_y / scale * (1.0 + margin)
    below = (out.height - target_y) / scale * (1.0 + margin)
    return (
        int(centre[0] - half_w),
        int(centre[1] - above),
        int(centre[0] + half_w) + 1,
        int(centre[1] + below) + 1,
    )
