from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.checks import CheckThresholds, PhotoChecker
from pipeline.imaging import decode_image

LIMITS = {"max_bytes": 20_000_000, "max_pixels": 40_000_000}


def check(analyzer, data: bytes, thresholds: CheckThresholds | None = None):
    pixels = decode_image(data, **LIMITS).pixels
    return PhotoChecker(analyzer, thresholds)(pixels)


def statuses(report) -> dict[str, str]:
    return {c.code: c.status for c in report.checks}


def test_accepts_a_clear_portrait(analyzer, selfies):
    report = check(analyzer, selfies["selfie-01.png"])
    assert report.usable and report.faces == 1
    assert statuses(report)["exposure"] == "pass"
    for item in report.checks:
        assert item.message and item.status in {"pass", "warn", "fail"}


def test_rejects_photo_without_a_face(analyzer, selfies):
    report = check(analyzer, selfies["selfie-08-cat.png"])
    assert not report.usable
    assert statuses(report)["no_face"] == "fail"


def test_rejects_photo_with_several_faces(analyzer, selfies):
    report = check(analyzer, selfies["selfie-09-group.jpg"])
    assert not report.usable and report.faces == 6
    failed = next(c for c in report.checks if c.code == "multiple_faces")
    assert failed.status == "fail" and "alone" in failed.message


def test_rejects_blurred_photo_and_says_why(analyzer, selfies):
    sharp = check(analyzer, selfies["selfie-01.png"])
    blurred = check(analyzer, selfies["selfie-06-blurred.jpg"])
    value = {c.code: c for c in blurred.checks}["sharpness"]
    assert value.status == "fail" and "blurred" in value.message
    assert value.value < {c.code: c for c in sharp.checks}["sharpness"].value


def test_rejects_dark_photo_but_not_for_blur(analyzer, selfies):
    report = check(analyzer, selfies["selfie-07-dark.jpg"])
    assert statuses(report)["exposure"] == "fail"
    assert statuses(report)["sharpness"] != "fail"


def test_rejects_overexposed_face(analyzer, astronaut_rgb):
    bright = np.clip(astronaut_rgb.astype(np.float32) * 1.25 + 25, 0, 255).astype(np.uint8)
    report = PhotoChecker(analyzer)(bright)
    assert statuses(report)["exposure"] == "fail"


def test_face_size_against_its_thresholds(analyzer, astronaut_rgb):
    small = PhotoChecker(analyzer)(astronaut_rgb)
    size = {c.code: c for c in small.checks}["face_size"]
    assert size.status == "warn" and size.value == pytest.approx(90, abs=6)
    assert "Move closer" in size.message
    big = cv2.resize(astronaut_rgb, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    assert statuses(PhotoChecker(analyzer)(big))["face_size"] == "pass"
    strict = PhotoChecker(analyzer, CheckThresholds(min_face_px_fail=120))(astronaut_rgb)
    assert statuses(strict)["face_size"] == "fail" and not strict.usable


def test_weak_second_detection_only_warns(analyzer, selfies):
    report = check(analyzer, selfies["selfie-03-tilt.jpg"])
    assert report.usable
    assert statuses(report)["multiple_faces"] in {"pass", "warn"}
