"""The preset editor's live preview: the studio renderer on a sample portrait, at a
small size, so a change of backdrop, light or framing shows in a fraction of a second.

The sample's face is found once per process; segmentation uses GrabCut (no model to
load in the web process). The preview is for the look of the preset; the workers render
the real headshots."""

from __future__ import annotations

import functools
from typing import Any

PREVIEW_WIDTH = 360


@functools.lru_cache(maxsize=1)
def _sample() -> tuple[Any, Any]:
    import numpy as np
    from PIL import Image

    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.tools import samples

    pixels = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    faces = DlibFaceAnalyzer().load(None).detect(pixels)  # largest first
    if not faces:
        raise RuntimeError("the sample portrait has no detectable face")
    return pixels, faces[0]


def preset_preview_jpeg(spec: dict[str, Any]) -> bytes:
    """A JPEG of the sample portrait in this preset (``spec`` already validated)."""
    from pipeline.backends.studio_renderer import StudioRenderer
    from pipeline.imaging import encode
    from pipeline.presets import BrandPreset, OutputSize

    preset = BrandPreset.from_mapping(spec)
    out = preset.primary_output
    height = round(PREVIEW_WIDTH * out.height / out.width)
    small = preset.model_copy(
        update={"outputs": [OutputSize(name="preview", width=PREVIEW_WIDTH, height=height)]}
    )
    pixels, face = _sample()
    rendered = StudioRenderer(small)(pixels, face, seed=7)
    return encode(rendered.pixels, quality=88)
