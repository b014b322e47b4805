"""The pipeline's one door: what the portal's workers and the command line call.

``HeadshotPipeline.check_photo`` checks one selfie when it arrives; ``run`` makes a
person's headshots from their checked photos, in this order and nowhere else:

1. identity     the usable photos' embeddings -> the enrolled identity (outliers set
                aside) and the attributes measured on the enrolled photos
2. selfies      the enrolled photos, decoded and checked again, best first
3. generate     preset + selfies + identity -> candidates, by the configured backend
                (``pipeline.backends``: studio or diffusion)
4. select       candidates -> scores, identity gate, ranking

The stages can also be called one by one (``build_identity``, ``load_selfie``,
``generate``, ``select``), as the tests and the benchmarks do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.backends.base import (
    HONOURED,
    PRESET_PARTS,
    Candidate,
    GenerationBackend,
    GenerationRequest,
    GenerationResult,
    Progress,
    Selfie,
)
from pipeline.backends.segmentation import SelfieSegmenter
from pipeline.backends.studio import StudioBackend, preview, preview_jpeg
from pipeline.backends.upscale import RealESRGANUpscaler, print_version
from pipeline.checks import PhotoChecker, attributes
from pipeline.config import (
    PipelineConfig,
    check_identity_thresholds,
    check_licences,
    check_names,
)
from pipeline.content_credentials import ContentCredentials
from pipeline.errors import PipelineError
from pipeline.faces import DlibFaceAnalyzer, Face, FaceAnalyzer
from pipeline.faces.blazeface import mediapipe_detector
from pipeline.faces.geometry import aligned_crop
from pipeline.faces.mesh import FaceMesh
from pipeline.identity import Enrollment, IdentityBuilder
from pipeline.imaging import decode_image
from pipeline.presets import BrandPreset
from pipeline.prompts import PromptError, build_prompt
from pipeline.records import PhotoAnalysis, PhotoRecord, PrintVersion, RunResult
from pipeline.selection import CandidateSelector, Scored

# What the portal uses from here, besides the pipeline itself.
__all__ = [
    "HONOURED",
    "PRESET_PARTS",
    "Candidate",
    "Enrollment",
    "GenerationResult",
    "HeadshotPipeline",
    "PhotoAnalysis",
    "PhotoRecord",
    "PipelineConfig",
    "RunResult",
    "Scored",
    "Selfie",
    "preview",
    "preview_jpeg",
]

logger = logging.getLogger(__name__)


class HeadshotPipeline:
    def __init__(
        self,
        analyzer: FaceAnalyzer,
        config: PipelineConfig,
        *,
        segmenter: SelfieSegmenter | None = None,
    ) -> None:
        self.analyzer = analyzer
        self.config = config
        self.segmenter = segmenter
        self._load_lock = threading.Lock()
        self._upscaler: RealESRGANUpscaler | None = None
        self._mesh: FaceMesh | None = None
        self._backend: GenerationBackend | None = None
        self.credentials: ContentCredentials | None = None
        if config.c2pa_cert_chain or config.c2pa_private_key:
            if not (config.c2pa_cert_chain and config.c2pa_private_key):
                raise PipelineError(
                    "C2PA signing needs both the certificate chain and the private key "
                    "(HEADSHOTS_C2PA_CERT_CHAIN and HEADSHOTS_C2PA_PRIVATE_KEY, or their _FILE forms).",
                    code="c2pa_invalid",
                )
            self.credentials = ContentCredentials(config.c2pa_cert_chain, config.c2pa_private_key)
        self.checker = PhotoChecker(analyzer, config.thresholds)
        self.identity_threshold = (
            config.identity_threshold
            if config.identity_threshold is not None
            else analyzer.same_person_threshold
        )

    @classmethod
    def from_config(cls, config: PipelineConfig) -> HeadshotPipeline:
        """Load the configured backends explicitly; an unknown name is an error, never a
        fallback, and so is a model the licence profile does not allow."""
        check_names(config)
        check_identity_thresholds(config)
        check_licences(config)
        analyzer: FaceAnalyzer
        if config.face_backend == "insightface":
            from pipeline.faces.insightface import InsightFaceAnalyzer

            if config.model_dir is None:
                raise PipelineError(
                    "The insightface backend needs a model directory.", code="model_missing"
                )
            analyzer = InsightFaceAnalyzer(pack=config.insightface_pack).load(config.model_dir)
        else:
            analyzer = DlibFaceAnalyzer(
                landmarks68=config.landmarks68, **mediapipe_detector(config)
            ).load(None)
        return cls(analyzer, config)

    def _load_once(self, attribute: str, what: str, load: Callable[[Path], Any]) -> Any:
        """Load a model on first use and keep it for the process's life."""
        with self._load_lock:
            if getattr(self, attribute) is None:
                if self.config.model_dir is None:
                    raise PipelineError(f"{what} needs a model directory.", code="model_missing")
                setattr(self, attribute, load(self.config.model_dir))
        return getattr(self, attribute)

    def upscaler(self, *, purpose: str = "framing") -> RealESRGANUpscaler | None:
        """Real-ESRGAN when configured for ``purpose`` ("framing": enlarging selfies in the
        studio; "print": the print version), loaded on first use; None: Lanczos."""
        chosen = self.config.print_upscaler if purpose == "print" else self.config.upscaler
        if chosen != "realesrgan":
            return None
        upscaler: RealESRGANUpscaler = self._load_once(
            "_upscaler", "Real-ESRGAN", lambda d: RealESRGANUpscaler().load(d)
        )
        return upscaler

    def face_mesh(self) -> FaceMesh | None:
        """MediaPipe's 468-point face mesh for the retouch, loaded on first use; None: the
        skin placed from five landmarks (HEADSHOTS_RETOUCH_LANDMARKS=five-point)."""
        if self.config.retouch_landmarks != "mesh":
            return None
        mesh: FaceMesh = self._load_once("_mesh", "The face mesh", lambda d: FaceMesh().load(d))
        return mesh

    def backend(self) -> GenerationBackend:
        """The configured generation backend, built (and its models loaded) on first use
        and kept for the process's life; the choice is explicit, never a fallback."""
        with self._load_lock:
            if self._backend is not None:
                return self._backend
        backend: GenerationBackend
        if self.config.generation_backend == "diffusion":
            from pipeline.backends.diffusion import diffusion_backend

            backend = diffusion_backend(
                self.config,
                upscaler=self.upscaler(),
                credentials=self.credentials,
                # the identity gate that conditioning cannot flatter, when it is another model
                second_opinion=None
                if self.analyzer.name == DlibFaceAnalyzer.name
                else DlibFaceAnalyzer().load(None),
                finder=self.analyzer,  # each generated face, for the shared finishing
                mesh=self.face_mesh(),
            )
        else:
            backend = StudioBackend(
                segmenter=self.studio_segmenter(),
                mesh=self.face_mesh(),
                upscaler=self.upscaler(),
                credentials=self.credentials,
                candidates=self.config.studio_candidates,
            )
        with self._load_lock:
            if self._backend is None:  # two threads may have built one: keep the first
                self._backend = backend
            return self._backend

    def warm(self, *, generation: bool) -> list[str]:
        """Load now what generation will need (a worker does this once, at boot), so the
        first job does not pay for it. Returns what was loaded."""
        loaded = [self.analyzer.name]
        if generation:
            backend = self.backend()
            if self.config.generation_backend == "diffusion":
                loaded.append(backend.name)
            else:
                studio = (self.studio_segmenter(), self.face_mesh())
                loaded += [model.name for model in studio if model is not None]
            if (upscaler := self.upscaler()) is not None:
                loaded.append(upscaler.name)
        return loaded

    def release(self) -> None:
        """Drop the loaded models (a worker shutting down gives back GPU memory)."""
        with self._load_lock:
            self._backend = None
            self._upscaler = None
            self._mesh = None
            self.segmenter = None
        import sys

        torch = sys.modules.get("torch")  # never imported here just to release memory
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()

    def studio_segmenter(self) -> SelfieSegmenter | None:
        """The segmentation model, loaded on first use: only generation needs it, so
        workers that only check photos never load it. None means GrabCut."""
        if self.config.segmentation == "grabcut":
            return None
        segmenter: SelfieSegmenter = self._load_once(
            "segmenter", "MediaPipe segmentation", lambda d: SelfieSegmenter().load(d)
        )
        return segmenter

    # 1. check photos -----------------------------------------------------------------------------
    def check_photo(self, normalised: bytes) -> PhotoAnalysis:
        decoded = decode_image(
            normalised, max_bytes=self.config.max_bytes, max_pixels=self.config.max_pixels
        )
        report = self.checker(decoded.pixels)
        embedding = None
        if report.usable and report.face is not None:
            embedding = self.analyzer.embed(decoded.pixels, report.face)
        # measured on refused photos too: the fairness report must see whom it refuses
        frontal = report.yaw is not None and abs(report.yaw) <= attributes.MAX_YAW
        if report.face is not None and frontal:
            report.attributes = attributes.measure(decoded.pixels, report.face).as_dict()
        return PhotoAnalysis(report=report, embedding=embedding, pixels=decoded.pixels)

    def aligned_crops(
        self, pixels: np.ndarray, face: Face, sizes: tuple[int, ...] = (512, 1024)
    ) -> dict[int, np.ndarray]:
        """Square crops with the eyes level, for the stages that want a face alone."""
        return {size: aligned_crop(pixels, face.eye_centres(), size) for size in sizes}

    def load_selfie(self, key: str, normalised: bytes) -> Selfie | None:
        """A stored photo as a source for generation (checks again, skips the embedding)."""
        decoded = decode_image(
            normalised, max_bytes=self.config.max_bytes, max_pixels=self.config.max_pixels
        )
        report = self.checker(decoded.pixels)
        return PhotoAnalysis(report=report, embedding=None, pixels=decoded.pixels).selfie(key)

    # 2. identity ---------------------------------------------------------------------------------
    def person_model_key(self, enrollment: Enrollment) -> str | None:
        """What the person's own model is made from (the diffusion backend's LoRA method:
        the enrolled photos, the training, the base model); None for other methods."""
        from pipeline.backends.lora import person_model_key

        return person_model_key(self.config, enrollment.used)

    def build_identity(self, embeddings: dict[str, np.ndarray]) -> Enrollment:
        builder = IdentityBuilder(
            same_person_threshold=self.analyzer.same_person_threshold,
            min_photos=self.config.min_usable_photos,
        )
        return builder(embeddings)

    def identity_outliers(self, embeddings: dict[str, np.ndarray]) -> list[str]:
        """The photos that disagree with the others, however few there are (for support
        staff, where enrollment itself refuses)."""
        builder = IdentityBuilder(
            same_person_threshold=self.analyzer.same_person_threshold, min_photos=0
        )
        return builder(embeddings).outliers

    # 3. generate ---------------------------------------------------------------------------------
    def generate(
        self,
        *,
        preset: BrandPreset,
        preset_version: int,
        selfies: list[Selfie],
        enrollment: Enrollment,
        base_seed: int,
        attributes: dict[str, object] | None = None,
        progress: Progress | None = None,
        person_model: bytes | None = None,
    ) -> GenerationResult:
        """Render the preset's variations; ``attributes`` (the enrollment's summary) shape the
        prompt, which is stored with every candidate; ``person_model``: the person's LoRA
        from an earlier round with the same selfies (trained again when None)."""
        report = progress or (lambda percent, stage: None)
        if not selfies:
            raise PipelineError("No usable selfie to render from.", code="no_selfie")
        try:
            prompt = build_prompt(preset, attributes or {})
        except PromptError as exc:
            raise PipelineError(
                f"The brand preset's prompt is broken: {exc}", code="preset_invalid"
            ) from exc
        agreeing = [s for s in selfies if s.key in enrollment.used] or selfies
        request = GenerationRequest(
            preset=preset,
            preset_version=preset_version,
            prompt=prompt,
            selfies=sorted(agreeing, key=lambda s: s.quality, reverse=True),
            enrollment=enrollment,
            base_seed=base_seed,
            attributes=dict(attributes or {}),
            person_model=person_model,
        )
        return self.backend()(request, report)

    # 4. select -----------------------------------------------------------------------------------
    def select(
        self,
        result: GenerationResult,
        *,
        preset: BrandPreset,
        enrollment: Enrollment,
        attributes: dict[str, object] | None = None,
    ) -> list[Scored]:
        """Score every candidate, gate on identity and on what the person must keep
        (skin tone, glasses), drop near-duplicates, rank the rest."""
        started = time.perf_counter()
        selector = CandidateSelector(
            self.analyzer,
            identity_threshold=self.config.identity_thresholds.get(
                result.identity_method, self.identity_threshold
            ),
            min_sharpness=self.config.thresholds.sharpness_fail,
            check=result.identity_check,
        )
        ranking = selector(
            {c.key: c.pixels for c in result.candidates},
            enrollment.embedding,
            preset,
            attributes,
            problems={c.key: c.problem for c in result.candidates if c.problem},
        )
        result.timings["select_s"] = round(time.perf_counter() - started, 3)
        return ranking

    # 5. print ------------------------------------------------------------------------------------
    def print_version(
        self, encoded: bytes, progress: Callable[[float], None] | None = None
    ) -> PrintVersion:
        """A picked headshot at print size (twice its own), its provenance label kept;
        ``progress`` hears the share done (0..1)."""
        return print_version(
            encoded,
            self.upscaler(purpose="print"),
            progress,
            max_bytes=self.config.max_bytes,
            max_pixels=self.config.max_pixels,
        )

    # the whole run -------------------------------------------------------------------------------
    def run(
        self,
        *,
        photos: list[PhotoRecord],
        preset: BrandPreset,
        preset_version: int,
        base_seed: int,
        progress: Progress | None = None,
        enrolled: Callable[[Enrollment, dict[str, object]], None] | None = None,
        person_model: Callable[[Enrollment], bytes | None] | None = None,
    ) -> RunResult:
        """A person's headshots from their checked photos: the one run order, for the
        worker and the command line alike. ``enrolled`` hears the identity as soon as it
        is built (the worker keeps it); ``person_model`` gives the person's stored LoRA
        for that enrollment, if any; ``progress`` may raise to stop the run."""
        report = progress or (lambda percent, stage: None)
        started = time.perf_counter()
        # 1. identity
        enrollment = self.build_identity({p.key: p.embedding for p in photos})
        summary = attributes.summarise(
            [p.attributes for p in photos if p.key in enrollment.used and p.attributes]
        )
        if enrolled is not None:
            enrolled(enrollment, summary)
        identity_s = time.perf_counter() - started
        report(8, "loading selfies")
        # 2. selfies
        selfies = [
            selfie
            for p in photos
            if p.key in enrollment.used
            if (selfie := p.source(self.load_selfie)) is not None
        ]
        # 3. generate
        result = self.generate(
            preset=preset,
            preset_version=preset_version,
            selfies=selfies,
            enrollment=enrollment,
            base_seed=base_seed,
            attributes=summary,
            progress=report,
            person_model=person_model(enrollment) if person_model is not None else None,
        )
        # 4. select
        report(75, "ranking")
        ranking = self.select(result, preset=preset, enrollment=enrollment, attributes=summary)
        result.timings = {"identity_s": round(identity_s, 3), **result.timings}
        return RunResult(enrollment=enrollment, attributes=summary, result=result, ranking=ranking)
