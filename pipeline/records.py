"""What the pipeline hands back and takes in besides images: a checked photo, a photo as
its keeper holds it, and the result of a run."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.backends.base import GenerationResult, Selfie
from pipeline.checks import PhotoReport
from pipeline.identity import Enrollment
from pipeline.selection import Scored


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
class PhotoRecord:
    """A checked, usable photo as its keeper holds it: its identity embedding, the
    attributes measured on it, and its normalised bytes, read only if it is enrolled
    (or the selfie itself, already decoded and checked)."""

    key: str
    embedding: np.ndarray
    attributes: dict[str, Any] | None
    load: Callable[[], bytes]
    selfie: Selfie | None = None
    # the person asked for another selfie than this one: used only if nothing else is
    demoted: bool = False

    def source(self, load_selfie: Callable[[str, bytes], Selfie | None]) -> Selfie | None:
        """The selfie, decoded if need be, its quality lowered below every other's when
        demoted."""
        selfie = self.selfie or load_selfie(self.key, self.load())
        if selfie is not None and self.demoted:
            selfie = dataclasses.replace(selfie, quality=selfie.quality - DEMOTED)
        return selfie


@dataclass
class RunResult:
    enrollment: Enrollment
    attributes: dict[str, object]  # summarised over the enrolled photos only
    result: GenerationResult
    ranking: list[Scored]

    @property
    def timings(self) -> dict[str, float]:
        return self.result.timings


@dataclass(frozen=True)
class PrintVersion:
    """A headshot at print size: the JPEG (its provenance label kept) and what made it."""

    encoded: bytes
    upscaler: str  # "realesrgan-x4plus" or "lanczos"
    width: int
    height: int
    seconds: float


# What makes a usable selfie a poor source: a blink, mid-speech, something in front of the
# face, somebody else in it, no room for the shoulders. A selfie with any of them comes
# after every selfie without.
SOURCE_FLAWS = (
    "eyes_closed",
    "mouth_open",
    "face_covered",
    "multiple_faces",
    "shoulders_in_frame",
)


# What a demoted selfie loses: more than any flaws (each costs one) can add up to.
DEMOTED = 100.0


def selfie_quality(report: PhotoReport) -> float:
    """How good a source for a headshot: sharpness times face size (0..1), less one for
    each flaw a person would not want shown (so flawless selfies always come first)."""
    values = {c.code: c.value for c in report.checks}
    sharp = float(values.get("sharpness") or 0.0)
    size = float(values.get("face_size") or 0.0)
    flaws = sum(1 for c in report.checks if c.code in SOURCE_FLAWS and c.status != "pass")
    return sharp * min(1.0, size / 300.0) - flaws
