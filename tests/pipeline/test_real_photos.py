"""Real photographs of people as they come (the corpus in pipeline/tools/samples.py, source
and licence per file): a crop through the face, a press photo at a lectern, a wide shot, an
official portrait, an older woman with glasses. What a person would reject in a headshot
is either refused with its reason or never made: the selfie is passed over, the framing is
not offered, the neighbour is cut away, the glow is not left round the hair."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.backends.base import GenerationRequest, Selfie
from pipeline.backends.soundness import HALO_SHARE, VISIBLE_TOUCH, one_person
from pipeline.backends.studio import StudioBackend
from pipeline.backends.studio_looks import Look
from pipeline.backends.studio_renderer import StudioRenderer
from pipeline.checks import PhotoChecker
from pipeline.config import PipelineConfig
from pipeline.identity import Enrollment
from pipeline.orchestrator import HeadshotPipeline
from pipeline.presets import load_shipped
from pipeline.prompts import build_prompt
from pipeline.records import PhotoRecord, selfie_quality

WHOLE = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "grace_hopper.jpg"]
PRESET = "corporate-executive"


def verdicts(report) -> dict[str, str]:
    return {c.code: c.status for c in report.checks}


@pytest.fixture(scope="module")
def checker(finder):
    return PhotoChecker(finder)


@pytest.fixture(scope="module")
def renderer(segmenter, mesh):
    return StudioRenderer(load_shipped()[PRESET], segmenter=segmenter, mesh=mesh)


def as_selfie(checker, corpus, name: str) -> Selfie:
    pixels = corpus(name)
    report = checker(pixels)
    assert report.face is not None, name
    return Selfie(key=name, pixels=pixels, face=report.face, quality=selfie_quality(report))


def request_for(selfies: list[Selfie]) -> GenerationRequest:
    preset = load_shipped()[PRESET]
    return GenerationRequest(
        preset=preset,
        preset_version=1,
        prompt=build_prompt(preset, {}),
        selfies=selfies,
        enrollment=Enrollment(
            embedding=np.zeros(128),
            used=[s.key for s in selfies],
            outliers=[],
            similarity=np.ones((len(selfies), len(selfies))),
            keys=[s.key for s in selfies],
        ),
        base_seed=1,
    )


def test_every_photo_of_a_whole_person_is_usable(checker, corpus):
    for name in WHOLE:
        report = checker(corpus(name))
        assert report.usable, (name, [c for c in report.checks if c.status == "fail"])
        assert verdicts(report)["head_in_frame"] == "pass", name
        assert verdicts(report)["face_covered"] == "pass", name


def test_a_photo_that_cuts_through_the_head_is_refused_and_says_why(checker, corpus):
    for name in ["obama_partial_face.jpg", "obama_partial_face2.jpg"]:
        report = checker(corpus(name))
        assert not report.usable, name
        check = next(c for c in report.checks if c.code == "head_in_frame")
        assert check.status == "fail" and check.value > 0.2, name
        assert "Part of your head is outside the photo" in check.message


def test_mid_speech_is_flagged_and_passed_over_as_a_source(checker, corpus, segmenter):
    speech = checker(corpus("obama2.jpg"))
    smile = checker(corpus("obama.jpg"))
    assert verdicts(speech)["mouth_open"] == "warn"
    assert "as if speaking" in next(c.message for c in speech.checks if c.code == "mouth_open")
    assert verdicts(smile)["mouth_open"] == "pass"  # a smile with teeth is not speech
    assert selfie_quality(speech) < 0 <= selfie_quality(smile)
    # given first, the mid-speech photo still gives no candidate while another can
    selfies = [as_selfie(checker, corpus, n) for n in ["obama2.jpg", "obama.jpg"]]
    backend = StudioBackend(segmenter=segmenter, candidates=3)
    result = backend(request_for(selfies), lambda percent, stage: None)
    assert {c.source_key for c in result.candidates} == {"obama.jpg"}


def test_a_framing_the_photo_cannot_fill_is_not_offered(checker, corpus, renderer):
    """The lectern photo ends at the shoulders' sides: its wider framings would show the
    photo's edge as a straight line through the body; the close-up fits."""
    selfie = as_selfie(checker, corpus, "obama2.jpg")
    prepared = renderer.prepare(selfie.pixels, selfie.face, seed=1)
    assert not prepared.problem
    wide = renderer.render(prepared, seed=1, look=Look(framing="chest-up"))
    close = renderer.render(prepared, seed=1, look=Look(framing="close-up"))
    assert wide.problem == "in this framing the photo's edge would cut through you"
    assert wide.measures["edge_cut"] > 0.25
    assert not close.problem and close.measures["edge_cut"] < 0.25
    # a portrait down to the knees fills every framing
    biden = as_selfie(checker, corpus, "biden.jpg")
    ready = renderer.prepare(biden.pixels, biden.face, seed=1)
    for framing in ["close-up", "head and shoulders", "chest-up"]:
        rendered = renderer.render(ready, seed=1, look=Look(framing=framing))
        assert not rendered.problem and rendered.measures["edge_cut"] == 0.0, framing


def test_a_look_comes_from_the_next_selfie_that_can_give_it(checker, corpus, segmenter, mesh):
    """Two selfies taking turns: where the lectern photo's edge would show, the look is
    made from the portrait instead, so every candidate can be offered."""
    selfies = [as_selfie(checker, corpus, n) for n in ["obama2.jpg", "obama.jpg"]]
    selfies = [Selfie(key=s.key, pixels=s.pixels, face=s.face, quality=1.0) for s in selfies]
    result = StudioBackend(segmenter=segmenter, mesh=mesh, candidates=6)(
        request_for(selfies), lambda percent, stage: None
    )
    assert all(not c.problem for c in result.candidates)
    framing = {c.key: (c.info["look"]["framing"], c.source_key) for c in result.candidates}
    assert ("chest-up", "obama.jpg") in framing.values()
    assert ("chest-up", "obama2.jpg") not in framing.values()
    assert ("close-up", "obama2.jpg") in framing.values()


def test_only_the_person_is_cut_out_never_a_neighbour(finder, group, segmenter, renderer):
    """Six people side by side (the group photo): the segmentation model takes them all
    for one person. The cut-out keeps the person of the face alone; where a neighbour is
    pressed against them the cut would run along a line, so no candidate is made."""
    faces = finder.detect(group)
    person = segmenter(group)
    centres = [np.round((f.eye_centres()[0] + f.eye_centres()[1]) / 2).astype(int) for f in faces]
    subject = int(np.argmin([abs(c[0] - group.shape[1] / 2) for c in centres]))  # the middle one
    kept, touch = one_person(person, faces[subject].eye_centres())
    for index, (x, y) in enumerate(centres):
        assert person[y, x] > 0.5
        assert (kept[y, x] > 0.5) == (index == subject), index
    assert touch > VISIBLE_TOUCH
    prepared = renderer.prepare(group, faces[subject], seed=1)
    assert prepared.problem == "somebody next to you in the photo touches your outline"


def test_a_person_alone_loses_nothing_to_the_cut(checker, corpus, renderer, monkeypatch):
    """The lectern photo, the wide shot, the portraits: nobody beside them, nothing of them
    taken away by the envelope that keeps neighbours out."""
    import pipeline.backends.studio_renderer as studio_renderer

    seen = {}

    def watched(mask, eyes):
        kept, touch = one_person(mask, eyes)
        seen.update(mask=mask, kept=kept, touch=touch)
        return kept, touch

    monkeypatch.setattr(studio_renderer, "one_person", watched)
    for name in WHOLE:
        selfie = as_selfie(checker, corpus, name)
        assert not renderer.prepare(selfie.pixels, selfie.face, seed=1).problem, name
        removed = (seen["mask"] > 0.5) & (seen["kept"] < 0.5)
        assert removed.sum() < 1e-3 * (seen["mask"] > 0.5).sum(), name
        assert seen["touch"] == 0.0, name


def test_no_light_glow_is_left_round_the_hair(checker, corpus, renderer, monkeypatch):
    """The portrait's dark hair against a bright window: the segmentation's soft edge
    spreads into the window, and without the colour check the headshot shows a light
    cloud round the crown. The measure sees it; the matte no longer leaves it."""
    selfie = as_selfie(checker, corpus, "obama.jpg")
    looks = [Look(framing=f) for f in ["close-up", "head and shoulders", "chest-up"]]
    prepared = renderer.prepare(selfie.pixels, selfie.face, seed=1)
    clean = [renderer.render(prepared, seed=1, look=look) for look in looks]
    assert all(r.measures["halo"] <= HALO_SHARE and not r.problem for r in clean)
    import pipeline.backends.studio_renderer as studio_renderer

    monkeypatch.setattr(studio_renderer, "unmix", lambda pixels, alpha, sigma: alpha)
    unchecked = renderer.prepare(selfie.pixels, selfie.face, seed=1)
    glowing = [renderer.render(unchecked, seed=1, look=look) for look in looks]
    assert max(r.measures["halo"] for r in glowing) > HALO_SHARE
    assert "a light fringe shows round your hair" in {r.problem for r in glowing}


def test_something_in_front_of_the_face_is_flagged(checker, corpus):
    """The lectern's real microphone, cut out of that photo, held over the portrait's cheek."""
    import cv2

    lectern = corpus("obama2.jpg")
    microphone = lectern[670:800, 245:365]
    shape = cv2.cvtColor(microphone, cv2.COLOR_RGB2GRAY) < 70
    portrait = corpus("obama.jpg").copy()
    report = checker(portrait)
    left, right = report.face.eye_centres()
    scale = float(np.linalg.norm(right - left)) / 90.0
    microphone = cv2.resize(microphone, None, fx=scale, fy=scale)
    shape = cv2.resize(shape.astype(np.uint8), None, fx=scale, fy=scale) > 0
    height, width = shape.shape
    x0, y0 = int(left[0] - width * 0.6), int(left[1] + width * 0.1)  # on the cheek below the eye
    region = portrait[y0 : y0 + height, x0 : x0 + width]
    region[shape] = microphone[shape]
    covered = checker(portrait)
    check = next(c for c in covered.checks if c.code == "face_covered")
    assert check.status == "warn" and check.value > 0.1
    assert "in front of your face" in check.message
    assert selfie_quality(covered) < 0


def test_real_photos_give_headshots_that_pass_every_gate(finder, corpus, installed_models):
    """Through the pipeline's one door, one photo at a time: the portrait (deep skin tone),
    the older woman with glasses, the wide shot, the portrait down to the knees. Each gives
    candidates the gates accept (identity, skin tone, glasses as they were, nothing a
    person would reject)."""
    config = PipelineConfig(model_dir=installed_models, min_usable_photos=1, studio_candidates=4)
    pipeline = HeadshotPipeline(finder, config)
    preset = load_shipped()[PRESET]
    for name in ["obama.jpg", "grace_hopper.jpg", "obama3.jpg", "biden.jpg"]:
        analysis = pipeline.check_photo(_encoded(corpus(name)))
        record = PhotoRecord(
            key=name,
            embedding=analysis.embedding,
            attributes=analysis.report.attributes,
            load=lambda: b"",
            selfie=analysis.selfie(name),
        )
        run = pipeline.run(photos=[record], preset=preset, preset_version=1, base_seed=3)
        accepted = [s for s in run.ranking if s.accepted]
        assert len(accepted) >= 2, (name, [(s.key, s.reason) for s in run.ranking])
        assert all(s.scores["glasses_kept"] == 1.0 for s in accepted), name


def _encoded(pixels: np.ndarray) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()
