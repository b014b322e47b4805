"""Score candidates, gate on identity, drop near-duplicates, rank."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pipeline.backends.framing import HEAD_PER_EYE_DISTANCE
from pipeline.checks import face_region, sharpness_score
from pipeline.checks.attributes import measure as measure_attributes
from pipeline.faces import Face, FaceAnalyzer, cosine
from pipeline.faces.geometry import frontal_eye_distance
from pipeline.presets import BrandPreset


@dataclass
class Scored:
    key: str
    scores: dict[str, float] = field(default_factory=dict)
    accepted: bool = False
    reason: str = ""
    total: float = 0.0
    rank: int | None = None


@dataclass(frozen=True)
class IdentityCheck:
    """An independent identity gate: a second face model, the person's reference vector
    from it, and that model's same-person threshold."""

    analyzer: FaceAnalyzer
    reference: np.ndarray
    threshold: float


@dataclass(frozen=True)
class Thumbprint:
    """What a person compares at a glance: the layout of light and dark (a perceptual
    hash: the signs of the 8 x 8 lowest frequencies of a 32 x 32 grey copy) and the layout
    of colour (an 8 x 10 CIELAB copy)."""

    structure: np.ndarray  # 63 booleans
    colour: np.ndarray  # 10 x 8 x 3 CIELAB


def thumbprint(pixels: np.ndarray) -> Thumbprint:
    import cv2

    gray = cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()[1:]
    tiny = cv2.resize(pixels, (8, 10), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    return Thumbprint(structure=low > np.median(low), colour=cv2.cvtColor(tiny, cv2.COLOR_RGB2LAB))


def look_distance(a: Thumbprint, b: Thumbprint) -> float:
    """0 for the same picture; about 0.1 between two candidates a person tells apart at once
    (another framing, light or backdrop)."""
    structure = float(np.count_nonzero(a.structure != b.structure)) / a.structure.size
    colour = float(np.linalg.norm(a.colour - b.colour, axis=2).mean()) / 30.0
    return 0.5 * structure + 0.5 * colour


# CIE76 ΔE between a headshot's cheeks and the enrolled ones beyond which it is held back.
MAX_SKIN_DELTA_E = 10.0


def skin_change(
    pixels: np.ndarray, face: Face, skin_lab: object, exposure: float = 0.0
) -> tuple[Any, float]:
    """What a headshot shows of the person (its attributes) and how far its skin is from
    ``skin_lab`` (CIE76 ΔE). ``exposure``: the stops the preset brightened the person by, as
    asked: the skin is judged as it would be without them (a lighter photo is not another
    skin tone)."""
    if exposure:
        pixels = np.clip(pixels.astype(np.float32) / 2.0**exposure, 0, 255).astype(np.uint8)
    found = measure_attributes(pixels, face, balance=False)
    reference = np.asarray(skin_lab, dtype=float)
    return found, float(np.linalg.norm(np.asarray(found.skin_lab) - reference))


class CandidateSelector:
    weights = {"identity": 0.5, "sharpness": 0.2, "exposure": 0.15, "framing": 0.15}

    def __init__(
        self,
        analyzer: FaceAnalyzer,
        *,
        identity_threshold: float,
        duplicate_distance: float = 0.04,
        max_skin_delta_e: float = MAX_SKIN_DELTA_E,
        min_sharpness: float = 0.35,
        check: IdentityCheck | None = None,
    ) -> None:
        # The enrollment's model scores every candidate. When it also conditioned generation
        # (diffusion), ``check`` adds a second model's verdict, which generation did not see;
        # the studio renderer uses no identity model, so the first score is fair there.
        self.analyzer = analyzer
        self.check = check
        self.identity_threshold = identity_threshold
        self.duplicate_distance = duplicate_distance
        # CIE76 delta E between the candidate's cheeks and the enrolled ones; about 2 is
        # barely visible, 10 a clearly different tone.
        self.max_skin_delta_e = max_skin_delta_e
        # The photo checks' own fail line (same measure, same scale): a headshot is never
        # softer than a selfie the portal would refuse.
        self.min_sharpness = min_sharpness

    def _kept(
        self, pixels: np.ndarray, face: Face, enrolled: dict[str, object], exposure: float = 0.0
    ) -> tuple[dict[str, float], str]:
        """Did the candidate keep what the person has? Scores, and a reason to reject if not
        (``exposure``: see ``skin_change``)."""
        if not enrolled.get("skin_lab"):
            return {}, ""
        found, delta_e = skin_change(pixels, face, enrolled["skin_lab"], exposure)
        glasses_kept = found.glasses == bool(enrolled.get("glasses"))
        hair_kept = (
            enrolled.get("hair_color") in (None, found.hair_color) or found.hair_color is None
        )
        scores = {
            "skin_delta_e": round(delta_e, 2),
            "glasses_kept": float(glasses_kept),
            "hair_color_kept": float(hair_kept),
        }
        if delta_e > self.max_skin_delta_e:
            return (
                scores,
                f"skin tone changed (delta E {delta_e:.1f}, at most {self.max_skin_delta_e:.0f})",
            )
        if not glasses_kept:
            change = "removed" if enrolled.get("glasses") else "added"
            return scores, f"glasses {change}"
        return scores, ""

    def score(
        self,
        pixels: np.ndarray,
        identity: np.ndarray,
        preset: BrandPreset,
        enrolled: dict[str, object] | None = None,
    ) -> tuple[dict[str, float], str]:
        import cv2

        faces = self.analyzer.detect(pixels)
        if not faces:
            return {
                "identity": 0.0,
                "sharpness": 0.0,
                "exposure": 0.0,
                "framing": 0.0,
            }, "no face found in the result"
        face = faces[0]
        similarity = cosine(self.analyzer.embed(pixels, face), identity)
        gray = cv2.cvtColor(face_region(pixels, face), cv2.COLOR_RGB2GRAY)
        luma = float(gray.mean())
        height = pixels.shape[0]
        eye_y = float(np.mean([p[1] for p in face.eye_centres()])) / height
        head_share = frontal_eye_distance(face) * HEAD_PER_EYE_DISTANCE / height
        framing_error = (
            abs(eye_y - preset.framing.eye_line) / 0.1
            + abs(head_share - preset.framing.head_height_share) / 0.15
        )
        scores = {
            "identity": round(similarity, 4),
            "sharpness": round(sharpness_score(gray), 4),
            "exposure": round(max(0.0, 1.0 - abs(luma - 128.0) / 128.0), 4),
            "framing": round(max(0.0, 1.0 - 0.5 * framing_error), 4),
            "eye_line": round(eye_y, 4),
            "eye_x": round(float(np.mean([p[0] for p in face.eye_centres()])) / pixels.shape[1], 4),
            "head_height_share": round(head_share, 4),
        }
        kept, problem = self._kept(pixels, face, enrolled or {}, preset.lighting.exposure)
        scores.update(kept)
        if self.check is not None:
            scores["identity_check"], check_problem = self._second_opinion(pixels)
            problem = problem or check_problem
        return scores, problem

    def _second_opinion(self, pixels: np.ndarray) -> tuple[float, str]:
        assert self.check is not None
        model = self.check.analyzer
        faces = model.detect(pixels)
        if not faces:
            return 0.0, f"the second face model ({model.name}) finds no face in the result"
        face = max(faces, key=lambda f: f.area)
        similarity = round(cosine(model.embed(pixels, face), self.check.reference), 4)
        if similarity < self.check.threshold:
            return similarity, (
                f"identity similarity {similarity:.3f} from a second face model ({model.name}) is "
                f"under its threshold {self.check.threshold:.3f}: it may not look like you"
            )
        return similarity, ""

    def __call__(
        self,
        candidates: dict[str, np.ndarray],
        identity: np.ndarray,
        preset: BrandPreset,
        enrolled: dict[str, object] | None = None,
        problems: dict[str, str] | None = None,
    ) -> list[Scored]:
        """``problems``: what the backend itself found wrong with a candidate."""
        results: list[Scored] = []
        prints: dict[str, Thumbprint] = {}
        for key, pixels in candidates.items():
            scores, problem = self.score(pixels, identity, preset, enrolled)
            problem = (problems or {}).get(key, "") or problem
            item = Scored(key=key, scores=scores)
            item.total = round(sum(w * scores[name] for name, w in self.weights.items()), 4)
            # The first reason a person would give: not them, then what changed, then soft.
            if scores["identity"] < self.identity_threshold:
                item.reason = (
                    f"identity similarity {scores['identity']:.3f} is under the threshold "
                    f"{self.identity_threshold:.3f}: it may not look like you"
                )
            elif problem:
                item.reason = problem
            elif scores["sharpness"] < self.min_sharpness:
                item.reason = (
                    f"too soft (sharpness {scores['sharpness']:.2f}; a selfie needs "
                    f"{self.min_sharpness:.2f})"
                )
            else:
                item.accepted = True
            prints[key] = thumbprint(pixels)
            results.append(item)
        results.sort(key=lambda s: (s.accepted, s.total), reverse=True)
        kept: list[Scored] = []
        for item in results:
            twin = next(
                (
                    k
                    for k in kept
                    if k.accepted
                    and look_distance(prints[k.key], prints[item.key]) < self.duplicate_distance
                ),
                None,
            )
            if item.accepted and twin is not None:
                item.accepted = False
                item.reason = f"near-duplicate of a better candidate ({twin.key})"
            kept.append(item)
        rank = 1
        for item in kept:
            if item.accepted:
                item.rank = rank
                rank += 1
        return kept
