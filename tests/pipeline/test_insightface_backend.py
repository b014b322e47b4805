"""The insightface backend, loaded through the production code from tiny ONNX models
that the tests build, with every network socket refused."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import ModelMissing, PipelineError
from pipeline.faces.insightface import InsightFaceAnalyzer
from tests.pipeline.tiny_insightface import build_detector, build_recognizer

pytest.importorskip(
    "insightface", reason="the insightface backend is not installed (make install adds it)"
)

SCALE = 640 / 512  # the tiny detector's input against the 512 px portrait


@pytest.fixture
def portrait_face(analyzer, astronaut_rgb):
    """Where the face of the portrait is (from dlib), as SCRFD's box and five keypoints."""
    face = analyzer.detect(astronaut_rgb)[0]
    left, right = face.eye_centres()
    nose_tip = face.landmarks[4] - [0, 8]
    keypoints = np.array([left, right, nose_tip, nose_tip + [-18, 22], nose_tip + [18, 22]])
    x0, y0, x1, y1 = face.box
    return (x0, y0 - 12, x1, y1 + 8), keypoints


@pytest.fixture
def model_dir(tmp_path, portrait_face):
    box, keypoints = portrait_face
    folder = tmp_path / "insightface" / "buffalo_l"
    build_detector(
        folder / "det_10g.onnx", box=tuple(v * SCALE for v in box), keypoints=keypoints * SCALE
    )
    build_recognizer(folder / "w600k_r50.onnx", seed=1)
    return tmp_path


def test_loads_and_detects_through_the_production_path(
    no_network, model_dir, astronaut_rgb, portrait_face
):
    analyzer = InsightFaceAnalyzer().load(model_dir)
    faces = analyzer.detect(astronaut_rgb)
    assert len(faces) == 1
    box, keypoints = portrait_face
    face = faces[0]
    assert face.scheme == "arcface5" and face.score == pytest.approx(0.93, abs=1e-3)
    assert np.allclose(face.box, box, atol=1.0)
    assert np.allclose(face.landmarks, keypoints, atol=1.0)
    left, right = face.eye_centres()
    assert np.allclose(left, keypoints[0], atol=1.0) and np.allclose(right, keypoints[1], atol=1.0)


def test_embedding_is_512_d_deterministic_and_depends_on_the_face(
    no_network, model_dir, astronaut_rgb
):
    analyzer = InsightFaceAnalyzer().load(model_dir)
    face = analyzer.detect(astronaut_rgb)[0]
    first, again = analyzer.embed(astronaut_rgb, face), analyzer.embed(astronaut_rgb, face)
    assert first.shape == (512,) and np.linalg.norm(first) == pytest.approx(1.0)
    assert np.array_equal(first, again)
    darker = (astronaut_rgb * 0.5).astype(np.uint8)
    assert not np.allclose(analyzer.embed(darker, face), first)


def test_checks_run_on_this_backend(no_network, model_dir, astronaut_rgb):
    from pipeline.checks import PhotoChecker

    report = PhotoChecker(InsightFaceAnalyzer().load(model_dir))(astronaut_rgb)
    codes = {c.code: c for c in report.checks}
    assert report.usable and codes["head_pose"].status == "pass"
    assert codes["eyes_covered"].status == "pass" and codes["side_shadow"].status == "pass"


def test_missing_files_are_named_with_how_to_install(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        InsightFaceAnalyzer(pack="antelopev2").load(tmp_path)
    message = caught.value.message
    assert str(tmp_path / "insightface" / "antelopev2" / "det_10g.onnx") in message
    assert "w600k_r50.onnx" in message and "licence" in message and "pip install" in message


def test_a_model_in_the_wrong_role_is_refused(tmp_path):
    folder = tmp_path / "insightface" / "buffalo_l"
    build_recognizer(folder / "det_10g.onnx")
    build_recognizer(folder / "w600k_r50.onnx")
    with pytest.raises(PipelineError, match="not a face detection model"):
        InsightFaceAnalyzer().load(tmp_path)


def test_pipeline_uses_the_configured_backend(no_network, model_dir):
    from pipeline.orchestrator import HeadshotPipeline, PipelineConfig

    pipeline = HeadshotPipeline.from_config(
        PipelineConfig(face_backend="insightface", model_dir=model_dir, licence_profile="research")
    )
    assert pipeline.analyzer.name == "insightface-arcface"
    assert pipeline.identity_threshold == 0.28
    with pytest.raises(ModelMissing):
        HeadshotPipeline.from_config(
            PipelineConfig(
                face_backend="insightface",
                model_dir=model_dir,
                insightface_pack="nothing-here",
                licence_profile="research",
            )
        )
