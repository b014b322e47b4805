"""What a selfie must hold for a headshot besides a sharp, well-lit face: the whole head
with room round it and the shoulders below it, eyes open, a natural expression, and
nothing in front of the face.

The head's extent comes from the eyes (pipeline.faces.geometry's head outline, the
same one every candidate is judged by); eyes and mouth from MediaPipe's face mesh when the
face backend has it, else from dlib's 68 points when enabled, else not measured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from pipeline.faces import Face
from pipeline.faces.geometry import eye_aspect_ratio, head_axes, head_outside

if TYPE_CHECKING:
    from pipeline.checks.photo import Check, CheckThresholds, PhotoReport
    from pipeline.faces.mesh import FaceMesh, Mesh

# The shoulders lie about this many eye distances below the eye line: a photo that ends
# above them gives a headshot no shoulders to show.
SHOULDERS_BELOW_EYES = 3.0
# The mesh's points for each eye's corners and lids, and the mouth's corners and inner lips.
RIGHT_EYE_POINTS = (33, 133, 159, 145)  # outer corner, inner corner, upper lid, lower lid
LEFT_EYE_POINTS = (263, 362, 386, 374)
MOUTH_POINTS = (61, 291, 13, 14)  # corners, inner upper lip, inner lower lip
# Colours this many robust deviations from the face's own skin are not skin; the deviation
# is capped (a face half covered must not widen its own idea of skin) and floored (a very
# even face must not see noise as an object).
ODD_DEVIATIONS = 4.0
SKIN_SPREAD_CAP = (10.0, 4.0, 5.0)  # CIELAB L, a, b
SKIN_SPREAD_FLOOR = (3.0, 1.5, 1.5)


def frame_checks(shape: tuple[int, ...], face: Face, thresholds: CheckThresholds) -> list[Check]:
    from pipeline.checks.photo import Check

    eyes = face.eye_centres()
    outside = round(head_outside(shape, eyes), 3)
    checks = [
        Check(
            "head_in_frame",
            "fail" if outside > 0 else "pass",
            outside,
            0,
            "Your whole head is in the photo."
            if outside <= 0
            else "Part of your head is outside the photo. Hold the camera a little farther "
            "away, with space above and beside your head.",
        )
    ]
    centre, _, down, iod = head_axes(eyes)
    height = shape[0]
    # how far the photo reaches below the eyes, straight down the face (eye distances)
    reach = (height - 1 - centre[1]) / max(down[1], 1e-3) / iod
    room = round(float(reach), 2)
    checks.append(
        Check(
            "shoulders_in_frame",
            "pass" if room >= thresholds.shoulders_below_eyes else "warn",
            room,
            thresholds.shoulders_below_eyes,
            "Your shoulders are in the photo."
            if room >= thresholds.shoulders_below_eyes
            else "The photo ends at your chin. Leave room for your shoulders: the headshot "
            "shows them.",
        )
    )
    return checks


def eye_openness(points: np.ndarray) -> float:
    """Mean over both eyes of lid gap per eye width (mesh points): about 0.3 open, under 0.1
    closed."""

    def ratio(indices: tuple[int, int, int, int]) -> float:
        outer, inner, upper, lower = (points[i] for i in indices)
        width = max(float(np.linalg.norm(outer - inner)), 1e-6)
        return float(np.linalg.norm(upper - lower)) / width

    return (ratio(RIGHT_EYE_POINTS) + ratio(LEFT_EYE_POINTS)) / 2.0


def mouth_openness(points: np.ndarray) -> float:
    """Gap between the inner lips per mouth width (mesh points): under 0.25 closed or
    smiling, 0.3 and more open as in speech."""
    left, right, upper, lower = (points[i] for i in MOUTH_POINTS)
    width = max(float(np.linalg.norm(left - right)), 1e-6)
    return float(np.linalg.norm(upper - lower)) / width


def covered_share(pixels: np.ndarray, mesh: Mesh) -> float:
    """The share of the face's skin from the brows to just above the mouth (cheeks, nose,
    temples: where no beard grows) hidden by something that is not skin: a hand, a phone,
    a microphone, a mask. Skin is the face's own: robust statistics of its colours, so it
    holds for every skin tone; a compact patch of other colour counts, specks do not."""
    import cv2

    from pipeline.faces.mesh import Mesh as MeshPoints
    from pipeline.faces.mesh import regions
    from pipeline.faces.regions import lab

    height, width = pixels.shape[:2]
    x0, y0 = np.maximum(np.floor(mesh.points.min(axis=0)).astype(int) - 2, 0)
    x1, y1 = np.ceil(mesh.points.max(axis=0)).astype(int) + 2
    crop = pixels[y0 : min(y1, height), x0 : min(x1, width)]
    if crop.size == 0:
        return 0.0
    local = MeshPoints(points=mesh.points - np.array([x0, y0]), score=mesh.score)
    skin = regions(local, crop.shape, feather_px=0.5).skin > 0.5
    # above a line a little over the mouth's corners: the beard's zone is left out
    corner_a, corner_b = local.points[MOUTH_POINTS[0]], local.points[MOUTH_POINTS[1]]
    normal = np.array([-(corner_b - corner_a)[1], (corner_b - corner_a)[0]])
    normal = normal / max(float(np.linalg.norm(normal)), 1e-6)
    normal = normal if normal[1] > 0 else -normal  # pointing down the face
    ys, xs = np.mgrid[0 : crop.shape[0], 0 : crop.shape[1]]
    depth = (xs - corner_a[0]) * normal[0] + (ys - corner_a[1]) * normal[1]
    zone = skin & (depth < -0.15 * local.iod)
    if np.count_nonzero(zone) < 50:
        return 0.0
    colours = lab(crop)
    inside = colours[zone]
    centre = np.median(inside, axis=0)
    spread = np.minimum(np.median(np.abs(inside - centre), axis=0) * 1.4826, SKIN_SPREAD_CAP)
    spread = spread + np.asarray(SKIN_SPREAD_FLOOR)
    odd = (zone & (np.abs((colours - centre) / spread) > ODD_DEVIATIONS).any(axis=2)).astype(
        np.uint8
    )
    grain = max(1, round(local.iod / 20))
    odd = cv2.morphologyEx(odd, cv2.MORPH_OPEN, np.ones((2 * grain + 1,) * 2, np.uint8))
    return float(np.count_nonzero(odd)) / float(np.count_nonzero(zone))


def expression_checks(
    pixels: np.ndarray,
    face: Face,
    mesh: FaceMesh | None,
    thresholds: CheckThresholds,
    report: PhotoReport,
) -> list[Check]:
    """Eyes open, the mouth at rest or smiling, nothing in front of the face: a blink, a
    mid-speech or a covered face is a poor source, so it is flagged (and ranked after the
    others as a source)."""
    from pipeline.checks.photo import Check, grade

    t = thresholds
    checks: list[Check] = []
    points = found = None
    if mesh is not None:
        found = mesh(pixels, face)
        if found.score >= 0.5:
            points = found.points
    if points is not None:
        openness = round(eye_openness(points), 3)
        warn, fail = t.mesh_eye_openness_warn, t.mesh_eye_openness_fail
    elif face.landmarks68 is not None:
        openness = round(eye_aspect_ratio(face.landmarks68), 3)
        warn, fail = t.eye_openness_warn, t.eye_openness_fail
    else:
        report.not_measured["eyes_closed"] = (
            "needs eye-contour landmarks: MediaPipe's face mesh or dlib's 68-point model"
        )
        report.not_measured["mouth_open"] = "needs the face mesh (MediaPipe's face detector)"
        report.not_measured["face_covered"] = "needs the face mesh (MediaPipe's face detector)"
        return checks
    status = grade(-openness, warn=-warn, fail=-fail)
    checks.append(
        Check(
            "eyes_closed",
            status,
            openness,
            warn,
            "Your eyes are open."
            if status == "pass"
            else "Your eyes look closed or half closed. Take the photo with your eyes open.",
        )
    )
    if points is None or found is None:
        report.not_measured["mouth_open"] = "needs the face mesh (MediaPipe's face detector)"
        report.not_measured["face_covered"] = "needs the face mesh (MediaPipe's face detector)"
        return checks
    covered = round(covered_share(pixels, found), 3)
    hidden = covered > t.face_covered_warn
    checks.append(
        Check(
            "face_covered",
            "warn" if hidden else "pass",
            covered,
            t.face_covered_warn,
            "Nothing is in front of your face."
            if not hidden
            else "Something seems to be in front of your face (a hand, a phone, a "
            "microphone?). Take the photo with nothing in front of it.",
        )
    )
    mouth = round(mouth_openness(points), 3)
    open_mouth = mouth > t.mouth_open_warn
    checks.append(
        Check(
            "mouth_open",
            "warn" if open_mouth else "pass",
            mouth,
            t.mouth_open_warn,
            "Your expression is relaxed."
            if not open_mouth
            else "Your mouth is open, as if speaking. Close your mouth or smile.",
        )
    )
    return checks
