"""The portal's one door into pipeline/: only worker code calls it.

The pipeline is built on first use in a worker process and kept for the
process's life (face models take a second to load).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from pipeline.orchestrator import HeadshotPipeline, PipelineConfig


def pipeline_config() -> PipelineConfig:
    from pipeline.orchestrator import PipelineConfig

    conf = settings.HEADSHOTS
    return PipelineConfig(
        face_backend=conf["FACE_BACKEND"],
        generation_backend=conf["GENERATION_BACKEND"],
        model_dir=Path(conf["MODEL_DIR"]),
        min_usable_photos=conf["MIN_USABLE_PHOTOS"],
        identity_threshold=conf["IDENTITY_THRESHOLD"],
        max_bytes=conf["MAX_UPLOAD_BYTES"],
        max_pixels=conf["MAX_UPLOAD_PIXELS"],
    )


@functools.cache
def get_pipeline() -> HeadshotPipeline:
    from pipeline.orchestrator import HeadshotPipeline

    return HeadshotPipeline.from_config(pipeline_config())
