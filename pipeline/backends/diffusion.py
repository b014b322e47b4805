"""The diffusion backend: the preset's variations from SDXL (``sdxl.SDXLModel``),
conditioned on the person by the preset's identity method (or the installation's
default) and, where configured, on the best selfie's pose, generated at the model's
native size and brought to the preset's largest output (Real-ESRGAN when configured,
Lanczos otherwise).

A worker offers the default identity method and any others its operator lists; each
method's model is loaded the first time a preset asks for it and kept."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipeline.backends.base import (
    Candidate,
    GenerationRequest,
    GenerationResult,
    Progress,
    Selfie,
    make_candidate,
)
from pipeline.backends.conditioning import control_images, five_points
from pipeline.backends.finish import finish_generated
from pipeline.backends.framing import framing_matrix
from pipeline.backends.identity_adapters import aligned_face
from pipeline.backends.keep_face import composite, face_masks, harmonise
from pipeline.backends.lora import (
    LoraSettings,
    LoraTrainer,
    TrainedLora,
    caption,
    settings_from,
    training_images,
)
from pipeline.backends.sdxl import SDXLModel, generation_size
from pipeline.backends.upscale import RealESRGANUpscaler
from pipeline.config import PipelineConfig
from pipeline.content_credentials import ContentCredentials
from pipeline.errors import PipelineError
from pipeline.faces import FaceAnalyzer
from pipeline.faces.mesh import FaceMesh
from pipeline.imaging import fit_output
from pipeline.presets import BrandPreset, OutputSize
from pipeline.prompts import build_prompt
from pipeline.selection import IdentityCheck

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KeptFace:
    """The face-preserving mode's inputs: the framed selfie, how much of each pixel is the
    kept face (0..1), where the model repaints (255), the eyes in the framed picture."""

    framed: np.ndarray
    weight: np.ndarray
    repaint: np.ndarray
    eyes: tuple[np.ndarray, np.ndarray]


class DiffusionBackend:
    def __init__(
        self,
        model: SDXLModel,
        *,
        offered: dict[str, Callable[[], SDXLModel]] | None = None,
        upscaler: RealESRGANUpscaler | None = None,
        credentials: ContentCredentials | None = None,
        second_opinion: FaceAnalyzer | None = None,
        lora_settings: LoraSettings | None = None,
        finder: FaceAnalyzer | None = None,
        mesh: FaceMesh | None = None,
    ) -> None:
        self.model = model
        # the other identity methods this worker offers presets, loaded on first use
        self._offered = dict(offered or {})
        self._loaded: dict[str, SDXLModel] = {model.identity_method: model}
        self._loading = threading.Lock()
        # the face of each generated image, for the finishing the studio's headshots get
        # (None: generated images are left as they come)
        self.finder = finder
        self.mesh = mesh
        self.lora_settings = lora_settings or LoraSettings()
        self.name = model.name
        self.upscaler = upscaler
        self.credentials = credentials
        # A face model other than the one that conditions generation: the identity gate
        # that conditioning cannot flatter (None when the portal's own model is dlib's).
        self.second_opinion = second_opinion

    def model_for(self, preset: BrandPreset) -> SDXLModel:
        """The model of the preset's identity method (the worker's default when the preset
        names none), loaded the first time it is asked for."""
        method = preset.generation.identity_method or self.model.identity_method
        with self._loading:
            if method not in self._loaded:
                if method not in self._offered:
                    offered = sorted({*self._loaded, *self._offered})
                    raise PipelineError(
                        f"The style {preset.name!r} asks for the identity method {method!r}, "
                        f"which this installation does not offer (it offers "
                        f"{', '.join(offered)}). Choose one of those in the style, or ask the "
                        "administrator to add it to HEADSHOTS_IDENTITY_METHODS.",
                        code="backend_unknown",
                    )
                self._loaded[method] = self._offered[method]()
            return self._loaded[method]

    def __call__(self, request: GenerationRequest, report: Progress) -> GenerationResult:
        preset = request.preset
        model = self.model_for(preset)
        settings = preset.generation
        reference = request.selfies[0]
        out = preset.primary_output
        width, height = generation_size(out.width, out.height, model.native_side)
        control = control_images(model.control_names, reference, preset, (width, height))
        upscaler_name = self.upscaler.name if self.upscaler is not None else "lanczos"
        seeds = [request.base_seed + index for index in range(settings.variations)]
        started = time.perf_counter()
        person_model, trained = None, None
        if model.identity_method == "lora":
            # the person's own model: reused from an earlier round, or trained now
            person_model = request.person_model
            if person_model is None:
                trained = self._train(model, request, report)
                person_model = trained.weights
        trained_s = time.perf_counter() - started
        first = 45 if trained is not None else 10
        kept = self._kept_face(model, reference, preset, width, height)
        face = None
        if model.adapter is not None and model.adapter.image_encoder:
            face = aligned_face(reference.pixels, five_points(reference.face))
        identity = self._embedding(model, request)
        # the variations shared out in turn between the preset's own look and its styles
        looks = [("", request.prompt)] + [
            (style.name, build_prompt(preset.styled(style), request.attributes))
            for style in settings.styles
        ]
        images: list[np.ndarray] = [np.empty(0)] * len(seeds)
        made = 0

        def progress(before: int, count: int) -> None:
            report(first + round((65 - first) * (before + count) / len(seeds)), "generating")

        for turn, (_, prompt) in enumerate(looks):
            indices = list(range(turn, len(seeds), len(looks)))
            if not indices:
                continue
            positive = prompt.positive
            if model.identity_method == "lora":
                positive = f"a photo of {self.lora_settings.trigger} person, {positive}"
            group = model(
                prompt=positive,
                negative_prompt=prompt.negative,
                identity=identity,
                face=face,
                seeds=[seeds[i] for i in indices],
                width=width,
                height=height,
                steps=settings.steps,
                guidance=settings.guidance,
                scheduler=settings.scheduler,
                identity_strength=settings.identity_strength,
                control=control,
                done=functools.partial(progress, made),
                lora=person_model,
                source=None if kept is None else (kept.framed, kept.repaint),
            )
            for i, image in zip(indices, group, strict=True):
                images[i] = image
            made += len(indices)
        generated_s = time.perf_counter() - started - trained_s
        candidates: list[Candidate] = []
        for index, (seed, pixels) in enumerate(zip(seeds, images, strict=True)):
            style, prompt = looks[index % len(looks)]
            harmony = None
            if kept is not None:  # the person's own face laid back, then its colour eased
                pixels = composite(pixels, kept.framed, kept.weight)
                pixels, harmony = harmonise(pixels, kept.framed, kept.weight, kept.eyes)
            finished, finish = self._finish(self._to_output(pixels, out), preset)
            candidates.append(
                make_candidate(
                    index=index,
                    seed=seed,
                    pixels=finished,
                    source_key=reference.key,
                    generator=model,
                    request=request,
                    credentials=self.credentials,
                    prompt=prompt,
                    info={
                        **({"style": style} if style else {}),
                        "steps": settings.steps,
                        "guidance": settings.guidance,
                        "scheduler": settings.scheduler,
                        "precision": model.precision,
                        "identity_strength": settings.identity_strength,
                        "identity_method": model.identity_method,
                        "finish": finish,
                        **({"face_harmonised_delta_e": harmony} if harmony is not None else {}),
                        "controlnets": {name: weight for name, (_, weight) in control.items()},
                        "generated_size": [width, height],
                        "upscaler": upscaler_name
                        if (width, height) != (out.width, out.height)
                        else None,
                    },
                )
            )
        report(70, "checking identity")
        return GenerationResult(
            backend=model.name,
            identity_method=model.identity_method,
            candidates=candidates,
            timings={
                **({"train_s": round(trained_s, 3)} if trained is not None else {}),
                "generate_s": round(generated_s, 3),
                "upscale_s": round(time.perf_counter() - started - trained_s - generated_s, 3),
            },
            digital_source_type=model.digital_source_type,
            identity_check=self._identity_check(request.selfies),
            person_model=trained,
        )

    def _embedding(self, model: SDXLModel, request: GenerationRequest) -> np.ndarray | None:
        """The ArcFace embedding as the method was trained on it: the enrolled identity
        (normalised) for FaceID, the raw embeddings' mean for InstantID."""
        if model.adapter is None or not model.adapter.embedding:
            return None
        if model.adapter.embedding == "normalised":
            return request.enrollment.embedding
        raw = getattr(self.finder, "raw_embedding", None)
        if raw is None:
            raise PipelineError(
                "InstantID reads insightface's ArcFace embedding: set HEADSHOTS_FACE_BACKEND="
                "insightface (with HEADSHOTS_INSIGHTFACE_PACK=antelopev2, the pack it was "
                "trained with).",
                code="identity_mismatch",
            )
        return np.mean([raw(s.pixels, s.face) for s in request.selfies], axis=0)

    def _kept_face(
        self, model: SDXLModel, reference: Selfie, preset: BrandPreset, width: int, height: int
    ) -> KeptFace | None:
        """For the face-preserving mode: the best selfie framed as the preset asks, at the
        generation size, and the masks of its face's core."""
        if model.identity_method != "keep-face":
            return None
        import cv2

        size = OutputSize(name="generation", width=width, height=height)
        matrix = framing_matrix(reference.face, preset, size)
        framed = cv2.warpAffine(
            reference.pixels,
            matrix,
            (width, height),
            flags=cv2.INTER_CUBIC,
            borderMode=cv2.BORDER_REPLICATE,
        )
        left, right = (matrix @ np.array([p[0], p[1], 1.0]) for p in reference.face.eye_centres())
        weight, repaint = face_masks((left, right), (width, height))
        return KeptFace(framed=framed, weight=weight, repaint=repaint, eyes=(left, right))

    def _train(self, model: SDXLModel, request: GenerationRequest, report: Progress) -> TrainedLora:
        """The person's LoRA from their enrolled selfies (all of them, best first), on the
        SDXL already in memory; progress from 10% to 45% of the job."""
        settings = self.lora_settings
        images = training_images(
            [(s.pixels, s.face.eye_centres(), s.face.height) for s in request.selfies], settings
        )
        text = caption(settings, request.attributes)
        with model.lock:  # the pipeline's adapters are changed while it trains
            trainer = LoraTrainer.sharing(model.pipe, str(model.device))
            return trainer.train(
                images,
                text,
                settings,
                progress=lambda share: report(
                    10 + round(35 * share), "training the person's model"
                ),
            )

    def _finish(
        self, pixels: np.ndarray, preset: BrandPreset
    ) -> tuple[np.ndarray, dict[str, object] | None]:
        """The studio's finishing (colour, retouch within the preset's cap, detail) on a
        generated headshot, its face found by the portal's face model."""
        if self.finder is None:
            return pixels, None
        faces = self.finder.detect(pixels)
        return finish_generated(pixels, faces[0] if faces else None, preset, self.mesh)

    def _to_output(self, pixels: np.ndarray, out: OutputSize) -> np.ndarray:
        """A generated image at the preset's largest output size (Real-ESRGAN x4 then an
        area resize when configured and needed, Lanczos otherwise)."""
        height, width = pixels.shape[:2]
        if (width, height) == (out.width, out.height):
            return pixels
        if self.upscaler is not None and (out.width > width or out.height > height):
            pixels = self.upscaler(pixels)
        return fit_output(pixels, out)

    def _identity_check(self, selfies: list[Selfie]) -> IdentityCheck | None:
        """The enrolled selfies seen by the second face model, when generation was
        conditioned on another model's embedding."""
        checker = self.second_opinion
        if checker is None:
            return None
        vectors = []
        for selfie in selfies:
            faces = checker.detect(selfie.pixels)
            if not faces:
                continue
            x0, y0, x1, y1 = selfie.face.box
            centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
            nearest = min(
                faces,
                key=lambda f: float(
                    np.hypot(
                        *(np.array([(f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2]) - centre)
                    )
                ),
            )
            vectors.append(checker.embed(selfie.pixels, nearest))
        if not vectors:
            logger.warning(
                "the second face model finds no face in the selfies: no second identity check"
            )
            return None
        reference = np.mean(vectors, axis=0)
        return IdentityCheck(
            analyzer=checker,
            reference=reference / np.linalg.norm(reference),
            threshold=checker.same_person_threshold,
        )


def diffusion_backend(
    config: PipelineConfig,
    *,
    upscaler: RealESRGANUpscaler | None,
    credentials: ContentCredentials | None,
    second_opinion: FaceAnalyzer | None,
    finder: FaceAnalyzer | None = None,
    mesh: FaceMesh | None = None,
) -> DiffusionBackend:
    """The backend with its SDXL model loaded from the configured model directory."""
    if config.model_dir is None:
        raise PipelineError("The diffusion backend needs a model directory.", code="model_missing")
    model_dir = config.model_dir

    def model(method: str) -> SDXLModel:
        return SDXLModel(
            identity_method=method,
            controlnets=config.controlnets,
            batch_size=config.diffusion_batch,
            native_side=config.diffusion_native_side,
            compile_unet=config.diffusion_compile,
        )

    def load(method: str) -> SDXLModel:
        return model(method).load(model_dir)

    others = [m for m in config.identity_methods if m != config.identity_method]
    for method in others:  # every offered method's files, named now rather than mid-job
        model(method).check_files(model_dir)
    return DiffusionBackend(
        model(config.identity_method).load(model_dir),
        offered={method: functools.partial(load, method) for method in others},
        upscaler=upscaler,
        credentials=credentials,
        second_opinion=second_opinion,
        lora_settings=settings_from(config),
        finder=finder,
        mesh=mesh,
    )
