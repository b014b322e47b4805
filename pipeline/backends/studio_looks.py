"""The looks the studio offers for one person: framings the preset allows, light setups
and backdrop variants within its palette. A job's candidates walk through them so that
they differ in ways a person chooses between, not only in a few pixels of crop.

- framings: close-up, head and shoulders (the preset's own), chest-up;
- light: loop, Rembrandt, butterfly and soft (broad) setups, keyed from the preset's side;
- backdrops: the preset's own, and variants of its first colour (a gradient to a deeper
  shade, a vignette, a soft out-of-focus "bokeh" of the palette).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.errors import PipelineError
from pipeline.presets import BrandPreset, shipped_presets_dir

FRAMINGS = {"close-up": 1.15, "head and shoulders": 1.0, "chest-up": 0.84}


@dataclass(frozen=True)
class Look:
    framing: str = "head and shoulders"
    light: str = "loop"
    backdrop: str = "preset"

    @property
    def zoom(self) -> float:
        return FRAMINGS[self.framing]

    def as_dict(self) -> dict[str, str]:
        return {"framing": self.framing, "light": self.light, "backdrop": self.backdrop}


def tighter_framings(framing: str) -> list[str]:
    """This framing, then each tighter one, widest first: what a selfie that cannot fill a
    wide framing (its edge would show) can still give."""
    zoom = FRAMINGS[framing]
    return sorted((f for f, z in FRAMINGS.items() if z >= zoom), key=FRAMINGS.__getitem__)


def light_setups(preset: BrandPreset) -> list[str]:
    """The setups, the preset's own first: a side key gives loop; a front key butterfly."""
    if preset.lighting.key_direction == "front":
        return ["butterfly", "soft", "loop", "Rembrandt"]
    return ["loop", "Rembrandt", "soft", "butterfly"]


def backdrop_variants(preset: BrandPreset) -> list[str]:
    if preset.backdrop.kind == "image":
        return ["preset"]  # a company's own picture is not varied
    return ["preset", "gradient", "vignette", "bokeh"]


MAX_LOOKS = 12


def plan(preset: BrandPreset, count: int) -> list[Look]:
    """Up to MAX_LOOKS looks, any two of which differ in at least two of framing, light and
    backdrop (a Latin square: the backdrop follows from framing and light), the preset's
    own look first, framings taking turns. Where the backdrop is the company's own picture,
    framing and light vary alone."""
    framings = list(FRAMINGS)
    lights = light_setups(preset)
    backdrops = backdrop_variants(preset)
    looks = []
    for step in range(len(lights)):
        for f in (1, 0, 2):  # head and shoulders, close-up, chest-up
            light = step
            backdrop = (light + f + len(backdrops) - 1) % len(backdrops)
            looks.append(Look(framings[f], lights[light], backdrops[backdrop]))
    return looks[: min(count, MAX_LOOKS)]


def light_gain(
    light: str,
    preset: BrandPreset,
    shape: tuple[int, int],
    eyes: tuple[np.ndarray, np.ndarray],
    strength: float,
) -> np.ndarray:
    """A multiplicative light field (H x W) over the person, for a setup around the face."""
    height, width = shape
    left, right = eyes
    centre = (left + right) / 2.0
    distance = max(1.0, float(np.hypot(*(right - left))))
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    across = (xs - centre[0]) / (3.0 * distance)  # about -1..1 over the head and shoulders
    down = (ys - centre[1]) / (3.0 * distance)
    sign = -1.0 if preset.lighting.key_direction == "left" else 1.0
    if preset.lighting.key_direction == "front":
        sign = 1.0 if strength >= 0.8 else -1.0  # a side for the side setups all the same
    soft = 1.0 - preset.lighting.softness
    if light == "loop":
        gain = 1.0 + sign * 0.20 * soft * strength * np.clip(across, -1, 1)
    elif light == "Rembrandt":
        # A stronger key and the far side of the face falling into shadow.
        far = np.clip(-sign * across, 0.0, 1.0)
        gain = 1.0 + sign * 0.16 * soft * strength * np.clip(across, -1, 1)
        gain -= 0.22 * soft * strength * far * np.exp(-(down**2) / 0.5)
    elif light == "butterfly":
        # Light from above the camera: brighter forehead, a soft fall-off towards the chin.
        gain = 1.0 + 0.14 * strength * np.clip(-down, -1, 1) - 0.05 * np.abs(across)
    else:  # soft: broad, low-contrast light
        gain = 1.0 + sign * 0.06 * strength * np.clip(across, -1, 1)
    return gain.astype(np.float32)


def backdrop_canvas(
    variant: str,
    preset: BrandPreset,
    size: tuple[int, int],
    rng: np.random.Generator,
) -> np.ndarray:
    """A variant of the preset's backdrop other than its own ("gradient", "vignette",
    "bokeh") at ``size`` (width, height): H x W x 3, float32 0..255, before dithering."""
    import cv2

    width, height = size
    colour = np.array(
        [int(preset.backdrop.colors[0][i : i + 2], 16) for i in (1, 3, 5)], np.float32
    )
    deeper = colour * 0.72
    if variant == "gradient":
        t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        return np.broadcast_to(colour * (1 - t) + deeper * t, (height, width, 3))
    if variant == "vignette":
        t = _vignette(width, height)
        lighter = np.clip(colour * 1.18 + 8.0, 0, 255)
        return lighter * (1 - t) + deeper * t
    # bokeh: soft discs of the palette's colours, far out of focus, at low contrast
    small = np.broadcast_to(colour, (height // 8, width // 8, 3)).astype(np.float32).copy()
    palette = [
        np.array([int(c[i : i + 2], 16) for i in (1, 3, 5)], np.float32) for c in preset.palette
    ]
    for _ in range(14):
        x, y = int(rng.integers(0, small.shape[1])), int(rng.integers(0, small.shape[0]))
        radius = int(rng.integers(max(2, width // 80), max(3, width // 30)))
        tint = colour * 0.75 + palette[int(rng.integers(0, len(palette)))] * 0.25
        cv2.circle(small, (x, y), radius, tint.tolist(), -1)
    blurred = cv2.GaussianBlur(small, (0, 0), sigmaX=max(2.0, width / 200))
    return cv2.resize(blurred, (width, height), interpolation=cv2.INTER_CUBIC)


@functools.lru_cache(maxsize=8)
def _vignette(width: int, height: int) -> np.ndarray:
    """The vignette's falloff (H x W x 1, 0 at the centre of light, 1 at the corners)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot((xs - width / 2) / (width / 2), (ys - height * 0.35) / (height / 2))
    falloff = np.clip(r / math.sqrt(2), 0, 1)[:, :, None] ** 1.3
    falloff.flags.writeable = False  # shared between renders
    return falloff


@functools.lru_cache(maxsize=4)
def _dither_field(width: int, height: int) -> np.ndarray:
    field = np.random.default_rng(0).normal(0.0, 0.6, (height + 64, width + 64, 3))
    field = field.astype(np.float32)
    field.flags.writeable = False
    return field


def dither(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A little noise that keeps smooth backdrops from banding after JPEG encoding: one
    field per size, at an offset chosen by the render's seed."""
    field = _dither_field(width, height)
    dx, dy = int(rng.integers(0, 64)), int(rng.integers(0, 64))
    return field[dy : dy + height, dx : dx + width]


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


def preset_backdrop(
    preset: BrandPreset, width: int, height: int, *, presets_dir: Path | None = None
) -> np.ndarray:
    """The preset's own backdrop at this size (read-only: every look of a job shares it)."""
    import cv2

    spec = preset.backdrop
    colors = [hex_to_rgb(c) for c in spec.colors]
    if spec.kind == "solid":
        canvas = np.broadcast_to(colors[0], (height, width, 3)).astype(np.float32)
    elif spec.kind == "gradient":
        t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
        canvas = np.broadcast_to(colors[0] * (1 - t) + colors[1] * t, (height, width, 3)).astype(
            np.float32
        )
    elif spec.kind == "vignette":
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        r = np.hypot(
            (xs - width / 2) / (width / 2), (ys - height * 0.4) / (height / 2)
        ) / math.sqrt(2)
        t = np.clip(r, 0, 1)[:, :, None] ** 1.5
        canvas = colors[0] * (1 - t) + colors[1] * t
    else:
        base = presets_dir or shipped_presets_dir()
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
    canvas = np.ascontiguousarray(canvas, dtype=np.float32)
    canvas.flags.writeable = False  # shared between renders
    return canvas
