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


def by_code(report):
    return {c.code: c for c in report.checks}


def face_alone(pixels, face, margin=1.2):
    """A crop around one face of the group photo: a photo of that person alone."""
    x0, y0, x1, y1 = face.box
    w, h = x1 - x0, y1 - y0
    top, left = max(0, int(y0 - margin * h)), max(0, int(x0 - margin * w))
    return np.ascontiguousarray(pixels[top : int(y1 + margin * h), left : int(x1 + margin * w)])


def test_head_turned_away_fails_and_frontal_passes(analyzer, group, astronaut_rgb):
    frontal = by_code(PhotoChecker(analyzer)(astronaut_rgb))["head_pose"]
    assert frontal.status == "pass" and abs(frontal.value) < 10
    # Each person of the group photo alone; two of them look away from the camera.
    poses = sorted(
        (
            by_code(PhotoChecker(analyzer)(face_alone(group, f)))["head_pose"]
            for f in analyzer.detect(group)
        ),
        key=lambda c: abs(c.value),
    )
    assert [c.status for c in poses] == ["pass", "pass", "pass", "pass", "warn", "fail"]
    assert abs(poses[-1].value) > 45 and "look straight" in poses[-1].message
    assert 25 < abs(poses[-2].value) <= 45


def test_mirrored_photo_turns_the_other_way(analyzer, astronaut_rgb):
    yaw = by_code(PhotoChecker(analyzer)(astronaut_rgb))["head_pose"].value
    mirrored = by_code(PhotoChecker(analyzer)(astronaut_rgb[:, ::-1].copy()))["head_pose"].value
    assert yaw == pytest.approx(-mirrored, abs=1.5)


def test_harsh_side_shadow_fails(analyzer, astronaut_rgb):
    even = by_code(PhotoChecker(analyzer)(astronaut_rgb))["side_shadow"]
    assert even.status == "pass" and even.value > 0.85
    # Light falling off across the face: 30% on the image's left cheek, full on the right.
    x = np.arange(astronaut_rgb.shape[1], dtype=np.float32)
    shade = np.clip(0.3 + 0.7 * (x - 205) / 40, 0.3, 1.0)
    shadowed = (astronaut_rgb * shade[None, :, None]).astype(np.uint8)
    check = by_code(PhotoChecker(analyzer)(shadowed))["side_shadow"]
    assert check.status == "fail" and check.value < 0.45 and "left side" in check.message


def paint_ellipses(pixels, centres, axes, color):
    out = pixels.copy()
    for centre in centres:
        cv2.ellipse(out, tuple(int(v) for v in centre), axes, 0, 0, 360, color, -1)
    return out


def test_sunglasses_fail(analyzer, astronaut_rgb):
    face = analyzer.detect(astronaut_rgb)[0]
    lenses = paint_ellipses(astronaut_rgb, face.eye_centres(), (14, 10), (22, 22, 28))
    check = by_code(PhotoChecker(analyzer)(lenses))["eyes_covered"]
    assert check.status == "fail" and "sunglasses" in check.message
    assert by_code(PhotoChecker(analyzer)(astronaut_rgb))["eyes_covered"].status == "pass"


def test_covered_mouth_warns(analyzer, astronaut_rgb):
    face = analyzer.detect(astronaut_rgb)[0]
    nose = face.landmarks[4]
    covered = astronaut_rgb.copy()
    hand = (70, 90, 140)  # a uniform, non-skin colour over the mouth
    covered[int(nose[1]) + 6 : int(nose[1]) + 45, int(nose[0]) - 30 : int(nose[0]) + 30] = hand
    check = by_code(PhotoChecker(analyzer)(covered))["lower_face_covered"]
    assert check.status == "warn" and "mouth" in check.message
    assert by_code(PhotoChecker(analyzer)(astronaut_rgb))["lower_face_covered"].status == "pass"


def test_eyes_closed_needs_the_68_point_model(analyzer, astronaut_rgb, group):
    from pipeline.faces import DlibFaceAnalyzer

    report = PhotoChecker(analyzer)(astronaut_rgb)
    assert "eyes_closed" not in by_code(report) and "68-point" in report.not_measured["eyes_closed"]
    with68 = DlibFaceAnalyzer(landmarks68=True).load()
    open_eyes = by_code(PhotoChecker(with68)(astronaut_rgb))["eyes_closed"]
    assert open_eyes.status == "pass" and open_eyes.value > 0.25
    # A laughing person in the group photo, eyes narrowed to slits.
    squints = [
        by_code(PhotoChecker(with68)(group, [f]))["eyes_closed"] for f in with68.detect(group)
    ]
    narrowed = min(squints, key=lambda c: c.value)
    assert narrowed.status in {"warn", "fail"} and narrowed.value < 0.18
    assert "eyes open" in narrowed.message


def test_report_lists_what_it_could_not_measure(analyzer, astronaut_rgb):
    report = PhotoChecker(analyzer)(astronaut_rgb).as_dict()
    assert set(report["not_measured"]) == {
        "head_pitch",
        "eyes_closed",
        "mouth_open",
        "face_covered",
    }


def test_low_resolution_warns_and_full_resolution_passes(analyzer, astronaut_rgb):
    assert by_code(PhotoChecker(analyzer)(astronaut_rgb))["resolution"].status == "pass"
    small = cv2.resize(astronaut_rgb, (400, 400), interpolation=cv2.INTER_AREA)
    check = by_code(PhotoChecker(analyzer)(small))["resolution"]
    assert check.status == "warn" and check.value == 400 and "full resolution" in check.message


def test_clipped_highlights_and_shadows_warn(analyzer, astronaut_rgb):
    assert by_code(PhotoChecker(analyzer)(astronaut_rgb))["clipping"].status == "pass"
    harsh = np.clip((astronaut_rgb.astype(np.float32) - 128) * 2.6 + 150, 0, 255).astype(np.uint8)
    check = by_code(PhotoChecker(analyzer)(harsh))["clipping"]
    assert check.status == "warn" and check.value > 0.08


def test_head_pitch_is_measured_with_the_chin_of_the_68_point_model(analyzer, astronaut_rgb, group):
    from pipeline.faces import DlibFaceAnalyzer

    with68 = DlibFaceAnalyzer(landmarks68=True).load()
    level = by_code(PhotoChecker(with68)(astronaut_rgb))["head_pitch"]
    assert level.status == "pass" and abs(level.value) < 15
    # The group's laughing men tip their heads down a little; a strict threshold catches it.
    strict = PhotoChecker(with68, CheckThresholds(pitch_warn=8, pitch_fail=60))
    tilts = [by_code(strict(group, [f]))["head_pitch"] for f in with68.detect(group)]
    lowered = max(tilts, key=lambda c: c.value)
    assert lowered.status == "warn" and lowered.value > 8 and "tilted down" in lowered.message
    assert "head_pitch" in PhotoChecker(analyzer)(astronaut_rgb).not_measured


@pytest.mark.parametrize("factor", [2, 4])
def test_an_enlarged_photo_never_gets_a_worse_sharpness_verdict(analyzer, astronaut_rgb, factor):
    """The same portrait enlarged 2x or 4x is judged as the original (the intake had
    called it usable at 512 px and blurred at 1024 and 2048)."""
    import cv2

    order = {"pass": 0, "warn": 1, "fail": 2}
    original = {c.code: c for c in PhotoChecker(analyzer)(astronaut_rgb).checks}["sharpness"]
    big = cv2.resize(astronaut_rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
    enlarged = {c.code: c for c in PhotoChecker(analyzer)(big).checks}["sharpness"]
    assert order[enlarged.status] <= order[original.status]
    assert abs(enlarged.value - original.value) < 0.05


def test_jpeg_block_noise_is_not_detail(analyzer, astronaut_rgb):
    import io

    from PIL import Image

    from pipeline.checks import face_region, sharpness_score

    face = analyzer.detect(astronaut_rgb)[0]
    buffer = io.BytesIO()
    Image.fromarray(astronaut_rgb).save(buffer, "JPEG", quality=20)
    blocky = np.asarray(Image.open(buffer).convert("RGB"))

    def score(pixels):
        return sharpness_score(np.asarray(Image.fromarray(face_region(pixels, face)).convert("L")))

    assert score(blocky) <= score(astronaut_rgb)


def test_a_photo_too_blurred_to_find_a_face_is_told_so(analyzer, corpus):
    """A real portrait blurred until no face is found: the reason is the blur, not a
    missing face; a sharp photo without a face still hears that none was found."""
    from pipeline.checks.sharpness import image_blurred

    portrait = corpus("obama.jpg")
    short = min(portrait.shape[:2])
    blurred = cv2.GaussianBlur(portrait, (0, 0), short * 0.02)
    report = PhotoChecker(analyzer)(blurred, faces=[])
    (no_face,) = [c for c in report.checks if c.code == "no_face"]
    assert no_face.status == "fail" and "too blurred" in no_face.message
    sharp = PhotoChecker(analyzer)(portrait, faces=[])
    (plain,) = [c for c in sharp.checks if c.code == "no_face"]
    assert "We could not find a face" in plain.message
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "grace_hopper.jpg"):
        assert not image_blurred(corpus(name)), name  # no sharp photo reads as blurred
    assert not image_blurred(np.full((400, 300, 3), 128, np.uint8))  # flat: not a blur
