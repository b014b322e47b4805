"""Per-photo quality checks: each says what was measured and what to do."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import numpy as np

from pipeline.faces import Face, FaceAnalyzer

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
    face_luma_low: float = 70.0
    face_luma_high: float = 200.0
    clipped_share_max: float = 0.08


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

    @property
    def usable(self) -> bool:
        return self.face is not None and all(c.status != "fail" for c in self.checks)

    def as_dict(self) -> dict[str, object]:
        return {
            "usable": self.usable,
            "faces": self.faces,
            "face_box": [round(v, 1) for v in self.face.box] if self.face else None,
            "checks": [asdict(c) for c in self.checks],
        }


def sharpness_score(gray: np.ndarray) -> float:
    """Variance of the Laplacian on a 256 px face crop, mapped into 0..1.

    The crop's contrast is normalised first (a dark photo is not a blurred one).
    The mapping v / (v + 100) puts a clearly sharp face (variance > 250) above
    0.7 and a visibly soft one (variance < 50) below 0.35.
    """
    import cv2

    crop = cv2.resize(gray, (256, 256), interpolation=cv2.INTER_AREA).astype(np.float64)
    spread = float(crop.std())
    if spread < 1.0:
        return 0.0
    crop = (crop - crop.mean()) * (45.0 / spread)
    variance = float(cv2.Laplacian(crop, cv2.CV_64F).var())
    return variance / (variance + 100.0)


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
            checks.append(
                Check(
                    "no_face",
                    "fail",
                    0,
                    1,
                    "We could not find a face. Face the camera, in good light, "
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
        luma = round(float(gray.mean()), 1)
        clipped = round(float(((gray <= 5) | (gray >= 250)).mean()), 3)
        if luma < t.face_luma_low:
            e_status: Status = "fail"
            e_message = (
                f"Your face is too dark (brightness {luma:.0f} of 255, we need "
                f"{t.face_luma_low:.0f}). Face a window or a lamp."
            )
        elif luma > t.face_luma_high:
            e_status = "fail"
            e_message = (
                f"Your face is too bright (brightness {luma:.0f} of 255, at most "
                f"{t.face_luma_high:.0f}). Avoid direct sun or flash."
            )
        else:
            e_status, e_message = "pass", "The light on your face is good."
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
            Check(
                "exposure",
                e_status,
                luma,
                t.face_luma_low if luma < t.face_luma_low else t.face_luma_high,
                e_message,
            ),
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
