"""The studio backend: every variation rendered by the studio renderer from one of the
person's best selfies (CPU, shipped models; what a machine without diffusion weights
makes)."""

from __future__ import annotations

import functools
import time
from dataclasses import replace

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
from pipeline.backends.studio_looks import Look, plan, tighter_framings
from pipeline.backends.studio_renderer import Prepared, Rendered, StudioRenderer
from pipeline.backends.upscale import PRINT_DETAIL_LIMIT, PRINT_SCALE, RealESRGANUpscaler
from pipeline.content_credentials import ContentCredentials
from pipeline.faces import Face
from pipeline.faces.mesh import FaceMesh
from pipeline.presets import BrandPreset

# A job's candidates come from the best few selfies.
MAX_SOURCES = 3


class StudioBackend:
    name = "studio"

    def __init__(
        self,
        *,
        segmenter: SelfieSegmenter | None,
        mesh: FaceMesh | None = None,
        upscaler: RealESRGANUpscaler | None = None,
        credentials: ContentCredentials | None = None,
        candidates: int = 10,
    ) -> None:
        self.candidates = candidates  # looks per job (the preset's variations if more)
        self.segmenter = segmenter  # None: GrabCut
        self.mesh = mesh  # None: the skin placed from five landmarks
        self.upscaler = upscaler  # None: Lanczos in the framing
        self.credentials = credentials

    def __call__(self, request: GenerationRequest, report: Progress) -> GenerationResult:
        preset = request.preset
        # The best few selfies (the request has them best first), each prepared once; those
        # a person would not want to be shown from (a blink, mid-speech, something in front
        # of the face: a negative quality) only when there is nothing else.
        clean = [selfie for selfie in request.selfies if selfie.quality >= 0]
        sources = (clean or request.selfies)[:MAX_SOURCES]
        upscaler_name = self.upscaler.name if self.upscaler is not None else "lanczos"
        renderer = StudioRenderer(preset, segmenter=self.segmenter, mesh=self.mesh)
        enlarged_by = 1.0 if self.upscaler is None else 4.0
        enrolled_skin = request.attributes.get("skin_lab")
        skin_target = (
            [float(v) for v in enrolled_skin] if isinstance(enrolled_skin, list | tuple) else None
        )
        count = max(preset.generation.variations, self.candidates)
        looks = plan(preset, count)
        started = time.perf_counter()
        prepared = []
        for index, source in enumerate(sources):
            selfie = self._enlarged(source, preset)
            prepared.append(
                renderer.prepare(
                    selfie.pixels,
                    selfie.face,
                    seed=request.base_seed + index,
                    skin_target=skin_target,
                )
            )
            report(10 + round(20 * (index + 1) / len(sources)), "preparing selfies")
        candidates: list[Candidate] = []
        for index, look in enumerate(looks):
            seed = request.base_seed + index
            rendered, which = _render_look(renderer, prepared, index, seed, look)
            selfie = sources[which]
            # output pixels per pixel the camera took: above the limit at print size, the
            # print's fine detail would be made up
            source_scale = rendered.source_scale / enlarged_by
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
                        "look": rendered.look.as_dict(),
                        "crop_jitter": round(rendered.crop_jitter, 4),
                        "light_strength": round(rendered.light_strength, 4),
                        "upscaler": upscaler_name,
                        "retouch": rendered.retouch,
                        "source_scale": round(source_scale, 3),
                        "print_soft": source_scale * PRINT_SCALE > PRINT_DETAIL_LIMIT,
                        "soundness": rendered.measures,
                    },
                )
            )
            report(30 + round(40 * (index + 1) / len(looks)), "rendering")
        return GenerationResult(
            backend=renderer.name,
            identity_method="studio",
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


def _render_look(
    renderer: StudioRenderer, prepared: list[Prepared], index: int, seed: int, look: Look
) -> tuple[Rendered, int]:
    """The look from the selfie whose turn it is or, where that one cannot give it (its
    edge shows in this framing, a neighbour stands beside...), from the next one that can;
    where none can, the look framed tighter (the same light and backdrop, so the candidate
    still differs from the others); when nothing works, the first try, its problem with it
    (never offered)."""
    turns = [(index + turn) % len(prepared) for turn in range(len(prepared))]
    # selfies that cannot give any look (a head cut by the photo's edge) are not tried
    usable = [t for t in turns if not prepared[t].problem]
    first: Rendered | None = None
    for framing in tighter_framings(look.framing):
        framed = replace(look, framing=framing)
        for which in usable:
            rendered = renderer.render(prepared[which], seed=seed, look=framed)
            if not rendered.problem:
                return rendered, which
            if first is None and which == turns[0] and framing == look.framing:
                first = rendered  # the first try, kept rather than rendered again
    if first is None:
        first = renderer.render(prepared[turns[0]], seed=seed, look=look)
    return first, turns[0]


PREVIEW_WIDTH = 360


def preview_jpeg(preset: BrandPreset, *, width: int = PREVIEW_WIDTH) -> bytes:
    """A small JPEG of the sample portrait in this preset, for the preset editor."""
    return preview(preset, width=width)[0]


@functools.cache
def _sample() -> tuple[np.ndarray, Face, tuple[float, float, float]]:
    """The preview's sample portrait, its known face and its skin as the checks measure
    it: read and measured once per process."""
    from PIL import Image

    from pipeline.checks.attributes import measure
    from pipeline.tools import samples

    pixels = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    pixels.setflags(write=False)  # shared by every preview: nothing may draw on it
    face = Face(
        box=samples.ASTRONAUT_FACE_BOX,
        score=samples.ASTRONAUT_FACE_SCORE,
        landmarks=np.asarray(samples.ASTRONAUT_FACE_LANDMARKS, dtype=np.float64),
    )
    return pixels, face, measure(pixels, face).skin_lab


def preview(preset: BrandPreset, *, width: int = PREVIEW_WIDTH) -> tuple[bytes, list[str]]:
    """The sample portrait in this preset, and what the acceptance checks would say of
    headshots made with it (empty when they would pass). The studio renderer with GrabCut
    and the sample's known face: no model is loaded (it runs in the web process)."""
    from pipeline.backends.conditioning import transform
    from pipeline.backends.framing import framing_matrix
    from pipeline.imaging import encode
    from pipeline.presets import OutputSize
    from pipeline.selection import MAX_SKIN_DELTA_E, skin_change

    out = preset.primary_output
    height = round(width * out.height / out.width)
    size = OutputSize(name="preview", width=width, height=height)
    small = preset.model_copy(update={"outputs": [size]})
    pixels, face, skin = _sample()
    rendered = StudioRenderer(small, segmenter=None)(pixels, face, seed=7)
    warnings = []
    # the skin as the selection judges it: the selfie's own against the headshot's
    # (the sample's cut-out is GrabCut's, not the workers' model: its edge is not judged)
    matrix = framing_matrix(face, small, size)
    corners = transform(np.array([face.box[:2], face.box[2:]]), matrix)
    shown = Face(
        box=tuple(corners.ravel()), score=face.score, landmarks=transform(face.landmarks, matrix)
    )
    _, delta_e = skin_change(rendered.pixels, shown, skin, small.lighting.exposure)
    if delta_e > MAX_SKIN_DELTA_E:
        warnings.append(
            f"The skin tone changes too much (ΔE {delta_e:.0f}, at most {MAX_SKIN_DELTA_E:.0f}): "
            "every headshot made with this style would be held back. Bring the colour "
            "temperature back toward 5000-5600 K or lower the retouch."
        )
    return encode(rendered.pixels, quality=88), warnings
