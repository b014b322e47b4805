from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.checks.attributes import measure, summarise
from pipeline.faces.geometry import aligned_crop


def test_portrait_attributes(analyzer, astronaut_rgb):
    found = measure(astronaut_rgb, analyzer.detect(astronaut_rgb)[0])
    assert found.skin_tone == "light" and 41 < found.skin_ita <= 55
    assert not found.glasses and not found.facial_hair
    assert found.hair_color == "brown"


def test_skin_tone_is_a_colour_measure_that_orders_people(analyzer, group):
    itas = sorted(measure(group, f).skin_ita for f in analyzer.detect(group))
    assert itas[0] < 35 < itas[-1]  # the group spans intermediate to very light skin


def test_glasses_are_noticed(analyzer, astronaut_rgb):
    face = analyzer.detect(astronaut_rgb)[0]
    left, right = face.eye_centres()
    with_glasses = astronaut_rgb.copy()
    for centre in (left, right):
        cv2.ellipse(
            with_glasses, (int(centre[0]), int(centre[1])), (13, 9), 0, 0, 360, (25, 25, 25), 2
        )
    cv2.line(
        with_glasses,
        (int(left[0] + 13), int(left[1])),
        (int(right[0] - 13), int(right[1])),
        (25, 25, 25),
        2,
    )
    found = measure(with_glasses, analyzer.detect(with_glasses)[0])
    assert found.glasses and found.glasses_score > 3.0


def test_facial_hair_is_noticed(analyzer, astronaut_rgb):
    face = analyzer.detect(astronaut_rgb)[0]
    nose = face.landmarks[4]
    rng = np.random.default_rng(0)
    bearded = astronaut_rgb.copy()
    x0, x1 = int(nose[0]) - 30, int(nose[0]) + 30
    y0, y1 = int(nose[1]) + 3, int(nose[1]) + 75
    beard = np.clip(rng.normal((60, 45, 35), 12, (y1 - y0, x1 - x0, 3)), 0, 255).astype(np.uint8)
    bearded[y0:y1, x0:x1] = beard
    found = measure(bearded, analyzer.detect(bearded)[0])
    assert found.facial_hair and found.facial_hair_score > 0.28


def test_summary_takes_medians_and_majorities(analyzer, astronaut_rgb):
    one = measure(astronaut_rgb, analyzer.detect(astronaut_rgb)[0]).as_dict()
    summary = summarise([one, {**one, "glasses": True, "skin_ita": 30.0}, one])
    assert summary["glasses"] is False and summary["skin_ita"] == one["skin_ita"]
    assert summary["photos"] == 3 and summary["hair_color"] == "brown"
    assert summarise([]) == {}


def test_turned_photos_get_no_attributes(analyzer, group):
    from pipeline.orchestrator import HeadshotPipeline, PipelineConfig
    from tests.conftest import to_jpeg

    pipeline = HeadshotPipeline(analyzer, PipelineConfig())
    turned = min(analyzer.detect(group), key=lambda f: f.landmarks[4][0] - f.eye_centres()[0][0])
    x0, y0, x1, y1 = (int(v) for v in turned.box)
    crop = np.ascontiguousarray(group[max(0, y0 - 100) : y1 + 100, max(0, x0 - 100) : x1 + 100])
    analysis = pipeline.check_photo(to_jpeg(crop))
    assert abs(analysis.report.yaw) > 25 and analysis.report.attributes is None
    frontal = pipeline.check_photo(to_jpeg(np.asarray(group[150:520, 0:260])))
    assert frontal.report.attributes is not None


@pytest.mark.parametrize("size", [512, 1024])
def test_aligned_crop_puts_the_eyes_level_where_expected(analyzer, astronaut_rgb, size):
    tilted = cv2.warpAffine(astronaut_rgb, cv2.getRotationMatrix2D((256, 256), 12, 1.0), (512, 512))
    crop = aligned_crop(tilted, analyzer.detect(tilted)[0].eye_centres(), size)
    assert crop.shape == (size, size, 3)
    left, right = analyzer.detect(crop)[0].eye_centres()
    assert abs(left[1] - right[1]) < 0.02 * size
    assert (left[1] + right[1]) / 2 == pytest.approx(0.38 * size, abs=0.03 * size)
    assert (right[0] - left[0]) == pytest.approx(size / 3, rel=0.08)
