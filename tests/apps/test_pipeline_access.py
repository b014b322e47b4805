from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from apps.core.pipeline_access import check_thresholds, pipeline_config


def test_threshold_overrides_from_settings_apply(settings):
    settings.HEADSHOTS = {
        **settings.HEADSHOTS,
        "CHECK_THRESHOLDS": {"yaw_warn": 20, "min_face_px_warn": 250},
    }
    thresholds = check_thresholds()
    assert thresholds.yaw_warn == 20 and thresholds.min_face_px_warn == 250
    assert thresholds.yaw_fail == 45.0  # the others keep their defaults
    assert pipeline_config().thresholds == thresholds


def test_unknown_threshold_is_refused_by_name(settings):
    settings.HEADSHOTS = {**settings.HEADSHOTS, "CHECK_THRESHOLDS": {"yaw_wran": 20}}
    with pytest.raises(ImproperlyConfigured, match="yaw_wran"):
        check_thresholds()


def test_68_point_model_is_off_unless_enabled(settings):
    assert pipeline_config().landmarks68 is False
    settings.HEADSHOTS = {**settings.HEADSHOTS, "DLIB_68_LANDMARKS": True}
    assert pipeline_config().landmarks68 is True


def test_diffusion_and_signing_settings_reach_the_pipeline(settings):
    settings.HEADSHOTS = {
        **settings.HEADSHOTS,
        "CONTROLNETS": ("keypoints", "pose"),
        "DIFFUSION_BATCH": 3,
        "DIFFUSION_COMPILE": True,
        "C2PA_CERT_CHAIN": "chain",
        "C2PA_PRIVATE_KEY": "key",
        "IDENTITY_METHOD": "lora",
        "LORA_STEPS": 500,
        "LORA_RANK": 8,
        "LORA_RESOLUTION": 768,
        "LICENCE_PROFILE": "research",
        "IDENTITY_THRESHOLDS": {"keep-face": 0.95},
    }
    config = pipeline_config()
    assert config.identity_thresholds == {"keep-face": 0.95}
    assert config.identity_method == "lora" and config.licence_profile == "research"
    assert (config.lora_steps, config.lora_rank, config.lora_resolution) == (500, 8, 768)
    assert config.controlnets == ("keypoints", "pose") and config.diffusion_batch == 3
    assert config.diffusion_compile is True
    assert (config.c2pa_cert_chain, config.c2pa_private_key) == ("chain", "key")
