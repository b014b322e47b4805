"""The narrow interface the portal calls: check photos, build identity, generate, select.

1. ``check_photo``     one selfie -> verdicts and, when usable, its embedding
2. ``build_identity``  embeddings of usable selfies -> the enrolled identity
3. ``generate``        preset + selfies + identity -> candidates (configured backend)
4. ``select``          candidates -> scores, identity gate, ranking
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pipeline import attributes
from pipeline.checks import CheckThresholds, PhotoChecker, PhotoReport
from pipeline.content_credentials import ContentCredentials
from pipeline.errors import PipelineError
from pipeline.faces import DlibFaceAnalyzer, Face, FaceAnalyzer
from pipeline.geometry import aligned_crop
from pipeline.identity import Enrollment, IdentityBuilder
from pipeline.imaging import (
    decode_image,
    encode,
)
from pipeline.presets import BrandPreset, OutputSize
from pipeline.prompts import Prompt, PromptError, build_prompt
from pipeline.provenance import xmp_packet
from pipeline.segmentation import SelfieSegmenter
from pipeline.selection import CandidateSelector, IdentityCheck, Scored
from pipeline.studio import StudioRenderer, fit_output, framing_matrix, source_region
from pipeline.upscale import RealESRGANUpscaler

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]

FACE_BACKENDS = {"dlib", "insightface"}
GENERATION_BACKENDS = {"studio", "diffusion"}


@dataclass(frozen=True)
class PipelineConfig:
    face_backend: str = "dlib"
    segmentation: str = "mediapipe"  # or "grabcut"
    upscaler: str = "lanczos"  # or "realesrgan"
    landmarks68: bool = False
    insightface_pack: str = "buffalo_l"
    generation_backend: str = "studio"
    controlnets: tuple[str, ...] = ()  # diffusion: "keypoints", "pose"
    diffusion_batch: int = 0  # 0: from free GPU memory
    diffusion_native_side: int = 1024
    diffusion_compile: bool = (
        False  # torch.compile the UNet on CUDA (minutes of warm-up per process)
    )
    model_dir: Path | None = None
    min_usable_photos: int = 4
    identity_threshold: float | None = None  # None: the face model's own calibrated threshold
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    thresholds: CheckThresholds = field(default_factory=CheckThresholds)
    # C2PA signing (PEM); both empty: no Content Credentials, the XMP provenance only.
    c2pa_cert_chain: str = field(default="", repr=False)
    c2pa_private_key: str = field(default="", repr=False)


@dataclass
class PhotoAnalysis:
    report: PhotoReport
    embedding: np.ndarray | None
    pixels: np.ndarray = field(repr=False)  # the decoded photo the checks ran on

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def selfie(self, key: str) -> Selfie | None:
        """The photo as a source for generation, without checking it again; None if unusable."""
        if not self.report.usable or self.report.face is None:
            return None
        return Selfie(
            key=key, pixels=self.pixels, face=self.report.face, quality=selfie_quality(self.report)
        )


@dataclass(frozen=True)
class Selfie:
    key: str
    pixels: np.ndarray
    face: Face
    quality: float


@dataclass
class Candidate:
    key: str
    source_key: str
    seed: int
    pixels: np.ndarray
    encoded: bytes
    info: dict[str, object]
    prompt: str = ""
    negative_prompt: str = ""


@dataclass
class GenerationResult:
    backend: str
    candidates: list[Candidate]
    timings: dict[str, float]
    digital_source_type: str = ""
    # A face model other than the one that conditioned generation, with the person's
    # reference from it, for an independent identity gate (diffusion only).
    identity_check: IdentityCheck | None = None


def _candidate(
    *,
    index: int,
    seed: int,
    pixels: np.ndarray,
    source_key: str,
    generator: Any,
    preset: BrandPreset,
    preset_version: int,
    prompt: Prompt,
    info: dict[str, object],
    credentials: ContentCredentials | None = None,
) -> Candidate:
    """A generated image with its provenance: encoded with the XMP that says what made it
    and, when a signing key is configured, a signed C2PA manifest saying the same."""
    xmp = xmp_packet(
        digital_source_type=generator.digital_source_type,
        generator=generator.name,
        preset=preset.slug,
        preset_version=preset_version,
        seed=seed,
    )
    key = f"c{index + 1:02d}"
    encoded = encode(pixels, quality=93, xmp=xmp)
    if credentials is not None:
        encoded = credentials.sign(
            encoded,
            title=f"{preset.slug}-{key}.jpg",
            digital_source_type=generator.digital_source_type,
            generator=generator.name,
            details={"preset": preset.slug, "preset_version": preset_version, "seed": seed},
        )
        info = {**info, "content_credentials": credentials.subject}
    return Candidate(
        key=key,
        source_key=source_key,
        seed=seed,
        pixels=pixels,
        encoded=encoded,
        info=info,
        prompt=prompt.positive,
        negative_prompt=prompt.negative,
    )


def selfie_quality(report: PhotoReport) -> float:
    values = {c.code: c.value for c in report.checks}
    sharp = float(values.get("sharpness") or 0.0)
    size = float(values.get("face_size") or 0.0)
    return sharp * min(1.0, size / 300.0)


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
        self._diffusion: Any = None
        self._check_analyzer: DlibFaceAnalyzer | None = None
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
        """Load the configured backends explicitly; an unknown name is an error, never a fallback."""
        if config.face_backend not in FACE_BACKENDS:
            raise PipelineError(
                f"Face backend {config.face_backend!r} is not available; choose one of {sorted(FACE_BACKENDS)}.",
                code="backend_unknown",
            )
        if config.generation_backend not in GENERATION_BACKENDS:
            raise PipelineError(
                f"Generation backend {config.generation_backend!r} is not available in this version; "
                f"set HEADSHOTS_GENERATION_BACKEND to one of {sorted(GENERATION_BACKENDS)}.",
                code="backend_unknown",
            )
        analyzer: FaceAnalyzer
        if config.face_backend == "insightface":
            from pipeline.insightface_backend import InsightFaceAnalyzer

            if config.model_dir is None:
                raise PipelineError(
                    "The insightface backend needs a model directory.", code="model_missing"
                )
            analyzer = InsightFaceAnalyzer(pack=config.insightface_pack).load(config.model_dir)
        else:
            analyzer = DlibFaceAnalyzer(landmarks68=config.landmarks68).load(None)
        if config.segmentation not in {"mediapipe", "grabcut"}:
            raise PipelineError(
                f"Unknown segmentation {config.segmentation!r}; choose mediapipe or grabcut.",
                code="backend_unknown",
            )
        return cls(analyzer, config)

    def _load_once(self, attribute: str, what: str, load: Callable[[Path], Any]) -> Any:
        """Load a model on first use and keep it for the process's life."""
        with self._load_lock:
            if getattr(self, attribute) is None:
                if self.config.model_dir is None:
                    raise PipelineError(f"{what} needs a model directory.", code="model_missing")
                setattr(self, attribute, load(self.config.model_dir))
        return getattr(self, attribute)

    def upscaler(self) -> RealESRGANUpscaler | None:
        """Real-ESRGAN when configured, loaded on first use; None: Lanczos in the framing."""
        if self.config.upscaler != "realesrgan":
            return None
        upscaler: RealESRGANUpscaler = self._load_once(
            "_upscaler", "Real-ESRGAN", lambda d: RealESRGANUpscaler().load(d)
        )
        return upscaler

    def diffusion_backend(self) -> Any:
        """The diffusion pipeline, loaded on first use and kept for the process's life."""
        from pipeline.diffusion import DiffusionBackend

        config = self.config
        return self._load_once(
            "_diffusion",
            "The diffusion backend",
            lambda d: DiffusionBackend(
                controlnets=config.controlnets,
                batch_size=config.diffusion_batch,
                native_side=config.diffusion_native_side,
                compile_unet=config.diffusion_compile,
            ).load(d),
        )

    def warm(self, *, generation: bool) -> list[str]:
        """Load now what generation will need (a worker does this once, at boot), so the
        first job does not pay for it. Returns what was loaded."""
        loaded = [self.analyzer.name]
        if generation:
            if self.config.generation_backend == "diffusion":
                loaded.append(self.diffusion_backend().name)
            elif (segmenter := self.studio_segmenter()) is not None:
                loaded.append(segmenter.name)
            if (upscaler := self.upscaler()) is not None:
                loaded.append(upscaler.name)
        return loaded

    def release(self) -> None:
        """Drop the loaded models (a worker shutting down gives back GPU memory)."""
        with self._load_lock:
            self._diffusion = None
            self._upscaler = None
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

    def _enlarged(self, selfie: Selfie, preset: BrandPreset) -> Selfie:
        """The selfie's framed region upscaled x4 (once per selfie and job), face moved with it."""
        upscaler = self.upscaler()
        if upscaler is None:
            return selfie
        height, width = selfie.pixels.shape[:2]
        x0, y0, x1, y1 = source_region(selfie.face, preset)
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
        crop = np.ascontiguousarray(selfie.pixels[y0:y1, x0:x1])
        moved = selfie.face.moved(offset=(x0, y0), scale=4.0)
        return Selfie(key=selfie.key, pixels=upscaler(crop), face=moved, quality=selfie.quality)

    # 1. check photos -----------------------------------------------------------------------------
    def check_photo(self, normalised: bytes) -> PhotoAnalysis:
        decoded = decode_image(
            normalised, max_bytes=self.config.max_bytes, max_pixels=self.config.max_pixels
        )
        report = self.checker(decoded.pixels)
        embedding = None
        if report.usable and report.face is not None:
            embedding = self.analyzer.embed(decoded.pixels, report.face)
            if report.yaw is not None and abs(report.yaw) <= attributes.MAX_YAW:
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
    def build_identity(self, embeddings: dict[str, np.ndarray]) -> Enrollment:
        builder = IdentityBuilder(
            same_person_threshold=self.analyzer.same_person_threshold,
            min_photos=self.config.min_usable_photos,
        )
        return builder(embeddings)

    # 3. generate and 4. select -------------------------------------------------------------------
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
    ) -> GenerationResult:
        """Render the preset's variations; ``attributes`` (the enrollment's summary) shape the
        prompt, which is stored with every candidate."""
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
        best_first = sorted(agreeing, key=lambda s: s.quality, reverse=True)
        if self.config.generation_backend == "diffusion":
            return self._generate_diffusion(
                preset=preset,
                preset_version=preset_version,
                prompt=prompt,
                selfies=best_first,
                enrollment=enrollment,
                base_seed=base_seed,
                report=report,
            )
        ordered = [self._enlarged(s, preset) for s in best_first]
        upscaler = self.upscaler()
        upscaler_name = upscaler.name if upscaler is not None else "lanczos"
        renderer = StudioRenderer(preset, segmenter=self.studio_segmenter())
        enrolled_skin = (attributes or {}).get("skin_lab")
        skin_target = (
            [float(v) for v in enrolled_skin] if isinstance(enrolled_skin, list | tuple) else None
        )
        variations = preset.generation.variations
        candidates: list[Candidate] = []
        timings: dict[str, float] = {}
        started = time.perf_counter()
        for index in range(variations):
            selfie = ordered[index % len(ordered)]
            seed = base_seed + index
            rendered = renderer(
                selfie.pixels,
                selfie.face,
                seed=seed,
                skin_target=skin_target,
            )
            candidates.append(
                _candidate(
                    index=index,
                    seed=seed,
                    pixels=rendered.pixels,
                    source_key=selfie.key,
                    generator=renderer,
                    preset=preset,
                    preset_version=preset_version,
                    prompt=prompt,
                    credentials=self.credentials,
                    info={
                        "segmentation": rendered.segmentation,
                        "crop_jitter": round(rendered.crop_jitter, 4),
                        "light_strength": round(rendered.light_strength, 4),
                        "upscaler": upscaler_name,
                    },
                )
            )
            report(10 + round(60 * (index + 1) / variations), "rendering")
        timings["generate_s"] = round(time.perf_counter() - started, 3)
        return GenerationResult(
            backend=renderer.name,
            candidates=candidates,
            timings=timings,
            digital_source_type=renderer.digital_source_type,
        )

    def _generate_diffusion(
        self,
        *,
        preset: BrandPreset,
        preset_version: int,
        prompt: Prompt,
        selfies: list[Selfie],
        enrollment: Enrollment,
        base_seed: int,
        report: Progress,
    ) -> GenerationResult:
        """The preset's variations from the diffusion backend, conditioned on the identity
        (and, where configured, on the best selfie's keypoints and pose), generated at the
        model's native size and upscaled to the preset's largest output."""
        from pipeline.diffusion import generation_size

        backend = self.diffusion_backend()
        settings = preset.generation
        reference = selfies[0]
        out = preset.primary_output
        width, height = generation_size(out.width, out.height, backend.native_side)
        control = self._control_images(backend, reference, preset, width, height)
        upscaler = self.upscaler()
        upscaler_name = upscaler.name if upscaler is not None else "lanczos"
        seeds = [base_seed + index for index in range(settings.variations)]
        started = time.perf_counter()
        images = backend(
            prompt=prompt.positive,
            negative_prompt=prompt.negative,
            identity=enrollment.embedding,
            seeds=seeds,
            width=width,
            height=height,
            steps=settings.steps,
            guidance=settings.guidance,
            scheduler=settings.scheduler,
            identity_strength=settings.identity_strength,
            control=control,
            done=lambda count: report(10 + round(55 * count / len(seeds)), "generating"),
        )
        generated_s = time.perf_counter() - started
        candidates: list[Candidate] = []
        for index, (seed, pixels) in enumerate(zip(seeds, images, strict=True)):
            candidates.append(
                _candidate(
                    index=index,
                    seed=seed,
                    pixels=self._to_output(pixels, out, upscaler),
                    source_key=reference.key,
                    generator=backend,
                    preset=preset,
                    preset_version=preset_version,
                    prompt=prompt,
                    credentials=self.credentials,
                    info={
                        "steps": settings.steps,
                        "guidance": settings.guidance,
                        "scheduler": settings.scheduler,
                        "precision": backend.precision,
                        "identity_strength": settings.identity_strength,
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
            backend=backend.name,
            candidates=candidates,
            timings={
                "generate_s": round(generated_s, 3),
                "upscale_s": round(time.perf_counter() - started - generated_s, 3),
            },
            digital_source_type=backend.digital_source_type,
            identity_check=self._identity_check(selfies),
        )

    def _control_images(
        self, backend: Any, reference: Selfie, preset: BrandPreset, width: int, height: int
    ) -> dict[str, tuple[np.ndarray, float]]:
        """A control image and its weight for every configured ControlNet, drawn from the
        best selfie where the preset's framing puts the face."""
        from pipeline.conditioning import keypoint_image, pose_image

        settings = preset.generation
        if settings.spatial_control > 0 and "pose" not in backend.controlnets:
            raise PipelineError(
                f"The preset {preset.slug!r} asks for spatial control (weight "
                f"{settings.spatial_control}), which needs the pose ControlNet: install it in "
                "MODEL_DIR/controlnet/pose/ and add 'pose' to HEADSHOTS_CONTROLNETS, or set the "
                "preset's generation.spatial_control to 0.",
                code="model_missing",
            )
        size = OutputSize(name="generation", width=width, height=height)
        matrix = framing_matrix(reference.face, preset, size)
        control: dict[str, tuple[np.ndarray, float]] = {}
        if "keypoints" in backend.controlnets:
            keypoints = keypoint_image(reference.face, matrix, width, height)
            control["keypoints"] = (keypoints, settings.identity_strength)
        if "pose" in backend.controlnets:
            pose = pose_image(reference.face, matrix, width, height)
            control["pose"] = (pose, settings.spatial_control)
        return control

    def _to_output(
        self, pixels: np.ndarray, out: OutputSize, upscaler: RealESRGANUpscaler | None
    ) -> np.ndarray:
        """A generated image at the preset's largest output size (Real-ESRGAN x4 then an
        area resize when configured and needed, Lanczos otherwise)."""
        height, width = pixels.shape[:2]
        if (width, height) == (out.width, out.height):
            return pixels
        if upscaler is not None and (out.width > width or out.height > height):
            pixels = upscaler(pixels)
        return fit_output(pixels, out)

    def _identity_check(self, selfies: list[Selfie]) -> IdentityCheck | None:
        """The enrolled selfies seen by dlib's face model, when generation was conditioned on
        another model's embedding: a gate that the conditioning model cannot flatter."""
        if self.analyzer.name == DlibFaceAnalyzer.name:
            return None
        with self._load_lock:
            if self._check_analyzer is None:
                self._check_analyzer = DlibFaceAnalyzer().load(None)
        checker = self._check_analyzer
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
            self.analyzer, identity_threshold=self.identity_threshold, check=result.identity_check
        )
        ranking = selector(
            {c.key: c.pixels for c in result.candidates}, enrollment.embedding, preset, attributes
        )
        result.timings["select_s"] = round(time.perf_counter() - started, 3)
        return ranking
