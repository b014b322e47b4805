"""The portal's one door into pipeline/: only worker code calls it.

The pipeline is built on first use in a worker process and kept for the
process's life (face models take a second to load).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from pipeline.checks import CheckThresholds
    from pipeline.orchestrator import HeadshotPipeline, PipelineConfig


def check_thresholds() -> CheckThresholds:
    """The checks' thresholds with the configured overrides; an unknown name is an error."""
    import dataclasses

    from pipeline.checks import CheckThresholds

    overrides = dict(settings.HEADSHOTS["CHECK_THRESHOLDS"])
    known = {f.name for f in dataclasses.fields(CheckThresholds)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ImproperlyConfigured(
            f"HEADSHOTS_CHECK_THRESHOLDS names unknown thresholds {unknown}; known: {sorted(known)}."
        )
    return CheckThresholds(**overrides)


def pipeline_config() -> PipelineConfig:
    from pipeline.orchestrator import PipelineConfig

    conf = settings.HEADSHOTS
    return PipelineConfig(
        face_backend=conf["FACE_BACKEND"],
        landmarks68=conf["DLIB_68_LANDMARKS"],
        segmentation=conf["SEGMENTATION"],
        upscaler=conf["UPSCALER"],
        print_upscaler=conf["PRINT_UPSCALER"],
        retouch_landmarks=conf["RETOUCH_LANDMARKS"],
        face_detector=conf["FACE_DETECTOR"],
        insightface_pack=conf["INSIGHTFACE_PACK"],
        thresholds=check_thresholds(),
        generation_backend=conf["GENERATION_BACKEND"],
        controlnets=tuple(conf["CONTROLNETS"]),
        identity_method=conf["IDENTITY_METHOD"],
        identity_methods=tuple(conf["IDENTITY_METHODS"]),
        lora_steps=conf["LORA_STEPS"],
        lora_rank=conf["LORA_RANK"],
        lora_resolution=conf["LORA_RESOLUTION"],
        diffusion_batch=conf["DIFFUSION_BATCH"],
        diffusion_compile=conf["DIFFUSION_COMPILE"],
        c2pa_cert_chain=conf["C2PA_CERT_CHAIN"],
        c2pa_private_key=conf["C2PA_PRIVATE_KEY"],
        model_dir=Path(conf["MODEL_DIR"]),
        licence_profile=conf["LICENCE_PROFILE"],
        min_usable_photos=conf["MIN_USABLE_PHOTOS"],
        identity_threshold=conf["IDENTITY_THRESHOLD"],
        identity_thresholds=dict(conf["IDENTITY_THRESHOLDS"]),
        max_bytes=conf["MAX_UPLOAD_BYTES"],
        max_pixels=conf["MAX_UPLOAD_PIXELS"],
        studio_candidates=conf["STUDIO_CANDIDATES"],
    )


_pipeline: HeadshotPipeline | None = None
_pipeline_lock = threading.Lock()


def get_pipeline() -> HeadshotPipeline:
    """The process's pipeline, built on first use and kept."""
    global _pipeline
    from pipeline.orchestrator import HeadshotPipeline

    with _pipeline_lock:
        if _pipeline is None:
            _pipeline = HeadshotPipeline.from_config(pipeline_config())
        return _pipeline


def release_pipeline() -> None:
    """Give back the loaded models (a worker shutting down, or settings changed); the next
    use builds the pipeline again."""
    global _pipeline
    with _pipeline_lock:
        pipeline, _pipeline = _pipeline, None
    if pipeline is not None:
        pipeline.release()
