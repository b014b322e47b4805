from __future__ import annotations

import pytest

from pipeline.errors import ModelMissing, PipelineError
from pipeline.orchestrator import HeadshotPipeline, PipelineConfig, normalise_upload
from pipeline.presets import load_shipped

LIMITS = {"max_bytes": 50_000_000, "max_pixels": 50_000_000}


def test_checks_need_no_segmentation_model_and_generation_says_it_is_missing(tmp_path, selfies):
    pipeline = HeadshotPipeline.from_config(PipelineConfig(min_usable_photos=1, model_dir=tmp_path))
    normalised, _ = normalise_upload(selfies["selfie-01.png"], **LIMITS)
    analysis = pipeline.check_photo(normalised)
    assert analysis.report.usable and analysis.embedding is not None
    enrollment = pipeline.build_identity({"a": analysis.embedding})
    selfie = pipeline.load_selfie("a", normalised)
    with pytest.raises(ModelMissing, match="models install"):
        pipeline.generate(
            preset=load_shipped()["corporate-executive"],
            preset_version=1,
            selfies=[selfie],
            enrollment=enrollment,
            base_seed=1,
        )


def test_backend_names_are_checked_not_guessed(tmp_path):
    with pytest.raises(PipelineError, match="segmentation"):
        HeadshotPipeline.from_config(PipelineConfig(model_dir=tmp_path, segmentation="magic"))
    with pytest.raises(PipelineError, match="Generation backend"):
        HeadshotPipeline.from_config(
            PipelineConfig(model_dir=tmp_path, generation_backend="diffusion")
        )


def test_candidates_record_the_segmentation_used(installed_models, selfies):
    pipeline = HeadshotPipeline.from_config(
        PipelineConfig(min_usable_photos=1, model_dir=installed_models)
    )
    normalised, _ = normalise_upload(selfies["selfie-01.png"], **LIMITS)
    analysis = pipeline.check_photo(normalised)
    enrollment = pipeline.build_identity({"a": analysis.embedding})
    result = pipeline.generate(
        preset=load_shipped()["legal-professional"],
        preset_version=2,
        selfies=[pipeline.load_selfie("a", normalised)],
        enrollment=enrollment,
        base_seed=5,
    )
    assert {c.info["segmentation"] for c in result.candidates} == {"mediapipe-selfie-segmentation"}
    assert [c.seed for c in result.candidates] == [5, 6, 7, 8]
