"""Per-photo quality checks: each says what was measured and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from pipeline.checks.composition import expression_checks, frame_checks
from pipeline.checks.exposure import exposure_reference
from pipeline.checks.sharpness import image_blurred, sharpness_score
from pipeline.faces import Face, FaceAnalyzer
from pipeline.faces.geometry import head_pose
from pipeline.faces.regions import (
    LEFT_CHEEK,
    LEFT_EYE,
    LOWER_FACE,
    RIGHT_CHEEK,
    RIGHT_EYE,
    FaceFrame,
    lab,
    luma,
)

Status = Literal["pass", "warn", "fail"]


@dataclass(frozen=True)
class CheckThresholds:
    min_face_px_fail: int = 64
    min_face_px_warn: int = 300
    min_short_side_px: int = 512
    second_face_ratio: float = 0.35  # another face this large (by height) is a problem
    second_face_score: float = (
        0.6  # weaker second detections are often clothing or patterns: warn only
    )
    sharpness_warn: float = 0.7
    sharpness_fail: float = 0.35
    # Exposure is judged by what is light on every face whatever its skin tone: the
    # whites of the eyes (or, behind sunglasses, the face's own highlights), never by
    # how light the skin is.
    exposure_low: float = 90.0  # that reference under this: too dark (about 2 stops under)
    overexposed_share: float = 0.3  # the face's share of blown-out pixels over this: too bright
    clipped_share_max: float = 0.08
    yaw_warn: float = 25.0
    yaw_fail: float = 45.0
    pitch_warn: float = 25.0  # measured with the 68-point model only
    pitch_fail: float = 45.0
    shadow_ratio_warn: float = 0.7  # darker cheek / brighter cheek
    shadow_ratio_fail: float = 0.45
    eyes_covered_ratio: float = 0.4  # eye region / cheek brightness under this: sunglasses
    lower_face_skin_min: float = 0.15  # share of skin-coloured pixels around the mouth
    eye_openness_warn: float = 0.18  # eye aspect ratio (68-point model)
    eye_openness_fail: float = 0.12
    mesh_eye_openness_warn: float = 0.14  # lid gap per eye width (the face mesh)
    mesh_eye_openness_fail: float = 0.08
    mouth_open_warn: float = 0.3  # inner-lip gap per mouth width (the face mesh): speech
    face_covered_warn: float = 0.1  # share of cheeks and nose hidden by something not skin
    shoulders_below_eyes: float = 3.0  # the photo reaches this far below the eyes (eye distances)


@dataclass(frozen=True)
class Check:
    code: str
    status: Status
    value: float | int | None
    threshold: float | int | None
    message: str


@dataclass
class PhotoReport:
    checks: list[Check] = field(default_factory=list)
    faces: int = 0
    face: Face | None = None
    not_measured: dict[str, str] = field(default_factory=dict)  # check code -> why
    yaw: float | None = None
    attributes: dict[str, object] | None = None

    @property
    def usable(self) -> bool:
        return self.face is not None and all(c.status != "fail" for c in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "usable": self.usable,
            "faces": self.faces,
            "face_box": [round(v, 1) for v in self.face.box] if self.face else None,
            "checks": [asdict(c) for c in self.checks],
            "not_measured": dict(self.not_measured),
            "attributes": self.attributes,
        }


def face_region(pixels: np.ndarray, face: Face) -> np.ndarray:
    height, width = pixels.shape[:2]
    x0, y0, x1, y1 = face.box
    return pixels[max(0, int(y0)) : min(height, int(y1)), max(0, int(x0)) : min(width, int(x1))]


class PhotoChecker:
    def __init__(self, analyzer: FaceAnalyzer, thresholds: CheckThresholds | None = None) -> None:
        self.analyzer = analyzer
        self.thresholds = thresholds or CheckThresholds()

    def __call__(self, pixels: np.ndarray, faces: list[Face] | None = None) -> PhotoReport:
        t = self.thresholds
        faces = self.analyzer.detect(pixels) if faces is None else faces
        report = PhotoReport(faces=len(faces))
        checks = report.checks
        short_side = min(pixels.shape[:2])
        checks.append(
            Check(
                "resolution",
                "pass" if short_side >= t.min_short_side_px else "warn",
                short_side,
                t.min_short_side_px,
                "The photo is large enough."
                if short_side >= t.min_short_side_px
                else f"The photo is only {short_side} px on its short side; we recommend at least "
                f"{t.min_short_side_px} px. Use the camera's full resolution.",
            )
        )
        if not faces:
            blurred = image_blurred(pixels)
            checks.append(
                Check(
                    "no_face",
                    "fail",
                    0,
                    1,
                    "The photo is too blurred for us to find a face. Hold the camera still, "
                    "tap your face on the screen to focus, and take it again."
                    if blurred
                    else "We could not find a face. Face the camera, in good light, "
                    "with nothing covering your face.",
                )
            )
            return report
        face = faces[0]
        others = [
            f
            for f in faces[1:]
            if f.height >= t.second_face_ratio * face.height and f.score >= t.second_face_score
        ]
        if others:
            checks.append(
                Check(
                    "multiple_faces",
                    "fail",
                    len(faces),
                    1,
                    f"We found {1 + len(others)} faces of similar size. Take a photo of "
                    "yourself alone.",
                )
            )
            return report
        if len(faces) > 1:
            checks.append(
                Check(
                    "multiple_faces",
                    "warn",
                    len(faces),
                    1,
                    "Someone else is in the background; we used the largest face. "
                    "A photo of you alone works best.",
                )
            )
        else:
            checks.append(Check("multiple_faces", "pass", 1, 1, "One face found."))
        report.face = face
        face_px = round(face.height)
        if face_px < t.min_face_px_fail:
            status: Status = "fail"
        else:
            status = "warn" if face_px < t.min_face_px_warn else "pass"
        checks.append(
            Check(
                "face_size",
                status,
                face_px,
                t.min_face_px_warn,
                "Your face is large enough."
                if status == "pass"
                else f"Your face is {face_px} px tall; we need at least {t.min_face_px_warn} px. "
                "Move closer or use the back camera.",
            )
        )
        checks.extend(self._pixel_checks(pixels, face))
        checks.extend(self._geometry_checks(pixels, face, report))
        checks.extend(frame_checks(pixels.shape, face, t))
        mesh = getattr(self.analyzer, "mesh", None)  # MediaPipe's, with its face detector
        checks.extend(expression_checks(pixels, face, mesh, t, report))
        return report

    def _pixel_checks(self, pixels: np.ndarray, face: Face) -> list[Check]:
        import cv2

        t = self.thresholds
        region = face_region(pixels, face)
        gray = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY)
        sharp = round(sharpness_score(gray), 3)
        if sharp < t.sharpness_fail:
            s_status: Status = "fail"
        else:
            s_status = "warn" if sharp < t.sharpness_warn else "pass"
        clipped = round(float(((gray <= 5) | (gray >= 250)).mean()), 3)
        reference = round(exposure_reference(pixels, face, gray), 1)
        blown = round(float((gray >= 250).mean()), 3)
        if reference < t.exposure_low:
            e_status: Status = "fail"
            e_value, e_threshold = reference, t.exposure_low
            e_message = (
                f"The photo is too dark (the lightest parts of your face reach {reference:.0f} "
                f"of 255, we need {t.exposure_low:.0f}). Face a window or a lamp."
            )
        elif blown > t.overexposed_share:
            e_status = "fail"
            e_value, e_threshold = blown, t.overexposed_share
            e_message = (
                f"The photo is too bright: {blown:.0%} of your face is pure white (at most "
                f"{t.overexposed_share:.0%}). Avoid direct sun or flash."
            )
        else:
            e_status, e_message = "pass", "The light on your face is good."
            e_value, e_threshold = reference, t.exposure_low
        return [
            Check(
                "sharpness",
                s_status,
                sharp,
                t.sharpness_warn,
                "Your face is sharp."
                if s_status == "pass"
                else f"The photo is blurred (sharpness {sharp:.2f}, we need {t.sharpness_warn:.2f}). "
                "Hold the camera still and tap your face to focus.",
            ),
            Check("exposure", e_status, e_value, e_threshold, e_message),
            Check(
                "clipping",
                "warn" if clipped > t.clipped_share_max else "pass",
                clipped,
                t.clipped_share_max,
                "No lost highlights or shadows on your face."
                if clipped <= t.clipped_share_max
                else f"{clipped:.0%} of your face is pure black or white. Use softer, even light.",
            ),
        ]

    def _geometry_checks(self, pixels: np.ndarray, face: Face, report: PhotoReport) -> list[Check]:
        t = self.thresholds
        checks = []
        pose = head_pose(face)
        report.yaw = pose.yaw
        yaw = abs(pose.yaw)
        status = grade(yaw, warn=t.yaw_warn, fail=t.yaw_fail)
        checks.append(
            Check(
                "head_pose",
                status,
                pose.yaw,
                t.yaw_fail if status == "fail" else t.yaw_warn,
                "You face the camera."
                if status == "pass"
                else f"Your head is turned by about {yaw:.0f} degrees; look straight into the camera.",
            )
        )
        if pose.pitch is None:
            report.not_measured["head_pitch"] = (
                "needs the chin: dlib's 68-point model, not enabled here"
            )
        else:
            tilt = abs(pose.pitch)
            status = grade(tilt, warn=t.pitch_warn, fail=t.pitch_fail)
            direction = "down" if pose.pitch > 0 else "up"
            checks.append(
                Check(
                    "head_pitch",
                    status,
                    pose.pitch,
                    t.pitch_fail if status == "fail" else t.pitch_warn,
                    "Your head is level."
                    if status == "pass"
                    else f"Your head is tilted {direction} by about {tilt:.0f} degrees; "
                    "hold the camera at eye level.",
                )
            )
        frame = FaceFrame.of(face)
        gray = luma(pixels)
        left = (
            float(frame.pixels(gray, LEFT_CHEEK).mean())
            if frame.pixels(gray, LEFT_CHEEK).size
            else 0.0
        )
        right = (
            float(frame.pixels(gray, RIGHT_CHEEK).mean())
            if frame.pixels(gray, RIGHT_CHEEK).size
            else 0.0
        )
        ratio = round(min(left, right) / max(left, right, 1.0), 3)
        status = grade(-ratio, warn=-t.shadow_ratio_warn, fail=-t.shadow_ratio_fail)
        side = "left" if left < right else "right"
        checks.append(
            Check(
                "side_shadow",
                status,
                ratio,
                t.shadow_ratio_warn,
                "The light on your face is even."
                if status == "pass"
                else f"The {side} side of your face (as seen in the photo) is in shadow "
                f"({ratio:.0%} of the other side's brightness). Face the light source.",
            )
        )
        eyes = np.concatenate([frame.pixels(gray, LEFT_EYE), frame.pixels(gray, RIGHT_EYE)])
        cheeks = np.concatenate([frame.pixels(gray, LEFT_CHEEK), frame.pixels(gray, RIGHT_CHEEK)])
        covered = (
            round(float(eyes.mean()) / max(float(cheeks.mean()), 1.0), 3)
            if eyes.size and cheeks.size
            else 1.0
        )
        checks.append(
            Check(
                "eyes_covered",
                "fail" if covered < t.eyes_covered_ratio else "pass",
                covered,
                t.eyes_covered_ratio,
                "Your eyes are visible."
                if covered >= t.eyes_covered_ratio
                else "Your eyes seem covered (sunglasses or tinted glasses?). Take them off for the photo.",
            )
        )
        skin = _skin_share(pixels, frame)
        checks.append(
            Check(
                "lower_face_covered",
                "warn" if skin < t.lower_face_skin_min else "pass",
                skin,
                t.lower_face_skin_min,
                "Your mouth and chin are visible."
                if skin >= t.lower_face_skin_min
                else "Something seems to cover your mouth or chin (a hand, a mask, a phone?).",
            )
        )
        return checks


def grade(value: float, *, warn: float, fail: float) -> Status:
    if value > fail:
        return "fail"
    return "warn" if value > warn else "pass"


def _skin_share(pixels: np.ndarray, frame: FaceFrame) -> float:
    """Share of the mouth-and-chin region close in colour to the person's own cheeks."""
    cheeks = np.concatenate([frame.pixels(pixels, LEFT_CHEEK), frame.pixels(pixels, RIGHT_CHEEK)])
    region = frame.pixels(pixels, LOWER_FACE)
    if not cheeks.size or not region.size:
        return 1.0
    reference = lab(cheeks[None, :, :])[0].mean(axis=0)
    distance = np.linalg.norm(lab(region[None, :, :])[0] - reference, axis=1)
    return round(float((distance < 22.0).mean()), 3)
