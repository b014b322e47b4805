"""Person / background separation without a model: GrabCut seeded by the face geometry,
for installs without the segmentation model (HEADSHOTS_SEGMENTATION=grabcut)."""

from __future__ import annotations

import numpy as np

from pipeline.backends.framing import EYES_IN_FACE_BOX


def grabcut_mask(
    framed: np.ndarray, valid: np.ndarray, geometry: tuple[float, float, float]
) -> tuple[np.ndarray, str]:
    """A person mask from GrabCut seeded by where the framing puts the face
    (``geometry``: eye x, eye y, face-box height), or the geometric mask itself when
    GrabCut's answer is implausible."""
    import cv2

    height, width = framed.shape[:2]
    work_side = 320
    scale = work_side / max(width, height)
    small = cv2.resize(
        framed,
        (round(width * scale), round(height * scale)),
        interpolation=cv2.INTER_AREA,
    )
    h, w = small.shape[:2]
    eye_x, eye_y, face_px = (v * scale for v in geometry)
    face_w = face_px * 0.85
    geometric = _geometric_mask(h, w, eye_x, eye_y, face_px, face_w)
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
    count, labels, stats, _ = cv2.connectedComponentsWithStats((alpha_small > 0.5).astype(np.uint8))
    if count > 2:
        largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        alpha_small = (labels == largest).astype(np.float32)
    alpha = cv2.resize(alpha_small, (width, height), interpolation=cv2.INTER_LINEAR)
    # Pull the edge in slightly before feathering, so no ring of old background shows.
    radius = max(1, round(width / 500))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    alpha = cv2.erode(alpha, kernel)
    alpha = cv2.GaussianBlur(alpha, (0, 0), sigmaX=max(1.0, width / 375))
    return np.clip(alpha * valid, 0.0, 1.0), method


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
