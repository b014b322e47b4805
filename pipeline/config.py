"""What the pipeline is told by its keeper (the portal's settings, the command line): the
backends to use, where model files live, and the limits and thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.checks import CheckThresholds
from pipeline.errors import PipelineError
from pipeline.presets import IDENTITY_METHODS as PRESET_IDENTITY_METHODS

FACE_BACKENDS = {"dlib", "insightface"}
GENERATION_BACKENDS = {"studio", "diffusion"}


@dataclass(frozen=True)
class PipelineConfig:
    face_backend: str = "dlib"
    segmentation: str = "mediapipe"  # or "grabcut"
    upscaler: str = "lanczos"  # or "realesrgan": enlarging small selfies in the studio
    print_upscaler: str = "realesrgan"  # or "lanczos": the picked headshot's print version
    retouch_landmarks: str = "mesh"  # or "five-point"
    # "mediapipe": dlib's HOG detector and MediaPipe's (every skin tone), HOG's faces kept
    # and the faces only MediaPipe finds added; "hog": dlib's HOG detector alone
    face_detector: str = "mediapipe"
    landmarks68: bool = False
    insightface_pack: str = "buffalo_l"
    generation_backend: str = "studio"
    controlnets: tuple[str, ...] = ()  # diffusion: "pose", "depth", "edge"
    # diffusion: how the person's identity reaches generation by default: "lora" (a LoRA
    # trained per person from their selfies: SDXL's own licence), "keep-face" (the
    # person's real face kept, everything round it made by SDXL inpainting), "plus-face"
    # (IP-Adapter Plus Face on the face's CLIP features: Apache 2.0), or on insightface's
    # embedding (research licences only): "faceid", "faceid-plus-v2", "instantid"
    identity_method: str = "lora"
    # diffusion: further methods presets may choose (each loads its own SDXL when used)
    identity_methods: tuple[str, ...] = ()
    lora_steps: int = 800
    lora_rank: int = 16
    lora_learning_rate: float = 1e-4
    lora_resolution: int = 1024
    diffusion_batch: int = 0  # 0: from free GPU memory
    diffusion_native_side: int = 1024
    diffusion_compile: bool = (
        False  # torch.compile the UNet on CUDA (minutes of warm-up per process)
    )
    model_dir: Path | None = None
    # "commercial": refuse model files whose licence forbids commercial use (the
    # default); "research": allow them, for non-commercial research (HR is told)
    licence_profile: str = "commercial"
    min_usable_photos: int = 4
    identity_threshold: float | None = None  # None: the face model's own calibrated threshold
    # the identity gate's threshold for one method ("studio", "faceid", "lora", "keep-face")
    identity_thresholds: dict[str, float] = field(default_factory=dict)
    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 50_000_000
    # Studio only: candidates per job (at most 12 looks); the preset's variations if more.
    studio_candidates: int = 10
    thresholds: CheckThresholds = field(default_factory=CheckThresholds)
    # C2PA signing (PEM); both empty: no Content Credentials, the XMP provenance only.
    c2pa_cert_chain: str = field(default="", repr=False)
    c2pa_private_key: str = field(default="", repr=False)


# "studio" (no generative model) and the diffusion backend's methods (pipeline.presets).
IDENTITY_METHODS = ("studio", *PRESET_IDENTITY_METHODS)

# Every backend choice with the names it takes (besides the face and generation backends).
CHOICES = {
    "segmentation": ("segmentation", {"mediapipe", "grabcut"}),
    "face_detector": ("face detector", {"mediapipe", "hog"}),
    "retouch_landmarks": ("retouch landmarks", {"mesh", "five-point"}),
    "upscaler": ("upscaler", {"lanczos", "realesrgan"}),
    "print_upscaler": ("print upscaler", {"lanczos", "realesrgan"}),
    "licence_profile": ("licence profile", {"commercial", "research"}),
    "identity_method": ("identity method", set(IDENTITY_METHODS[1:])),
}


def check_names(config: PipelineConfig) -> None:
    """Refuse an unknown backend name before anything is loaded: never a fallback."""
    if config.face_backend not in FACE_BACKENDS:
        raise PipelineError(
            f"Face backend {config.face_backend!r} is not available; choose one of "
            f"{sorted(FACE_BACKENDS)}.",
            code="backend_unknown",
        )
    if config.generation_backend not in GENERATION_BACKENDS:
        raise PipelineError(
            f"Generation backend {config.generation_backend!r} is not available in this "
            f"version; set HEADSHOTS_GENERATION_BACKEND to one of {sorted(GENERATION_BACKENDS)}.",
            code="backend_unknown",
        )
    for method in config.identity_methods:
        if method not in CHOICES["identity_method"][1]:
            raise PipelineError(
                f"Unknown identity method {method!r}; choose from "
                f"{', '.join(IDENTITY_METHODS[1:])}.",
                code="backend_unknown",
            )
    for attribute, (what, names) in CHOICES.items():
        value = getattr(config, attribute)
        if value not in names:
            raise PipelineError(
                f"Unknown {what} {value!r}; choose one of {', '.join(sorted(names))}.",
                code="backend_unknown",
            )


def check_identity_thresholds(config: PipelineConfig) -> None:
    """Per-method thresholds name known methods and are similarities between 0 and 1."""
    for method, threshold in config.identity_thresholds.items():
        if method not in IDENTITY_METHODS:
            raise PipelineError(
                f"An identity threshold is set for {method!r}, which is no method; choose "
                f"from {', '.join(IDENTITY_METHODS)}.",
                code="backend_unknown",
            )
        if not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
            raise PipelineError(
                f"The identity threshold for {method} must lie between 0 and 1 ({threshold}).",
                code="backend_unknown",
            )


def check_licences(config: PipelineConfig) -> None:
    """Under the commercial profile, refuse a configuration that loads a model file whose
    licence forbids commercial use, before anything is loaded."""
    from pipeline.tools.manifest import licence_problems

    problems = licence_problems(config)
    if problems:
        raise PipelineError(" ".join(problems), code="licence_refused")
