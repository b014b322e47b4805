"""What the `headshots` commands share: the pipeline, and checking one file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError

from apps.core.pipeline_access import get_pipeline, pipeline_config

if TYPE_CHECKING:
    from pipeline.orchestrator import HeadshotPipeline, PhotoAnalysis


def load_pipeline() -> HeadshotPipeline:
    from pipeline.errors import PipelineError

    try:
        return get_pipeline()
    except PipelineError as exc:
        raise CommandError(exc.message) from exc


def check_file(
    pipeline: HeadshotPipeline, path: Path
) -> tuple[PhotoAnalysis | None, dict[str, Any] | None]:
    """(analysis, None) for a photo the checks ran on, or (None, error) for a file they could not."""
    from pipeline.errors import PipelineError
    from pipeline.imaging import normalise_upload

    config = pipeline_config()
    try:
        normalised, _ = normalise_upload(
            path.read_bytes(), max_bytes=config.max_bytes, max_pixels=config.max_pixels
        )
        return pipeline.check_photo(normalised), None
    except OSError as exc:
        return None, {
            "code": "unreadable",
            "message": f"Cannot read the file: {exc.strerror or exc}",
        }
    except PipelineError as exc:
        return None, {"code": exc.code, "message": exc.message}
