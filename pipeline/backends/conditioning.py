"""Control images for the diffusion backend's ControlNets, drawn from the best selfie's
landmarks and placed where the preset's framing puts the face.

- ``keypoint_image``: the five facial keypoints (eyes, nose tip, mouth corners) as
  coloured sticks and dots on black, the convention of InstantID-style keypoint
  ControlNets. It carries the face's position, size and roll.
- ``pose_image``: an OpenPose body-18 drawing of what a headshot shows (eyes, ears, nose,
  neck, shoulders) for pose ControlNets. Eyes and nose come from the landmarks; ears
  from the 68-point jaw line when that model is enabled, else from the face box; neck
  and shoulders are placed from the head's size, since a selfie rarely shows them whole.

- ``depth_image``: a relief of a headshot for depth ControlNets (near is bright): the
  head as a half ellipsoid from crown to chin, the neck, and the shoulders as a wide,
  lower mound, all sized from the eyes.
- ``edge_image``: Canny edges of the best selfie itself (face, hairline, glasses), kept
  inside the head's outline so the selfie's own background leaves no trace.

All are drawn in output pixels through the same affine map the studio renderer uses
(``framing.framing_matrix``), so the generated face lands on the preset's eye line at
its head size.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from pipeline.errors import PipelineError
from pipeline.faces import Face

if TYPE_CHECKING:
    from pipeline.backends.base import Selfie
    from pipeline.presets import BrandPreset

# The ArcFace alignment template (112 x 112): where five keypoints sit on an average face.
TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)
KEYPOINT_COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255))

# OpenPose body-18: nose, neck, r-shoulder, r-elbow, r-wrist, l-shoulder, l-elbow, l-wrist,
# r-hip, r-knee, r-ankle, l-hip, l-knee, l-ankle, r-eye, l-eye, r-ear, l-ear. "Right" is
# the person's right: the image's left for someone facing the camera.
NOSE, NECK, R_SHOULDER, L_SHOULDER, R_EYE, L_EYE, R_EAR, L_EAR = 0, 1, 2, 5, 14, 15, 16, 17
POSE_LIMBS = (
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10),
    (1, 11), (11, 12), (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17),
)  # fmt: skip
POSE_COLOURS = (
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0),
    (0, 255, 0), (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255),
    (0, 0, 255), (85, 0, 255), (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
)  # fmt: skip


def five_points(face: Face) -> np.ndarray:
    """Eyes (image left, image right), nose tip, mouth corners (image left, right), in
    selfie pixels. SCRFD gives all five; with dlib's five points the nose tip and mouth
    corners are placed from the eyes by the ArcFace template (the 68-point model, when
    enabled, gives the mouth corners measured)."""
    if face.scheme == "arcface5":
        points = np.asarray(face.landmarks, dtype=np.float64)
        return points if points[0, 0] <= points[1, 0] else points[[1, 0, 2, 4, 3]]
    left, right = face.eye_centres()
    template_left, template_right = TEMPLATE[0], TEMPLATE[1]
    # The similarity transform that takes the template's eyes onto the measured eyes.
    source = complex(*(template_right - template_left))
    target = complex(*(right - left))
    rotation_scale = target / source
    placed = [rotation_scale * complex(*(p - template_left)) + complex(*left) for p in TEMPLATE]
    result = np.array([(z.real, z.imag) for z in placed])
    if face.landmarks68 is not None:
        mouth = np.asarray(face.landmarks68, dtype=np.float64)[[48, 54]]
        result[3:] = mouth if mouth[0, 0] <= mouth[1, 0] else mouth[::-1]
    return result


def transform(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=np.float64) @ matrix[:, :2].T + matrix[:, 2]


def _stick(
    canvas: np.ndarray, a: np.ndarray, b: np.ndarray, colour: tuple[int, ...], width: int
) -> None:
    import cv2

    length = float(np.hypot(*(a - b)))
    if length < 1.0:
        return
    angle = math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
    centre = (int(round((a[0] + b[0]) / 2)), int(round((a[1] + b[1]) / 2)))
    polygon = cv2.ellipse2Poly(centre, (int(length / 2), width), int(angle), 0, 360, 1)
    cv2.fillConvexPoly(canvas, np.asarray(polygon, dtype=np.int32), tuple(float(c) for c in colour))


def keypoint_image(face: Face, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    points = transform(five_points(face), matrix)
    side = max(width, height)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    stick = max(2, round(4 * side / 1024))
    for index in (0, 1, 3, 4):  # every keypoint to the nose
        _stick(canvas, points[index], points[2], KEYPOINT_COLOURS[index], stick)
    canvas = (canvas * 0.6).astype(np.uint8)
    radius = max(2, round(10 * side / 1024))
    for point, colour in zip(points, KEYPOINT_COLOURS, strict=True):
        cv2.circle(canvas, (int(round(point[0])), int(round(point[1]))), radius, colour, -1)
    return canvas


def pose_points(face: Face) -> dict[int, np.ndarray]:
    """The body-18 keypoints a headshot shows, in selfie pixels."""
    left_eye, right_eye, nose, _, _ = five_points(face)
    eye_vector = right_eye - left_eye
    eye_distance = float(np.hypot(*eye_vector)) or 1.0
    across = eye_vector / eye_distance  # towards the image's right, along the head's roll
    down = np.array([-across[1], across[0]])
    if face.landmarks68 is not None:
        jaw = np.asarray(face.landmarks68, dtype=np.float64)
        ear_left, ear_right, chin = jaw[0], jaw[16], jaw[8]
    else:
        middle = (left_eye + right_eye) / 2
        half_width = (face.box[2] - face.box[0]) / 2
        box_centre_x = (face.box[0] + face.box[2]) / 2
        ear_left = np.array([box_centre_x - half_width, middle[1]]) + down * 0.15 * eye_distance
        ear_right = np.array([box_centre_x + half_width, middle[1]]) + down * 0.15 * eye_distance
        chin = middle + down * 2.0 * eye_distance
    # OpenPose's neck is the base of the neck, between the shoulders; shoulders span about
    # six eye distances and slope a little.
    neck = chin + down * 0.8 * eye_distance
    shoulder_offset = across * 3.0 * eye_distance
    shoulders_down = down * 0.3 * eye_distance
    return {
        NOSE: nose,
        NECK: neck,
        R_SHOULDER: neck - shoulder_offset + shoulders_down,
        L_SHOULDER: neck + shoulder_offset + shoulders_down,
        R_EYE: left_eye,
        L_EYE: right_eye,
        R_EAR: ear_left,
        L_EAR: ear_right,
    }


def pose_image(face: Face, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    known = {
        index: transform(point[None, :], matrix)[0] for index, point in pose_points(face).items()
    }
    side = max(width, height)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    stick = max(2, round(4 * side / 512))
    for limb_index, (a, b) in enumerate(POSE_LIMBS):
        if a in known and b in known:
            layer = canvas.copy()
            _stick(layer, known[a], known[b], POSE_COLOURS[limb_index], stick)
            canvas = np.asarray(cv2.addWeighted(canvas, 0.4, layer, 0.6, 0), dtype=np.uint8)
    radius = max(2, round(4 * side / 512))
    for index, point in known.items():
        cv2.circle(
            canvas, (int(round(point[0])), int(round(point[1]))), radius, POSE_COLOURS[index], -1
        )
    return canvas


def _mound(
    shape: tuple[int, int], centre: np.ndarray, axes: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """A half ellipsoid's height (0..1) over the picture: ``axes`` are its two semi-axes
    as vectors in pixels."""
    height, width = shape
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    offset = np.stack([xx - centre[0], yy - centre[1]], axis=-1)
    r2 = sum((offset @ axis / float(axis @ axis)) ** 2 for axis in axes)
    return np.asarray(np.sqrt(np.clip(1.0 - r2, 0.0, 1.0)))


def depth_image(face: Face, matrix: np.ndarray, width: int, height: int) -> np.ndarray:
    from pipeline.faces.geometry import HEAD_ABOVE_EYES, HEAD_BELOW_EYES, HEAD_HALF_WIDTH, head_axes

    left, right = transform(five_points(face)[:2], matrix)
    centre, across, down, iod = head_axes((left, right))
    # the head: centred between crown and chin, ear to ear; near (0.6 to 1.0)
    middle = centre + down * iod * (HEAD_BELOW_EYES - HEAD_ABOVE_EYES) / 2
    vertical = down * iod * (HEAD_BELOW_EYES + HEAD_ABOVE_EYES) / 2
    head = _mound((height, width), middle, (across * iod * HEAD_HALF_WIDTH, vertical))
    depth = np.where(head > 0, 0.6 + 0.4 * head, 0.0)
    # the neck below the chin, then the shoulders (as the pose drawing places them)
    chin = centre + down * iod * HEAD_BELOW_EYES
    neck = _mound((height, width), chin + down * iod * 0.6, (across * iod * 0.75, down * iod))
    shoulders = _mound(
        (height, width), chin + down * iod * 2.6, (across * iod * 3.4, down * iod * 1.6)
    )
    depth = np.maximum(depth, np.where(neck > 0, 0.45 + 0.15 * neck, 0.0))
    depth = np.maximum(depth, np.where(shoulders > 0, 0.2 + 0.3 * shoulders, 0.0))
    grey = np.round(depth * 255.0).astype(np.uint8)
    return np.repeat(grey[:, :, None], 3, axis=2)


def edge_image(
    pixels: np.ndarray, face: Face, matrix: np.ndarray, width: int, height: int
) -> np.ndarray:
    import cv2

    from pipeline.faces.geometry import head_outline

    framed = cv2.warpAffine(
        pixels, matrix, (width, height), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    grey = cv2.GaussianBlur(cv2.cvtColor(framed, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    edges = cv2.Canny(grey, 100, 200)  # the thresholds Canny ControlNets were trained with
    left, right = transform(five_points(face)[:2], matrix)
    inside = np.zeros((height, width), dtype=np.uint8)
    outline = head_outline((left, right), margin=0.25)
    cv2.fillPoly(inside, [np.round(outline).astype(np.int32)], 255)
    edges[inside == 0] = 0
    return np.repeat(edges[:, :, None], 3, axis=2)


def control_images(
    controlnets: tuple[str, ...], reference: Selfie, preset: BrandPreset, size: tuple[int, int]
) -> dict[str, tuple[np.ndarray, float]]:
    """A control image and its weight for every ControlNet the model has, drawn from
    the best selfie where the preset's framing puts the face."""
    from pipeline.backends.framing import framing_matrix
    from pipeline.presets import OutputSize

    settings = preset.generation
    width, height = size
    weights = {
        "pose": settings.spatial_control,
        "depth": settings.depth_control,
        "edge": settings.edge_control,
    }
    for name, weight in weights.items():
        if weight > 0 and name not in controlnets:
            raise PipelineError(
                f"The preset {preset.slug!r} asks for the {name} ControlNet (weight {weight}), "
                f"which is not installed: put it in MODEL_DIR/controlnet/{name}/ and add "
                f"'{name}' to HEADSHOTS_CONTROLNETS, or set the preset's weight to 0.",
                code="model_missing",
            )
    matrix = framing_matrix(
        reference.face, preset, OutputSize(name="generation", width=width, height=height)
    )
    face = reference.face
    drawings = {
        # InstantID's IdentityNet, weighted as the identity is
        "keypoints": lambda: (
            keypoint_image(face, matrix, width, height),
            settings.identity_strength,
        ),
        "pose": lambda: (pose_image(face, matrix, width, height), weights["pose"]),
        "depth": lambda: (depth_image(face, matrix, width, height), weights["depth"]),
        "edge": lambda: (
            edge_image(reference.pixels, face, matrix, width, height),
            weights["edge"],
        ),
    }
    control: dict[str, tuple[np.ndarray, float]] = {name: drawings[name]() for name in controlnets}
    return control
