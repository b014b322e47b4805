"""The studio backend: every variation rendered by the studio renderer from one of the
person's best selfies (CPU, shipped models; what a machine without diffusion weights
makes)."""

from __future__ import annotations

import time

import numpy as np

from pipeline.backends.base import (
    Candidate,
    GenerationRequest,
    GenerationResult,
    Progress,
    Selfie,
    make_candidate,
)
from pipeline.backends.framing import source_region
from pipeline.backends.segmentation import SelfieSegmenter
from pipeline.backends.studio_renderer import StudioRenderer
from pipeline.backends.upscale import RealESRGANUpscaler
from pipeline.content_credentials import ContentCredentials
from pipeline.presets import BrandPreset


class StudioBackend:
    name = "studio"

    def __init__(
        self,
        *,
        segmenter: SelfieSegmenter | None,
        upscaler: RealESRGANUpscaler | None = None,
        credentials: ContentCredentials | None = None,
    ) -> None:
        self.segmenter = segmenter  # None: GrabCut
        self.upscaler = upscaler  # None: Lanczos in the framing
        self.credentials = credentials

    def __call__(self, request: GenerationRequest, report: Progress) -> GenerationResult:
        preset = request.preset
        ordered = [self._enlarged(s, preset) for s in request.selfies]
        upscaler_name = self.upscaler.name if self.upscaler is not None else "lanczos"
        renderer = StudioRenderer(preset, segmenter=self.segmenter)
        enrolled_skin = request.attributes.get("skin_lab")
        skin_target = (
            [float(v) for v in enrolled_skin] if isinstance(enrolled_skin, list | tuple) else None
        )
        variations = preset.generation.variations
        candidates: list[Candidate] = []
        started = time.perf_counter()
        for index in range(variations):
            selfie = ordered[index % len(ordered)]
            seed = request.base_seed + index
            rendered = renderer(selfie.pixels, selfie.face, seed=seed, skin_target=skin_target)
            candidates.append(
                make_candidate(
                    index=index,
                    seed=seed,
                    pixels=rendered.pixels,
                    source_key=selfie.key,
                    generator=renderer,
                    request=request,
                    credentials=self.credentials,
                    problem=rendered.problem,
                    info={
                        "segmentation": rendered.segmentation,
                        "crop_jitter": round(rendered.crop_jitter, 4),
                        "light_strength": round(rendered.light_strength, 4),
                        "upscaler": upscaler_name,
                    },
                )
            )
            report(10 + round(60 * (index + 1) / variations), "rendering")
        return GenerationResult(
            backend=renderer.name,
            candidates=candidates,
            timings={"generate_s": round(time.perf_counter() - started, 3)},
            digital_source_type=renderer.digital_source_type,
        )

    def _enlarged(self, selfie: Selfie, preset: BrandPreset) -> Selfie:
        """The selfie's framed region upscaled x4 (once per selfie and job), face moved with it."""
        if self.upscaler is None:
            return selfie
        height, width = selfie.pixels.shape[:2]
        x0, y0, x1, y1 = source_region(selfie.face, preset)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        crop = np.ascontiguousarray(selfie.pixels[y0:y1, x0:x1])
        moved = selfie.face.moved(offset=(x0, y0), scale=4.0)
        return Selfie(
            key=selfie.key, pixels=self.upscaler(crop), face=moved, quality=selfie.quality
        )


PREVIEW_WIDTH = 360


def preview_jpeg(preset: BrandPreset, *, width: int = PREVIEW_WIDTH) -> bytes:
    """A small JPEG of the sample portrait in this preset, for the preset editor: the
    studio renderer with GrabCut and the sample's known face, so that it loads no model
    (it runs in the web process, in a fraction of a second)."""
    from PIL import Image

    from pipeline.faces import Face
    from pipeline.imaging import encode
    from pipeline.presets import OutputSize
    from pipeline.tools import samples

    out = preset.primary_output
    height = round(width * out.height / out.width)
    small = preset.model_copy(
        update={"outputs": [OutputSize(name="preview", width=width, height=height)]}
    )
    pixels = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    known = samples.ASTRONAUT_FACE
    face = Face(
        box=known["box"],  # type: ignore[arg-type]
        score=float(known["score"]),  # type: ignore[arg-type]
        landmarks=np.asarray(known["landmarks"], dtype=np.float64),
    )
    rendered = StudioRenderer(small, segmenter=None)(pixels, face, seed=7)
    return encode(rendered.pixels, quality=88)
