"""From a coarse person mask to an alpha matte that follows hair and shoulders, and a
check that the matte keeps the whole head.

The segmentation model sees the photo at 256 x 256: its edge is a smooth "helmet". The
guided filter (He, Sun and Tang, 2013) re-fits that edge to the photo itself at full
size: inside a window the matte becomes a linear function of the colours, so it takes
the shape of strands and soft edges the photo shows, without a halo. It runs in two
passes, a wide one for the head's outline and a fine one for strands.
"""

from __future__ import annotations

import numpy as np

from pipeline.faces.geometry import head_axes

# Points that are inside any head, hair or not, in eye distances from the point between
# the eyes (x to the right, y up): the temples at forehead height, the upper forehead, the
# crown's middle. The eyes sit about 45% down a head three eye distances high, so the
# crown is ~1.35 eye distances up and the head ~1 eye distance wide each side.
INSIDE_THE_HEAD = (
    (-0.85, 0.45),
    (0.85, 0.45),
    (-0.6, 0.95),
    (0.6, 0.95),
    (-0.3, 1.15),
    (0.0, 1.2),
    (0.3, 1.15),
)


def _box(image: np.ndarray, radius: int) -> np.ndarray:
    import cv2

    return cv2.boxFilter(image, -1, (2 * radius + 1, 2 * radius + 1), normalize=True)


def guided_filter(guide: np.ndarray, source: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a colour guide (H x W x 3, 0..1) on a single-channel
    source (H x W, 0..1)."""
    guide = guide.astype(np.float32)
    source = source.astype(np.float32)
    mean_i = _box(guide, radius)
    mean_p = _box(source, radius)
    mean_ip = _box(guide * source[:, :, None], radius)
    cov_ip = mean_ip - mean_i * mean_p[:, :, None]
    # the guide's 3 x 3 covariance in every window
    var = np.empty(guide.shape[:2] + (3, 3), np.float32)
    for row in range(3):
        for col in range(row, 3):
            value = _box(guide[:, :, row] * guide[:, :, col], radius) - (
                mean_i[:, :, row] * mean_i[:, :, col]
            )
            var[:, :, row, col] = var[:, :, col, row] = value
    var += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(var, cov_ip[:, :, :, None])[:, :, :, 0]
    b = mean_p - (a * mean_i).sum(axis=2)
    return (_box(a, radius) * guide).sum(axis=2) + _box(b, radius)


def gray_guided_filter(
    guide: np.ndarray, source: np.ndarray, radius: int, eps: float
) -> np.ndarray:
    """The guided filter with a single-channel guide (H x W, 0..1): a few box filters."""
    guide = guide.astype(np.float32)
    source = source.astype(np.float32)
    mean_i = _box(guide, radius)
    mean_p = _box(source, radius)
    cov_ip = _box(guide * source, radius) - mean_i * mean_p
    var_i = _box(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return _box(a, radius) * guide + _box(b, radius)


def refine(pixels: np.ndarray, coarse: np.ndarray, *, reach: float | None = None) -> np.ndarray:
    """An alpha matte (0..1) that follows the photo's edges, from a coarse mask. Nothing
    farther than ``reach`` pixels (default: 2% of the width) from the coarse person is kept:
    beside a bright background the filter can spread a faint cloud of "person" into it,
    which shows as a light glow round the hair."""
    import cv2

    height, width = coarse.shape
    guide = pixels.astype(np.float32) / 255.0
    # The wide pass with the colours, on a quarter-size copy (its window spans the model's
    # blurred edge; colour tells hair from a background of the same brightness).
    small_size = (max(8, width // 4), max(8, height // 4))
    small = cv2.resize(guide, small_size, interpolation=cv2.INTER_AREA)
    coarse_small = cv2.resize(coarse, small_size, interpolation=cv2.INTER_AREA)
    wide = guided_filter(small, coarse_small, radius=max(3, width // 160), eps=1e-3)
    wide = cv2.resize(wide, (width, height), interpolation=cv2.INTER_LINEAR)
    # Sharpen the transition, then the fine pass for strands at full size (brightness is
    # what separates a strand from the backdrop at that scale).
    wide = np.clip((wide - 0.25) / 0.5, 0.0, 1.0)
    gray = cv2.cvtColor(guide, cv2.COLOR_RGB2GRAY)
    fine = gray_guided_filter(gray, wide, radius=max(2, width // 400), eps=1e-4)
    grow = max(1, round(reach if reach is not None else width * 0.02))
    grown = cv2.dilate(
        (coarse > 0.5).astype(np.uint8),
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)),
    )
    near = cv2.blur(grown.astype(np.float32), (grow, grow))  # a soft limit, not a hard line
    return np.clip(fine * near, 0.0, 1.0).astype(np.float32)


def clips_the_head(alpha: np.ndarray, eyes: tuple[np.ndarray, np.ndarray]) -> bool:
    """Whether the matte cuts through the head: every point of INSIDE_THE_HEAD that lies
    in the frame must be person (a small neighbourhood's mean alpha at least 0.5)."""
    centre, across, down, distance = head_axes(eyes)
    if distance < 2:
        return True
    up = -down  # the head's own axis, perpendicular to the line between the eyes
    height, width = alpha.shape
    reach = max(1, int(round(distance * 0.06)))
    for dx, dy in INSIDE_THE_HEAD:
        x, y = centre + (dx * across + dy * up) * distance
        xi, yi = int(round(x)), int(round(y))
        if not (reach <= xi < width - reach and reach <= yi < height - reach):
            continue  # outside the frame: the framing crops there, nothing to judge
        if float(alpha[yi - reach : yi + reach + 1, xi - reach : xi + reach + 1].mean()) < 0.5:
            return True
    return False


def unmix(pixels: np.ndarray, alpha: np.ndarray, *, sigma: float) -> np.ndarray:
    """The matte's soft edge checked against the photo's colours: each edge pixel is a mix
    of the person's nearby colour F and the background's nearby colour B, so its share of
    person is its colour's position on the line from B to F. Where the matte says more
    than the colours do (a faint cloud of "person" over a bright background, seen as a
    glow round the hair), the colours win; where F and B look alike they cannot tell,
    and the matte stays."""
    import cv2

    image = pixels.astype(np.float32)
    solid = (alpha > 0.95).astype(np.float32)
    clear = (alpha < 0.05).astype(np.float32)

    def local_mean(weight: np.ndarray) -> np.ndarray:
        total = cv2.GaussianBlur(weight, (0, 0), sigmaX=sigma) + 1e-4
        return (
            cv2.GaussianBlur(image * weight[:, :, None], (0, 0), sigmaX=sigma) / total[:, :, None]
        )

    edge = (alpha > 0.0) & (alpha < 0.95)
    if not edge.any():
        return alpha
    person, background = local_mean(solid), local_mean(clear)
    line = person - background
    length = (line * line).sum(axis=2)
    share = ((image - background) * line).sum(axis=2) / np.maximum(length, 1e-3)
    # colours 40 levels apart or more tell person from background; fewer, the matte stays
    trusted = np.clip((np.sqrt(length) - 25.0) / 15.0, 0.0, 1.0)
    from_colour = np.clip(share, 0.0, 1.0)
    limit = alpha * (1.0 - trusted) + np.minimum(alpha, from_colour) * trusted
    return np.where(edge, limit, alpha).astype(np.float32)
