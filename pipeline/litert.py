"""The MediaPipe models (.tflite, taken from the mediapipe wheel by `manage.py models
install`) run with LiteRT (ai-edge-litert), not with the mediapipe package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.errors import ModelMissing


def interpreter(path: Path, *, what: str, otherwise: str) -> Any:
    """A ready LiteRT interpreter for the model at ``path``. A missing file or a missing
    LiteRT is said with how to install it; ``otherwise`` names the setting that does
    without the model."""
    if not path.is_file():
        raise ModelMissing(
            f"The {what} {path} is missing. Install it with "
            f"`python manage.py models install`, or set {otherwise}.",
            code="model_missing",
        )
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ModelMissing(
            "LiteRT is not installed; run `pip install ai-edge-litert==2.3.0`.",
            code="model_missing",
        ) from exc
    loaded = Interpreter(model_path=str(path), num_threads=1)
    loaded.allocate_tensors()
    return loaded
