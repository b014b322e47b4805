"""Shared steps of the pipeline tests."""

from __future__ import annotations

from typing import Any


def generate_from_one_photo(
    pipeline: Any, photo: bytes, preset: Any, **options: Any
) -> tuple[Any, Any]:
    """Check one (normalised) photo, enroll it, and generate: (result, enrollment)."""
    analysis = pipeline.check_photo(photo)
    enrollment = pipeline.build_identity({"a": analysis.embedding})
    options.setdefault("preset_version", 1)
    options.setdefault("base_seed", 1)
    result = pipeline.generate(
        preset=preset, selfies=[pipeline.load_selfie("a", photo)], enrollment=enrollment, **options
    )
    return result, enrollment
