from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from pipeline.faces import DlibFaceAnalyzer
from pipeline.tools import manifest


def test_manifest_lists_every_file_the_face_backends_load():
    from pipeline.faces.insightface import InsightFaceAnalyzer

    listed = {Path(m.location.partition(":")[2]).name for m in manifest.load()}
    from pipeline.backends.identity_adapters import METHODS
    from pipeline.backends.sdxl import SDXLModel

    insightface = InsightFaceAnalyzer()
    sdxl = SDXLModel().base_folder(Path("models"))
    loaded = {
        (sdxl / "model_index.json").name,
        *(path.name for method in METHODS.values() for path in method.files(Path("models"))),
        *DlibFaceAnalyzer.files.values(),
        DlibFaceAnalyzer.landmarks68_file,
        insightface.detection_file,
        insightface.recognition_file,
    }
    assert loaded <= listed


def test_every_shipped_file_matches_its_checksum():
    for model in manifest.load():
        if model.location.startswith("package:"):
            assert manifest.status(model, None, verify=True) == "installed", model.name


def test_verify_notices_a_changed_or_missing_file(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"tampered")
    entry = {
        "role": "test",
        "backend": "test",
        "source": "a test",
        "licence": "CC0",
        "commercial_use": True,
        "enabled_by": "always",
        "sha256": "0" * 64,
    }
    changed = manifest.ModelFile(name="changed", location="model_dir:weights.bin", **entry)
    gone = manifest.ModelFile(name="gone", location="model_dir:nowhere.bin", **entry)
    assert manifest.status(changed, tmp_path, verify=True) == "checksum mismatch"
    assert manifest.status(changed, tmp_path, verify=False) == "installed"
    assert manifest.status(gone, tmp_path, verify=True) == "missing"


@pytest.mark.django_db
def test_models_command_shows_licences_and_what_is_enabled():
    out = io.StringIO()
    call_command("models", "list", "--json", stdout=out)
    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    assert (
        rows["dlib-resnet-face-recognition-v1"]["enabled"]
        and rows["dlib-resnet-face-recognition-v1"]["commercial_use"]
    )
    restricted = rows["dlib-68-point-landmarks"]
    assert not restricted["enabled"] and restricted["commercial_use"] is False
    assert "commercial" in restricted["licence"]


@pytest.mark.django_db
def test_models_verify_fails_for_an_enabled_missing_file(settings, monkeypatch, tmp_path):
    broken = tmp_path / "models.yaml"
    broken.write_text(
        manifest.MANIFEST.read_text().replace("shape_predictor_5_face_landmarks.dat", "gone.dat")
    )
    monkeypatch.setattr(manifest, "MANIFEST", broken)
    monkeypatch.setattr(manifest.load, "__defaults__", (broken,))
    with pytest.raises(CommandError, match="dlib-5-point-landmarks is missing"):
        call_command("models", "verify", stdout=io.StringIO())


@pytest.mark.django_db
def test_configured_controlnets_are_enabled_and_their_absence_is_named(settings, tmp_path):
    settings.HEADSHOTS = {
        **settings.HEADSHOTS,
        "MODEL_DIR": str(tmp_path),
        "FACE_BACKEND": "insightface",
        "GENERATION_BACKEND": "diffusion",
        "CONTROLNETS": ("pose",),
    }
    out = io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("models", "list", "--json", stdout=out)
    rows = {row["name"]: row for row in json.loads(out.getvalue())}
    assert rows["controlnet-pose"]["enabled"] and not rows["controlnet-depth"]["enabled"]
    assert rows["dlib-resnet-face-recognition-v1"]["enabled"]  # the second identity opinion
    assert (
        f"controlnet-pose is missing at {tmp_path / 'controlnet' / 'pose' / 'config.json'}"
        in str(caught.value)
    )


def test_the_commercial_profile_refuses_a_non_commercial_model_and_names_what_to_use(tmp_path):
    from pipeline.config import PipelineConfig
    from pipeline.errors import PipelineError
    from pipeline.orchestrator import HeadshotPipeline

    with pytest.raises(PipelineError) as caught:
        HeadshotPipeline.from_config(
            PipelineConfig(model_dir=tmp_path, face_detector="hog", landmarks68=True)
        )
    assert caught.value.code == "licence_refused"
    message = caught.value.message
    assert "dlib-68-point-landmarks" in message and "iBUG 300-W" in message
    assert "MediaPipe's face mesh" in message and "HEADSHOTS_LICENCE_PROFILE=research" in message
    # refused before anything is loaded: the empty model folder is never looked at
    with pytest.raises(PipelineError) as diffusion:
        HeadshotPipeline.from_config(
            PipelineConfig(
                model_dir=tmp_path, generation_backend="diffusion", identity_method="faceid"
            )
        )
    assert diffusion.value.code == "licence_refused"
    assert "ip-adapter-faceid-sdxl" in diffusion.value.message
    assert "HEADSHOTS_IDENTITY_METHOD=lora" in diffusion.value.message
    # the per-person LoRA method loads SDXL alone: nothing refused
    lora = PipelineConfig(
        model_dir=tmp_path, generation_backend="diffusion", identity_method="lora"
    )
    assert manifest.licence_problems(lora) == []
    assert "ip-adapter-faceid-sdxl" not in manifest.enabled_models(lora)
    # the research profile is an explicit choice, and then the same file loads
    research = HeadshotPipeline.from_config(
        PipelineConfig(
            model_dir=tmp_path, face_detector="hog", landmarks68=True, licence_profile="research"
        )
    )
    assert research.analyzer.use_landmarks68
    with pytest.raises(PipelineError, match="Unknown licence profile 'free'"):
        HeadshotPipeline.from_config(PipelineConfig(licence_profile="free"))


def test_every_non_commercial_file_names_a_clean_alternative():
    for model in manifest.load():
        assert model.commercial_use or model.alternative, model.name


@pytest.mark.django_db
def test_models_list_groups_by_licence_profile_and_refuses_under_commercial(settings):
    out = io.StringIO()
    call_command("models", "list", stdout=out)
    text = out.getvalue()
    cleared, research = text.split("Non-commercial research only (the research profile):")
    assert "Cleared for commercial use" in cleared and "dlib-resnet-face-recognition-v1" in cleared
    assert "dlib-68-point-landmarks" in research and "instead: leave" in research
    assert "dlib-68-point-landmarks" not in cleared
    settings.HEADSHOTS = {**settings.HEADSHOTS, "DLIB_68_LANDMARKS": True}
    with pytest.raises(CommandError, match="licensed for non-commercial use only"):
        call_command("models", "list", stdout=io.StringIO())
    settings.HEADSHOTS = {**settings.HEADSHOTS, "LICENCE_PROFILE": "research"}
    out = io.StringIO()
    call_command("models", "list", stdout=out)
    assert out.getvalue().startswith("Licence profile in use: research")
