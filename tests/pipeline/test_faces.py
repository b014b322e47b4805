from __future__ import annotations

import sys

import pytest

from pipeline.errors import ModelMissing
from pipeline.faces import DlibFaceAnalyzer


def test_finds_shipped_models_without_importing_their_package(monkeypatch):
    # face_recognition_models' __init__ imports pkg_resources, gone from setuptools 81+.
    monkeypatch.setitem(sys.modules, "pkg_resources", None)
    monkeypatch.delitem(sys.modules, "face_recognition_models", raising=False)
    directory = DlibFaceAnalyzer.default_model_dir()
    assert (directory / "dlib_face_recognition_resnet_model_v1.dat").is_file()
    assert "face_recognition_models" not in sys.modules


def test_missing_model_file_is_named_with_how_to_install(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        DlibFaceAnalyzer().load(tmp_path)
    message = caught.value.message
    assert str(tmp_path / "shape_predictor_5_face_landmarks.dat") in message
    assert "pip install face_recognition_models" in message


def test_detects_one_face_with_landmarks_and_unit_embedding(analyzer, astronaut_rgb):
    import numpy as np

    faces = analyzer.detect(astronaut_rgb)
    assert len(faces) == 1  # the weak hit on the flag is filtered by score
    face = faces[0]
    left, right = face.eye_centres()
    assert left[0] < right[0] and face.box[1] < left[1] < face.box[3]
    embedding = analyzer.embed(astronaut_rgb, face)
    assert embedding.shape == (128,) and np.linalg.norm(embedding) == pytest.approx(1.0)


def test_missing_segmentation_model_is_named_with_how_to_install(tmp_path):
    from pipeline.backends.segmentation import SelfieSegmenter

    with pytest.raises(ModelMissing) as caught:
        SelfieSegmenter().load(tmp_path)
    assert str(tmp_path / "mediapipe" / "selfie_segmentation.tflite") in caught.value.message
    assert "manage.py models install" in caught.value.message


def test_the_sample_portraits_known_face_is_what_the_detector_finds(analyzer, astronaut_rgb):
    """The preset editor's preview uses the sample's face without loading a face model;
    it must be the face the detector finds."""
    import numpy as np

    from pipeline.tools.samples import ASTRONAUT_FACE_BOX, ASTRONAUT_FACE_LANDMARKS

    face = analyzer.detect(astronaut_rgb)[0]
    assert np.allclose(face.box, ASTRONAUT_FACE_BOX, atol=2)
    assert np.allclose(face.landmarks, ASTRONAUT_FACE_LANDMARKS, atol=2)
