"""3. Checks: a verdict per photo that a person can act on, and the attributes measured
on a usable photo (skin tone, glasses, facial hair) that later stages keep.

- ``photo``       the checks (face count and size, pose, light, sharpness, eyes)
- ``attributes``  what is measured and kept per person
"""

from __future__ import annotations

from pipeline.checks.attributes import ITA_BANDS
from pipeline.checks.photo import (
    CheckThresholds,
    PhotoChecker,
    PhotoReport,
    face_region,
    sharpness_score,
)

__all__ = [
    "ITA_BANDS",
    "CheckThresholds",
    "PhotoChecker",
    "PhotoReport",
    "face_region",
    "sharpness_score",
]
