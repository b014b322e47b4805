"""What a person would reject in a headshot, measured with the eyes and the matte: a head or
body cut by the source photo's edge, a piece of somebody else beside them, a light fringe
where the cut-out meets the new backdrop.

Every measure is in the head's own units (eye distances from the point between the eyes,
x along the eye line, y down the face), so it holds at any photo or output size.
"""

from __future__ import annotations

import numpy as np

from pipeline.faces.geometry import head_axes, head_outline, head_outside

# Where a person can be, round their own face: the head, hair and hat within this of the
# face's axis down to the mouth, then widening by this much per eye distance down (the
# shoulders slope from under the ears).
ENVELOPE_HALF_WIDTH = 2.0
ENVELOPE_SHOULDERS_FROM = 1.0
ENVELOPE_WIDENING = 3.0
# Lengths above which a defect is visible at a glance (eye distances).
VISIBLE_CUT = 0.25
VISIBLE_TOUCH = 0.3
# Share of the person's area in pieces apart from them that is visible.
VISIBLE_FRAGMENT = 0.002
# A light fringe: the matte's edge at least this much lighter (CIELAB L) than both the
# person just inside and the backdrop just outside, on at least this share of the crown.
HALO_LIGHTER = 8.0
HALO_SHARE = 0.1


def envelope(shape: tuple[int, ...], eyes: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Where the person of these eyes can be (H x W bool): the head and hair round the
    face's axis, the shoulders widening below the neck."""
    height, width = shape[:2]
    centre, across, down, iod = head_axes(eyes)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    dx, dy = xs - np.float32(centre[0]), ys - np.float32(centre[1])
    u = (dx * np.float32(across[0]) + dy * np.float32(across[1])) / np.float32(iod)
    v = (dx * np.float32(down[0]) + dy * np.float32(down[1])) / np.float32(iod)
    half = ENVELOPE_HALF_WIDTH + ENVELOPE_WIDENING * np.maximum(v - ENVELOPE_SHOULDERS_FROM, 0.0)
    return np.abs(u) <= half


def one_person(mask: np.ndarray, eyes: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, float]:
    """The person of these eyes alone in a person mask (0..1): the connected part that holds
    their face, inside their envelope. Also returns how far (eye distances) what was
    removed touched what was kept: somebody pressed against them, cut along a line."""
    import cv2

    centre, _, _, iod = head_axes(eyes)
    solid = (mask > 0.5).astype(np.uint8)
    count, labels = cv2.connectedComponents(solid)
    kept = mask.astype(np.float32)
    if count > 2:
        # the part that holds the face: the most person in a disc round the point between the eyes
        disc = np.zeros(mask.shape[:2], np.uint8)
        cv2.circle(
            disc, (int(round(centre[0])), int(round(centre[1]))), max(1, int(iod * 0.6)), 1, -1
        )
        votes = np.bincount(labels[disc > 0], minlength=count)[1:]
        own = (
            1 + int(np.argmax(votes))
            if votes.any()
            else 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
        )
        near = cv2.dilate((labels == own).astype(np.uint8), np.ones((5, 5), np.uint8))
        kept = kept * near
    allowed = envelope(mask.shape, eyes)
    removed = (kept > 0.5) & ~allowed
    kept = np.where(allowed, kept, np.float32(0.0))
    touch = 0.0
    if removed.any():
        reach = max(1, int(round(iod * 0.05)))
        grown = cv2.dilate(removed.astype(np.uint8), np.ones((2 * reach + 1,) * 2, np.uint8))
        touch = float(np.count_nonzero(grown.astype(bool) & (kept > 0.5))) / (2 * reach + 1) / iod
    return kept.astype(np.float32), touch


def edge_cut(alpha: np.ndarray, valid: np.ndarray, eyes: tuple[np.ndarray, np.ndarray]) -> float:
    """How long (eye distances) the source photo's edge runs along the person inside the
    picture: where the photo ended, the person would end in a straight line."""
    import cv2

    _, _, _, iod = head_axes(eyes)
    missing = (valid < 0.5).astype(np.uint8)
    if not missing.any():
        return 0.0
    reach = max(1, int(round(iod * 0.04)))
    kernel = np.ones((2 * reach + 1,) * 2, np.uint8)
    beside = cv2.dilate(missing, kernel).astype(bool) & ~missing.astype(bool)
    return float(np.count_nonzero(beside & (alpha > 0.5))) / (2 * reach + 1) / iod


def fragments(alpha: np.ndarray, eyes: tuple[np.ndarray, np.ndarray]) -> float:
    """The share of the picture's person that lies in pieces apart from the one holding the
    face (a neighbour's shoulder, an arm at the edge)."""
    import cv2

    solid = (alpha > 0.5).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(solid)
    if count <= 2:
        return 0.0
    centre = head_axes(eyes)[0]
    x, y = int(round(centre[0])), int(round(centre[1]))
    height, width = alpha.shape[:2]
    own = labels[min(max(y, 0), height - 1), min(max(x, 0), width - 1)]
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.float64)
    if own == 0:
        own = 1 + int(np.argmax(areas))
    total = float(areas.sum())
    return float((total - areas[own - 1]) / total) if total else 0.0


def halo(
    pixels: np.ndarray,
    alpha: np.ndarray,
    backdrop: np.ndarray,
    eyes: tuple[np.ndarray, np.ndarray],
) -> float:
    """The share of the head's upper outline (crown and temples, where hair meets the
    backdrop) with a light fringe: somewhere in the matte's soft outer edge (outside the
    solid person) the picture is lighter by HALO_LIGHTER (CIELAB L) or more than both the
    backdrop there and the lightest of the person just inside (a natural soft edge lies
    between the two)."""
    import cv2

    centre, _, down, iod = head_axes(eyes)
    height, width = alpha.shape[:2]
    ring = max(1.0, iod * 0.03)
    outline = head_outline(eyes, margin=0.4, points=64)
    top = outline[(outline - centre) @ down < 0]  # above the eye line

    def lightness(image: np.ndarray) -> np.ndarray:
        rgb = np.clip(image, 0, 255).astype(np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[:, :, 0].astype(np.float32) / 2.55

    seen, behind = lightness(pixels), lightness(backdrop)
    lighter = measured = 0
    for point in top:
        # walk from outside the head towards its centre until the matte turns to person
        step = centre - point
        length = float(np.hypot(*step))
        step = step / max(length, 1e-6)
        distances = np.arange(0.0, length, 0.5)
        xs = np.clip(np.round(point[0] + step[0] * distances).astype(int), 0, width - 1)
        ys = np.clip(np.round(point[1] + step[1] * distances).astype(int), 0, height - 1)
        matte = alpha[ys, xs]
        solid = np.nonzero(matte >= 0.95)[0]
        if not solid.size:
            continue
        edge = distances[solid[0]]
        # the lightest the person shows just inside (light hair tips are the person's own)
        inside = _band(seen[ys, xs], distances, edge, edge + 4.0 * ring, 90)
        fringe = (matte > 0.03) & (distances < edge)
        if np.isnan(inside):
            continue
        measured += 1
        if fringe.any():
            glow = seen[ys, xs][fringe] - np.maximum(behind[ys, xs][fringe], inside)
            lighter += float(glow.max()) >= HALO_LIGHTER
    return lighter / measured if measured else 0.0


def _band(
    profile: np.ndarray, distances: np.ndarray, start: float, end: float, percentile: float
) -> float:
    """A percentile of a profile's samples between two distances (NaN where there are none)."""
    chosen = profile[(distances >= start) & (distances < end)]
    return float(np.percentile(chosen, percentile)) if chosen.size else float("nan")


def candidate_measures(
    pixels: np.ndarray,
    alpha: np.ndarray,
    valid: np.ndarray,
    backdrop: np.ndarray,
    eyes: tuple[np.ndarray, np.ndarray],
) -> dict[str, float]:
    """Every measure of a rendered candidate, rounded for its record."""
    return {
        "edge_cut": round(edge_cut(alpha, valid, eyes), 3),
        "head_outside": round(head_outside(alpha.shape, eyes, valid), 3),
        "fragments": round(fragments(alpha, eyes), 4),
        "halo": round(halo(pixels, alpha, backdrop, eyes), 3),
    }


def candidate_problem(measures: dict[str, float]) -> str:
    """Why a candidate with these measures must not be offered ("" when it may be)."""
    if measures["head_outside"] > 0:
        return "the photo's edge cuts through your head"
    if measures["edge_cut"] > VISIBLE_CUT:
        return "in this framing the photo's edge would cut through you"
    if measures["fragments"] > VISIBLE_FRAGMENT:
        return "a piece of somebody else shows beside you"
    if measures["halo"] > HALO_SHARE:
        return "a light fringe shows round your hair"
    return ""
