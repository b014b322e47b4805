"""Verdict parity along a skin-tone ladder: the public-domain portrait with its skin re-toned
across the ten Monk Skin Tone levels (pipeline/tools/skin_ladder.py), the scene, light,
hair, eyes and lips unchanged. In the same good light, every level must be found, checked
and rendered alike."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.backends.studio_renderer import StudioRenderer, measure_skin
from pipeline.checks import PhotoChecker
from pipeline.faces.analysis import cosine
from pipeline.faces.regions import lab
from pipeline.presets import load_shipped
from pipeline.tools.skin_ladder import MONK, ladder, skin_mask

LEVELS = len(MONK)


@pytest.fixture(scope="module")
def portrait(astronaut_rgb, analyzer, mesh, segmenter):
    face = analyzer.detect(astronaut_rgb)[0]
    points = mesh(astronaut_rgb, face)
    person = segmenter(astronaut_rgb)
    return face, skin_mask(astronaut_rgb, points, person), ladder(astronaut_rgb, points, person)


def test_the_ladder_changes_the_skin_and_nothing_else(astronaut_rgb, portrait):
    _, mask, rungs = portrait
    assert [r.level for r in rungs] == list(range(1, LEVELS + 1))
    outside = mask == 0
    lightness = []
    for rung in rungs:
        assert np.array_equal(rung.pixels[outside], astronaut_rgb[outside])
        lightness.append(float(lab(rung.pixels)[mask > 0.9][:, 0].mean()))
    # lightest first (the scale's second and third swatches are nearly as light)
    assert all(a > b - 1.0 for a, b in zip(lightness, lightness[1:], strict=False))
    assert lightness[0] - lightness[-1] > 60


def test_every_skin_tone_is_found_with_its_eyes_in_place(portrait, finder, analyzer):
    face, _, rungs = portrait
    left, right = face.eye_centres()
    iod = float(np.linalg.norm(right - left))
    for rung in rungs:
        faces = finder.detect(rung.pixels)
        assert len(faces) == 1, f"level {rung.level}"
        found_left, found_right = faces[0].eye_centres()
        assert np.linalg.norm(found_left - left) < 0.1 * iod, f"level {rung.level}"
        assert np.linalg.norm(found_right - right) < 0.1 * iod, f"level {rung.level}"
    # what the MediaPipe detector is for: HOG alone loses the deepest tones
    assert [r.level for r in rungs if not analyzer.detect(r.pixels)] != []


def test_every_check_gives_the_same_verdict_at_every_skin_tone(portrait, finder):
    face, _, rungs = portrait
    checker = PhotoChecker(finder)
    verdicts = {}
    for rung in rungs:
        report = checker(rung.pixels)
        # blown highlights on the lightest re-toned skin may warn; never a refusal
        verdicts[rung.level] = (
            report.usable,
            {c.code: c.status for c in report.checks if c.code != "clipping"},
        )
    assert len({repr(v) for v in verdicts.values()}) == 1, verdicts
    assert verdicts[1][0] is True


def test_the_studio_keeps_every_skin_tone_as_it_is(portrait, finder, segmenter, mesh):
    _, _, rungs = portrait
    renderer = StudioRenderer(load_shipped()["corporate-executive"], segmenter=segmenter, mesh=mesh)
    for rung in rungs:
        face = finder.detect(rung.pixels)[0]
        before = measure_skin(rung.pixels, face)
        rendered = renderer(rung.pixels, face, seed=1)
        assert not rendered.problem, f"level {rung.level}: {rendered.problem}"
        after = measure_skin(rendered.pixels, finder.detect(rendered.pixels)[0])
        # never lightened or darkened; the colour moves only by the white balance and
        # the preset's colour temperature, the same correction at every level
        assert abs(after[0] - before[0]) < 1.5, f"level {rung.level}"
        assert np.linalg.norm(after - before) < 10.0, f"level {rung.level}"
        # and the identity gate takes the headshot for the person in the selfie
        similarity = cosine(
            finder.embed(rung.pixels, face),
            finder.embed(rendered.pixels, finder.detect(rendered.pixels)[0]),
        )
        assert similarity > finder.same_person_threshold, f"level {rung.level}"


def test_landmarks_from_the_mesh_embed_a_face_as_dlibs_own_do(group, analyzer, mesh):
    """A face only the MediaPipe detector finds gets its five points from the mesh: the same
    person must embed the same whichever path found them (the identity gate compares)."""
    from pipeline.faces import Face
    from pipeline.faces.analysis import DLIB5_FROM_MESH

    for face in analyzer.detect(group)[:4]:
        points = mesh(group, face).points[list(DLIB5_FROM_MESH)]
        assert np.abs(points - face.landmarks).max() < 0.12 * face.height
        from_mesh = Face(box=face.box, score=face.score, landmarks=points)
        assert cosine(analyzer.embed(group, face), analyzer.embed(group, from_mesh)) > 0.98
