from __future__ import annotations

import pytest

from pipeline.errors import ModelMissing, PipelineError
from pipeline.imaging import normalise_upload
from pipeline.orchestrator import HeadshotPipeline, PipelineConfig
from pipeline.presets import load_shipped
from tests.pipeline.helpers import generate_from_one_photo

LIMITS = {"max_bytes": 50_000_000, "max_pixels": 50_000_000}


def test_checks_need_no_segmentation_model_and_generation_says_it_is_missing(tmp_path, selfies):
    with pytest.raises(ModelMissing, match="face_detection_full_range_sparse.tflite"):
        HeadshotPipeline.from_config(PipelineConfig(model_dir=tmp_path))  # the default detector
    pipeline = HeadshotPipeline.from_config(
        PipelineConfig(min_usable_photos=1, model_dir=tmp_path, face_detector="hog")
    )
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
            PipelineConfig(model_dir=tmp_path, generation_backend="gan-magic")
        )


def test_candidates_record_the_segmentation_used(installed_models, selfies):
    pipeline = HeadshotPipeline.from_config(
        PipelineConfig(min_usable_photos=1, model_dir=installed_models)
    )
    normalised, _ = normalise_upload(selfies["selfie-01.png"], **LIMITS)
    result, _ = generate_from_one_photo(
        pipeline, normalised, load_shipped()["legal-professional"], preset_version=2, base_seed=5
    )
    assert {c.info["segmentation"] for c in result.candidates} == {"mediapipe-selfie-segmentation"}
    assert [c.seed for c in result.candidates] == list(range(5, 15))  # ten looks


def test_real_esrgan_before_framing_gives_sharper_headshots_of_the_same_person(
    installed_models, astronaut_rgb
):
    import cv2

    from pipeline.checks import CheckThresholds, face_region, sharpness_score
    from pipeline.imaging import encode
    from pipeline.presets import BrandPreset
    from pipeline.tools import manifest

    manifest.install(manifest.find("realesrgan-x4plus"), installed_models)
    small = cv2.resize(astronaut_rgb, (256, 256), interpolation=cv2.INTER_AREA)  # a 45 px face
    data = load_shipped()["corporate-executive"].model_dump(mode="json")
    data["generation"]["variations"] = 1
    preset = BrandPreset.from_mapping(data)
    results = {}
    for upscaler in ("lanczos", "realesrgan"):
        config = PipelineConfig(
            min_usable_photos=1,
            model_dir=installed_models,
            upscaler=upscaler,
            thresholds=CheckThresholds(min_face_px_fail=32),  # accept the small face for this test
        )
        pipeline = HeadshotPipeline.from_config(config)
        result, enrollment = generate_from_one_photo(pipeline, encode(small), preset)
        candidate = result.candidates[0]
        face = pipeline.analyzer.detect(candidate.pixels)[0]
        sharp = sharpness_score(
            cv2.cvtColor(face_region(candidate.pixels, face), cv2.COLOR_RGB2GRAY)
        )
        ranking = pipeline.select(result, preset=preset, enrollment=enrollment)
        results[upscaler] = (candidate.info["upscaler"], sharp, ranking[0])
    assert results["lanczos"][0] == "lanczos" and results["realesrgan"][0] == "realesrgan-x4plus"
    assert results["realesrgan"][1] > results["lanczos"][1] + 0.1
    lanczos, esrgan = results["lanczos"][2], results["realesrgan"][2]
    assert esrgan.accepted and esrgan.scores["identity"] > 0.93
    assert esrgan.scores["framing"] == pytest.approx(
        lanczos.scores["framing"], abs=0.02
    )  # the face stays put


def test_run_enrolls_then_renders_only_from_the_enrolled_photos(installed_models, selfies):
    """The one run order: identity first (the other person set aside), the attributes
    summarised over the enrolled photos only, only enrolled photos read and rendered from,
    then ranked."""
    from pipeline.orchestrator import PhotoRecord

    pipeline = HeadshotPipeline.from_config(
        PipelineConfig(min_usable_photos=2, model_dir=installed_models)
    )
    read: list[str] = []
    records = []
    for name in (
        "selfie-01.png",
        "selfie-02-mirror.jpg",
        "selfie-05-closer.jpg",
        "selfie-10-someone-else.jpg",
    ):
        normalised, _ = normalise_upload(selfies[name], **LIMITS)
        analysis = pipeline.check_photo(normalised)
        assert analysis.embedding is not None, name

        def load(name=name, data=normalised) -> bytes:
            read.append(name)
            return data

        records.append(
            PhotoRecord(
                key=name,
                embedding=analysis.embedding,
                attributes=analysis.report.attributes,
                load=load,
            )
        )
    heard = []
    stages = []
    outcome = pipeline.run(
        photos=records,
        preset=load_shipped()["corporate-executive"],
        preset_version=3,
        base_seed=11,
        progress=lambda percent, stage: stages.append(stage),
        enrolled=lambda enrollment, attributes: heard.append((enrollment, attributes)),
    )
    assert outcome.enrollment.outliers == ["selfie-10-someone-else.jpg"]
    assert heard and heard[0][1] == outcome.attributes
    assert outcome.attributes["photos"] == 3  # the other person's photo is not described
    assert "selfie-10-someone-else.jpg" not in read and len(read) == 3
    assert {c.source_key for c in outcome.result.candidates} <= set(read)
    assert stages[0] == "loading selfies" and stages[-1] == "ranking"
    assert {s.key for s in outcome.ranking} == {c.key for c in outcome.result.candidates}
    assert "identity_s" in outcome.timings and "select_s" in outcome.timings


def test_four_copies_of_one_selfie_never_give_look_alike_candidates(installed_models, selfies):
    """The studio's candidates differ in framing, light and backdrop (any two in at least
    two of them), so even one selfie sent four times gives a real choice; the perceptual
    duplicate measure holds back anything that still looks alike."""
    import itertools

    from pipeline.selection import look_distance, thumbprint

    pipeline = HeadshotPipeline.from_config(
        PipelineConfig(min_usable_photos=1, model_dir=installed_models)
    )
    normalised, _ = normalise_upload(selfies["selfie-01.png"], **LIMITS)
    analysis = pipeline.check_photo(normalised)
    keys = ["a", "b", "c", "d"]
    enrollment = pipeline.build_identity({k: analysis.embedding for k in keys})
    copies = [pipeline.load_selfie(k, normalised) for k in keys]
    preset = load_shipped()["corporate-executive"]
    result = pipeline.generate(
        preset=preset, preset_version=1, selfies=copies, enrollment=enrollment, base_seed=3
    )
    ranking = pipeline.select(result, preset=preset, enrollment=enrollment)
    looks = [tuple(c.info["look"].values()) for c in result.candidates]
    assert len(looks) >= 8 and len(set(looks)) == len(looks)
    for a, b in itertools.combinations(looks, 2):
        assert sum(x != y for x, y in zip(a, b, strict=True)) >= 2
    accepted = {r.key for r in ranking if r.accepted}
    assert len(accepted) >= 8
    prints = {c.key: thumbprint(c.pixels) for c in result.candidates if c.key in accepted}
    for a, b in itertools.combinations(prints, 2):
        assert look_distance(prints[a], prints[b]) >= 0.04, (a, b)


def test_the_identity_gate_takes_the_threshold_set_for_the_method(
    tmp_path, installed_models, selfies
):
    """A threshold set for the studio refuses what the model's own threshold accepts; a
    threshold for another method changes nothing here; an unknown method is refused."""

    def gate(**thresholds):
        config = PipelineConfig(
            model_dir=installed_models,
            min_usable_photos=1,
            studio_candidates=2,
            identity_thresholds=thresholds,
        )
        pipeline = HeadshotPipeline.from_config(config)
        result, enrollment = generate_from_one_photo(
            pipeline, selfies["selfie-01.png"], load_shipped()["corporate-executive"]
        )
        assert result.identity_method == "studio"
        return pipeline.select(
            result, preset=load_shipped()["corporate-executive"], enrollment=enrollment
        )

    assert any(s.accepted for s in gate())
    assert any(s.accepted for s in gate(**{"keep-face": 0.999}))
    strict = gate(studio=0.9999)
    assert not any(s.accepted for s in strict)
    assert "under the threshold 1.000" in strict[0].reason
    with pytest.raises(PipelineError, match="no method"):
        HeadshotPipeline.from_config(PipelineConfig(identity_thresholds={"magic": 0.5}))
