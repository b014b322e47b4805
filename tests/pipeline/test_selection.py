from __future__ import annotations

import numpy as np
import pytest

from pipeline.backends.studio_renderer import StudioRenderer
from pipeline.checks.attributes import measure
from pipeline.presets import load_shipped
from pipeline.selection import CandidateSelector


@pytest.fixture(scope="module")
def preset():
    return load_shipped()["corporate-executive"]


@pytest.fixture(scope="module")
def portrait(analyzer, astronaut_rgb):
    face = analyzer.detect(astronaut_rgb)[0]
    return face, analyzer.embed(astronaut_rgb, face), measure(astronaut_rgb, face).as_dict()


@pytest.fixture(scope="module")
def render(preset, segmenter):
    """A render in the seed's look of the job's plan (so two seeds are two looks)."""
    from pipeline.backends.studio_looks import plan

    renderer = StudioRenderer(preset, segmenter=segmenter)
    looks = plan(preset, 12)
    return lambda pixels, face, seed: (
        renderer(pixels, face, seed=seed, look=looks[seed % len(looks)]).pixels
    )


def selector(analyzer) -> CandidateSelector:
    return CandidateSelector(analyzer, identity_threshold=analyzer.same_person_threshold)


def test_ranks_good_candidates_and_records_every_score(
    analyzer, astronaut_rgb, portrait, render, preset
):
    face, identity, enrolled = portrait
    candidates = {f"c{i}": render(astronaut_rgb, face, i) for i in range(3)}
    ranking = selector(analyzer)(candidates, identity, preset, enrolled)
    assert [r.rank for r in ranking] == [1, 2, 3] and all(r.accepted for r in ranking)
    assert ranking[0].total >= ranking[1].total >= ranking[2].total
    for r in ranking:
        assert {
            "identity",
            "sharpness",
            "exposure",
            "framing",
            "skin_delta_e",
            "glasses_kept",
        } <= set(r.scores)
        assert r.scores["skin_delta_e"] < 5 and r.scores["glasses_kept"] == 1.0


def test_someone_else_is_rejected_by_the_identity_gate(
    analyzer, astronaut_rgb, portrait, render, preset, group
):
    face, identity, enrolled = portrait
    other_face = analyzer.detect(group)[0]
    ranking = selector(analyzer)(
        {"other": render(group, other_face, 1)}, identity, preset, enrolled
    )
    assert not ranking[0].accepted and "may not look like you" in ranking[0].reason


def test_changed_skin_tone_is_rejected(analyzer, astronaut_rgb, portrait, render, preset):
    face, identity, enrolled = portrait
    pixels = render(astronaut_rgb, face, 1).astype(np.float32)
    tinted = np.clip(pixels * np.array([0.75, 0.68, 0.6], np.float32), 0, 255).astype(np.uint8)
    ranking = selector(analyzer)({"tinted": tinted}, identity, preset, enrolled)
    assert not ranking[0].accepted and "skin tone changed" in ranking[0].reason
    assert ranking[0].scores["skin_delta_e"] > 10


def test_removed_glasses_are_rejected(analyzer, astronaut_rgb, portrait, render, preset):
    face, identity, enrolled = portrait
    wears_glasses = {**enrolled, "glasses": True}
    ranking = selector(analyzer)(
        {"c1": render(astronaut_rgb, face, 1)}, identity, preset, wears_glasses
    )
    assert not ranking[0].accepted and ranking[0].reason == "glasses removed"
    assert ranking[0].scores["glasses_kept"] == 0.0


def test_near_duplicates_are_dropped(analyzer, astronaut_rgb, portrait, render, preset):
    face, identity, enrolled = portrait
    same = render(astronaut_rgb, face, 1)
    ranking = selector(analyzer)({"a": same, "b": same.copy()}, identity, preset, enrolled)
    assert [r.accepted for r in ranking] == [True, False]
    assert "near-duplicate" in ranking[1].reason


class Flattering:
    """A conditioning model that rates every face as the person: the reason for a second opinion."""

    name = "flattering"
    same_person_threshold = 0.5

    def __init__(self, analyzer, identity):
        self.analyzer, self.identity = analyzer, identity

    def detect(self, pixels):
        return self.analyzer.detect(pixels)

    def embed(self, pixels, face):
        return self.identity


def test_a_second_face_model_rejects_what_the_conditioning_model_flatters(
    analyzer, astronaut_rgb, group, portrait, render, preset
):
    from pipeline.selection import IdentityCheck

    face, identity, _ = portrait
    stranger = max(analyzer.detect(group), key=lambda f: f.area)
    candidates = {
        "same": render(astronaut_rgb, face, 1),
        "other": render(group, stranger, 1),
    }
    check = IdentityCheck(
        analyzer=analyzer, reference=identity, threshold=analyzer.same_person_threshold
    )
    flattering = Flattering(analyzer, identity)
    alone = CandidateSelector(flattering, identity_threshold=0.5)(candidates, identity, preset)
    assert all(item.accepted for item in alone)  # the conditioning model alone is fooled
    ranking = CandidateSelector(flattering, identity_threshold=0.5, check=check)(
        candidates, identity, preset
    )
    verdicts = {item.key: item for item in ranking}
    assert verdicts["same"].accepted and verdicts["same"].scores["identity_check"] >= 0.93
    assert not verdicts["other"].accepted
    assert "second face model (dlib-resnet-v1)" in verdicts["other"].reason
    assert verdicts["other"].scores["identity"] == 1.0


def test_a_candidate_softer_than_a_refused_selfie_is_not_accepted(
    analyzer, astronaut_rgb, portrait, render, preset
):
    """The same measure, at the same scale, as the photo checks: under their fail line a
    candidate is held back, with the reason."""
    import cv2

    face, identity, enrolled = portrait
    sharp = render(astronaut_rgb, face, 1)
    soft = cv2.GaussianBlur(sharp, (0, 0), 16)  # about 2.5 px on the judged 64 px face
    ranking = {
        r.key: r
        for r in selector(analyzer)({"sharp": sharp, "soft": soft}, identity, preset, enrolled)
    }
    assert ranking["sharp"].accepted and ranking["sharp"].scores["sharpness"] >= 0.35
    assert not ranking["soft"].accepted and "too soft" in ranking["soft"].reason
