"""The studio renderer: an on-brand headshot from the best selfie, no diffusion.

0. white-balance the selfie to neutral light (pipeline.color)
1. align (eyes level) and frame to the preset (head height, eye line)
2. separate the person from the background (the MediaPipe selfie segmentation model by
   default; GrabCut seeded by the face geometry where it is not installed)
3. put the preset's backdrop behind
4. relight toward the key-light side, grade to the colour temperature
5. retouch skin gently, within the preset's cap (never eyes or lips)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.backends.framing import (
    EYES_IN_FACE_BOX,
    framing_matrix,
    target_geometry,
)
from pipeline.backends.matting import clips_the_head, refine
from pipeline.backends.segmentation import SelfieSegmenter
from pipeline.color import white_balanced
from pipeline.errors import PipelineError
from pipeline.faces import Face
from pipeline.presets import BrandPreset, OutputSize, shipped_presets_dir
from pipeline.provenance import COMPOSITE_SYNTHETIC


@dataclass(frozen=True)
class Rendered:
    pixels: np.ndarray  # RGB uint8 at the preset's primary output size
    segmentation: str  # the model's name, "grabcut" or "geometric"
    crop_jitter: float
    light_strength: float
    problem: str = ""  # why this render must not be offered (the matte clips the head)


def hex_to_rgb(color: str) -> np.ndarray:
    return np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)


def kelvin_to_rgb(kelvin: float) -> np.ndarray:
    """Approximate white-point colour of a black body (Tanner Helland's fit), 0..1."""
    t = kelvin / 100.0
    red = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    green = (
        99.4708025861 * math.log(t) - 161.1195681661
        if t <= 66
        else 288.1221695283 * (t - 60) ** -0.0755148492
    )
    if t >= 66:
        blue = 255.0
    elif t <= 19:
        blue = 0.0
    else:
        blue = 138.5177312231 * math.log(t - 10) - 305.0447927307
    return np.clip(np.array([red, green, blue], dtype=np.float32), 0, 255) / 255.0


class StudioRenderer:
    name = "studio-classic-v1"
    digital_source_type = COMPOSITE_SYNTHETIC

    def __init__(
        self,
        preset: BrandPreset,
        *,
        segmenter: SelfieSegmenter | None = None,
        presets_dir: Path | None = None,
    ) -> None:
        self.preset = preset
        # None: GrabCut seeded by the face geometry, for installs without the model.
        self.segmenter = segmenter
        self.presets_dir = presets_dir

    def __call__(
        self,
        pixels: np.ndarray,
        face: Face,
        *,
        seed: int,
        skin_target: tuple[float, float, float] | list[float] | None = None,
    ) -> Rendered:
        """Render one headshot. ``skin_target`` (CIELAB of the enrolled cheeks) corrects a
        selfie's colour cast, so every candidate shows the person's own skin tone."""
        import cv2

        rng = np.random.default_rng(seed)
        # GrabCut's colour models start from OpenCV's global RNG: seed it, or one seed
        # would not reproduce one image.
        cv2.setRNGSeed(seed)
        jitter = float(rng.uniform(-0.06, 0.06))
        light_strength = float(rng.uniform(0.6, 1.0))
        out = self.preset.primary_output
        # 0. neutral light first (the preset's colour temperature is graded in step 4)
        pixels = np.clip(white_balanced(pixels) + 0.5, 0, 255).astype(np.uint8)
        # 1. align and frame
        framed, valid, matrix = self._frame(pixels, face, out, 1.0 + jitter)
        left, right = (matrix @ np.array([p[0], p[1], 1.0]) for p in face.eye_centres())
        # 2. separate the person: a coarse mask, refined into a matte that follows the hair
        if self.segmenter is not None:
            coarse, method = self._segment_with_model(framed, valid, out), self.segmenter.name
        else:
            coarse, method = self._segment(framed, valid, out)
        alpha = np.clip(refine(framed, coarse) * valid, 0.0, 1.0)
        problem = (
            "the cut-out clips the top of the head" if clips_the_head(alpha, (left, right)) else ""
        )
        person = _decontaminate(framed.astype(np.float32), alpha, out)
        if skin_target is not None:
            person = _match_skin(
                person, measure_skin(pixels, face), np.asarray(skin_target, dtype=np.float32)
            )
        # 4. relight and grade the person only: the backdrop keeps the preset's colours
        person = self._relight(person, light_strength)
        person = self._grade(person)
        # 5. retouch
        person = self._retouch(person, out)
        # 3. backdrop behind
        backdrop = self._backdrop(out.width, out.height, rng)
        a = alpha[:, :, None]
        composite = person * a + backdrop * (1.0 - a)
        result = np.clip(composite + 0.5, 0, 255).astype(np.uint8)
        return Rendered(
            pixels=result,
            segmentation=method,
            crop_jitter=jitter,
            light_strength=light_strength,
            problem=problem,
        )

    # -- 1. framing -----------------------------------------------------------------------------
    def target_geometry(self, out: OutputSize) -> tuple[float, float, float]:
        """(eye x, eye y, face-box height) that the framing asks for, in output pixels."""
        return target_geometry(self.preset, out)

    def _frame(
        self, pixels: np.ndarray, face: Face, out: OutputSize, zoom: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import cv2

        matrix = framing_matrix(face, self.preset, out, zoom)
        scale = float(np.hypot(matrix[0, 0], matrix[0, 1]))
        size = (out.width, out.height)
        # Enlarging: Lanczos keeps more edge detail than cubic; shrinking: area-like cubic.
        interpolation = cv2.INTER_LANCZOS4 if scale > 1.0 else cv2.INTER_CUBIC
        framed = cv2.warpAffine(
            pixels, matrix, size, flags=interpolation, borderMode=cv2.BORDER_REPLICATE
        )
        ones = np.full(pixels.shape[:2], 255, dtype=np.uint8)
        valid = cv2.warpAffine(ones, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)
        return framed, valid.astype(np.float32) / 255.0, matrix

    # -- 2. segmentation ------------------------------------------------------------------------
    def _segment_with_model(
        self, framed: np.ndarray, valid: np.ndarray, out: OutputSize
    ) -> np.ndarray:
        import cv2

        assert self.segmenter is not None
        probability = self.segmenter(framed)
        # Sharpen the model's soft edge into a narrow transition, then keep the person only.
        alpha = np.clip((probability - 0.3) / 0.4, 0.0, 1.0)
        count, labels, stats, _ = cv2.connectedComponentsWithStats((alpha > 0.5).astype(np.uint8))
        if count > 2:
            largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            alpha = alpha * cv2.dilate(
                (labels == largest).astype(np.float32), np.ones((5, 5), np.uint8)
            )
        return np.clip(alpha * valid, 0.0, 1.0).astype(np.float32)

    def _segment(
        self, framed: np.ndarray, valid: np.ndarray, out: OutputSize
    ) -> tuple[np.ndarray, str]:
        import cv2

        work_side = 320
        scale = work_side / max(out.width, out.height)
        small = cv2.resize(
            framed,
            (round(out.width * scale), round(out.height * scale)),
            interpolation=cv2.INTER_AREA,
        )
        h, w = small.shape[:2]
        eye_x, eye_y, face_px = (v * scale for v in self.target_geometry(out))
        face_w = face_px * 0.85
        geometric = self._geometric_mask(h, w, eye_x, eye_y, face_px, face_w)
        mask = np.full((h, w), cv2.GC_PR_BGD, dtype=np.uint8)
        mask[geometric > 0.5] = cv2.GC_PR_FGD
        inner = np.zeros((h, w), np.uint8)
        cv2.ellipse(
            inner,
            (round(eye_x), round(eye_y + 0.2 * face_px)),
            (round(face_w * 0.38), round(face_px * 0.5)),
            0,
            0,
            360,
            1,
            -1,
        )
        # The hairline and the crown: GrabCut tends to give hair to the background.
        cv2.ellipse(
            inner,
            (round(eye_x), round(eye_y - 0.3 * face_px)),
            (round(face_w * 0.3), round(face_px * 0.38)),
            0,
            0,
            360,
            1,
            -1,
        )
        mask[inner > 0] = cv2.GC_FGD
        head_top = eye_y - EYES_IN_FACE_BOX * face_px - 0.45 * face_px
        band = max(1, round(head_top - 0.12 * face_px))
        mask[:band, :] = cv2.GC_BGD
        side = round(1.9 * face_w)
        shoulder_line = round(eye_y + 1.3 * face_px)
        for x_range in (
            slice(0, max(0, round(eye_x - side))),
            slice(min(w, round(eye_x + side)), w),
        ):
            mask[: max(0, shoulder_line - round(0.4 * face_px)), x_range] = cv2.GC_BGD
        small_valid = cv2.resize(valid, (w, h)) < 0.5
        mask[small_valid] = cv2.GC_BGD
        background_model = np.zeros((1, 65), np.float64)
        foreground_model = np.zeros((1, 65), np.float64)
        try:
            # The rectangle is ignored when starting from a mask.
            cv2.grabCut(
                small,
                mask,
                (0, 0, w, h),
                background_model,
                foreground_model,
                4,
                cv2.GC_INIT_WITH_MASK,
            )
            alpha_small = np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)
            method = "grabcut"
        except cv2.error:
            alpha_small, method = geometric, "geometric"
        share = float(alpha_small.mean())
        face_kept = float(alpha_small[inner > 0].mean()) if inner.any() else 0.0
        if not (0.08 <= share <= 0.85) or face_kept < 0.9:
            alpha_small, method = geometric, "geometric"
        # Keep the largest connected person region; drop islands of background.
        count, labels, stats, _ = cv2.connectedComponentsWithStats(
            (alpha_small > 0.5).astype(np.uint8)
        )
        if count > 2:
            largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
            alpha_small = (labels == largest).astype(np.float32)
        alpha = cv2.resize(alpha_small, (out.width, out.height), interpolation=cv2.INTER_LINEAR)
        # Pull the edge in slightly before feathering, so no ring of old background shows.
        radius = max(1, round(out.width / 400))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        alpha = cv2.erode(alpha, kernel)
        alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=max(1.0, out.width / 300))
        return np.clip(alpha * valid, 0.0, 1.0), method

    @staticmethod
    def _geometric_mask(
        h: int, w: int, eye_x: float, eye_y: float, face_px: float, face_w: float
    ) -> np.ndarray:
        import cv2

        mask = np.zeros((h, w), np.float32)
        head_centre = (round(eye_x), round(eye_y + 0.05 * face_px))
        cv2.ellipse(
            mask, head_centre, (round(face_w * 0.62), round(face_px * 0.85)), 0, 0, 360, 1.0, -1
        )
        neck_top = round(eye_y + 0.6 * face_px)
        cv2.rectangle(
            mask,
            (round(eye_x - 0.32 * face_w), neck_top),
            (round(eye_x + 0.32 * face_w), round(eye_y + 1.2 * face_px)),
            1.0,
            -1,
        )
        shoulders = np.array(
            [
                (eye_x - 0.5 * face_w, eye_y + 1.05 * face_px),
                (eye_x + 0.5 * face_w, eye_y + 1.05 * face_px),
                (eye_x + 2.0 * face_w, eye_y + 1.7 * face_px),
                (eye_x + 2.2 * face_w, h),
                (eye_x - 2.2 * face_w, h),
                (eye_x - 2.0 * face_w, eye_y + 1.7 * face_px),
            ],
            dtype=np.int32,
        )
        cv2.fillPoly(mask, [shoulders], 1.0)
        return mask

    # -- 3. backdrop ----------------------------------------------------------------------------
    def _backdrop(self, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
        import cv2

        spec = self.preset.backdrop
        colors = [hex_to_rgb(c) for c in spec.colors]
        if spec.kind == "solid":
            canvas = np.broadcast_to(colors[0], (height, width, 3)).astype(np.float32)
        elif spec.kind == "gradient":
            t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
            canvas = np.broadcast_to(
                colors[0] * (1 - t) + colors[1] * t, (height, width, 3)
            ).astype(np.float32)
        elif spec.kind == "vignette":
            ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
            r = np.hypot(
                (xs - width / 2) / (width / 2), (ys - height * 0.4) / (height / 2)
            ) / math.sqrt(2)
            t = np.clip(r, 0, 1)[:, :, None] ** 1.5
            canvas = colors[0] * (1 - t) + colors[1] * t
        else:
            base = self.presets_dir or shipped_presets_dir()
            image_path = (base / str(spec.image)).resolve()
            if not image_path.is_relative_to(base.resolve()):
                raise ValueError("backdrop image must live inside the presets directory")
            loaded = cv2.imread(str(image_path))
            if loaded is None:
                raise PipelineError(
                    f"The preset's backdrop image {spec.image} cannot be read; check the preset.",
                    code="backdrop_missing",
                )
            picture = cv2.cvtColor(loaded, cv2.COLOR_BGR2RGB)
            canvas = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA).astype(
                np.float32
            )
        # A little noise keeps smooth gradients from banding after JPEG encoding.
        if spec.kind != "solid":
            canvas = canvas + rng.normal(0.0, 0.6, canvas.shape).astype(np.float32)
        return canvas

    # -- 4. light and colour --------------------------------------------------------------------
    def _relight(self, person: np.ndarray, strength: float) -> np.ndarray:
        lighting = self.preset.lighting
        if lighting.key_direction == "front":
            return person
        width = person.shape[1]
        x = np.linspace(-0.5, 0.5, width, dtype=np.float32)
        sign = -1.0 if lighting.key_direction == "left" else 1.0
        amount = 0.22 * (1.0 - lighting.softness) * strength
        gain = 1.0 + sign * amount * x
        return person * gain[None, :, None]

    def _grade(self, person: np.ndarray) -> np.ndarray:
        target = kelvin_to_rgb(self.preset.lighting.color_temperature_k)
        neutral = kelvin_to_rgb(5500)
        # Half strength: a hint of warmth or coolness, never a colour cast on skin.
        gains = 1.0 + 0.5 * (target / neutral - 1.0)
        return person * (gains / gains.mean())[None, None, :]

    # -- 5. retouch -----------------------------------------------------------------------------
    def _retouch(self, person: np.ndarray, out: OutputSize) -> np.ndarray:
        import cv2

        strength = min(self.preset.retouch.strength, self.preset.retouch.cap)
        if strength <= 0:
            return person
        eye_x, eye_y, face_px = self.target_geometry(out)
        clipped = np.clip(person, 0, 255).astype(np.uint8)
        ycrcb = cv2.cvtColor(clipped, cv2.COLOR_RGB2YCrCb)
        skin = (
            (ycrcb[:, :, 1] >= 135)
            & (ycrcb[:, :, 1] <= 180)
            & (ycrcb[:, :, 2] >= 85)
            & (ycrcb[:, :, 2] <= 135)
        ).astype(np.float32)
        region = np.zeros(skin.shape, np.float32)
        cv2.ellipse(
            region,
            (round(eye_x), round(eye_y + 0.2 * face_px)),
            (round(face_px * 0.45), round(face_px * 0.62)),
            0,
            0,
            360,
            1.0,
            -1,
        )
        keep = np.zeros(skin.shape, np.float32)
        eye_dx = 0.22 * face_px
        for dx in (-eye_dx, eye_dx):
            cv2.ellipse(
                keep,
                (round(eye_x + dx), round(eye_y)),
                (round(0.13 * face_px), round(0.08 * face_px)),
                0,
                0,
                360,
                1.0,
                -1,
            )
        cv2.ellipse(
            keep,
            (round(eye_x), round(eye_y + 0.55 * face_px)),
            (round(0.22 * face_px), round(0.1 * face_px)),
            0,
            0,
            360,
            1.0,
            -1,
        )
        weight = (
            cv2.GaussianBlur(skin * region * (1.0 - keep), (0, 0), sigmaX=max(1.0, face_px / 40))
            * strength
        )
        diameter = max(5, round(face_px / 30)) | 1
        smooth = cv2.bilateralFilter(clipped, diameter, 25, diameter).astype(np.float32)
        return person * (1.0 - weight[:, :, None]) + smooth * weight[:, :, None]


def measure_skin(pixels: np.ndarray, face: Face) -> np.ndarray:
    """Mean CIELAB of the cheeks."""
    from pipeline.faces.regions import LEFT_CHEEK, RIGHT_CHEEK, FaceFrame, lab

    frame = FaceFrame.of(face)
    cheeks = np.concatenate([frame.pixels(pixels, LEFT_CHEEK), frame.pixels(pixels, RIGHT_CHEEK)])
    return lab(cheeks[None, :, :])[0].mean(axis=0)


def _match_skin(person: np.ndarray, current: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Shift the person's colours so their cheeks read as the enrolled skin: the whole
    chroma difference (a colour cast), half the lightness difference (lighting varies)."""
    import cv2

    shift = target - current
    shift[0] *= 0.5
    as_lab = cv2.cvtColor(np.clip(person / 255.0, 0.0, 1.0).astype(np.float32), cv2.COLOR_RGB2LAB)
    as_lab += shift.astype(np.float32)
    as_lab[:, :, 0] = np.clip(as_lab[:, :, 0], 0.0, 100.0)
    return cv2.cvtColor(as_lab, cv2.COLOR_LAB2RGB) * 255.0


def _decontaminate(person: np.ndarray, alpha: np.ndarray, out: OutputSize) -> np.ndarray:
    """Replace the colour of edge pixels by the nearby person's own colour, so the old
    background does not show as a halo around hair and shoulders."""
    import cv2

    sigma = max(1.5, out.width / 150)
    weight = cv2.GaussianBlur(alpha, (0, 0), sigmaX=sigma) + 1e-4
    inside = cv2.GaussianBlur(person * alpha[:, :, None], (0, 0), sigmaX=sigma) / weight[:, :, None]
    edge = np.clip((1.0 - alpha) * 1.5, 0.0, 1.0)[:, :, None] * (alpha > 0.01)[:, :, None]
    return person * (1.0 - edge) + inside * edge
