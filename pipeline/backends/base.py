"""What every generation backend takes and gives, and the protocol they share.

A backend turns a ``GenerationRequest`` (the preset, its filled prompt, the person's
selfies best first and their enrolled identity) into a ``GenerationResult``: candidates
at the preset's largest output size, each encoded with its provenance. The orchestrator
picks the configured backend; nothing else branches on which one it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from pipeline.content_credentials import ContentCredentials
from pipeline.faces import Face
from pipeline.identity import Enrollment
from pipeline.imaging import encode
from pipeline.presets import BrandPreset
from pipeline.prompts import Prompt
from pipeline.provenance import xmp_packet
from pipeline.selection import IdentityCheck

Progress = Callable[[int, str], None]

# The parts of a brand preset each backend uses. The studio keeps the person's own photo
# (their clothing, their pose): attire and the prompt need generation.
PRESET_PARTS = ("backdrop", "lighting", "framing", "retouch", "palette", "attire", "prompt")
HONOURED = {
    "studio": frozenset({"backdrop", "lighting", "framing", "retouch", "palette"}),
    "diffusion": frozenset(PRESET_PARTS),
}


@dataclass(frozen=True)
class Selfie:
    """A usable photo as a source for generation."""

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
    problem: str = ""  # the backend's own reason not to offer it (e.g. a matte that clips)


@dataclass
class GenerationResult:
    backend: str
    candidates: list[Candidate]
    timings: dict[str, float]
    digital_source_type: str = ""
    # A face model other than the one that conditioned generation, with the person's
    # reference from it, for an independent identity gate (diffusion only).
    identity_check: IdentityCheck | None = None
    # How the person's identity reached the images ("studio", "faceid", "lora",
    # "keep-face"): the identity gate's threshold may differ by method.
    identity_method: str = ""
    # A person's model trained for this job (the LoRA method), for its keeper to store
    # encrypted and pass back next time; None when none was trained.
    person_model: Any = None


@dataclass(frozen=True)
class GenerationRequest:
    preset: BrandPreset
    preset_version: int
    prompt: Prompt
    selfies: list[Selfie]  # the enrolled ones, best first
    enrollment: Enrollment
    base_seed: int
    attributes: dict[str, object] = field(default_factory=dict)
    # The person's model from an earlier round with the same selfies (the LoRA method):
    # reused instead of trained again.
    person_model: bytes | None = None


class GenerationBackend(Protocol):
    """Renders the preset's variations for one person."""

    name: str

    def __call__(self, request: GenerationRequest, report: Progress) -> GenerationResult: ...


def make_candidate(
    *,
    index: int,
    seed: int,
    pixels: np.ndarray,
    source_key: str,
    generator: Any,
    request: GenerationRequest,
    info: dict[str, object],
    credentials: ContentCredentials | None = None,
    problem: str = "",
    prompt: Prompt | None = None,
) -> Candidate:
    """A generated image with its provenance: encoded with the XMP that says what made it
    and, when a signing key is configured, a signed C2PA manifest saying the same.
    ``prompt``: what generated it, when not the request's own (one of the preset's styles)."""
    preset, preset_version = request.preset, request.preset_version
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
        prompt=(prompt or request.prompt).positive,
        negative_prompt=(prompt or request.prompt).negative,
        problem=problem,
    )
