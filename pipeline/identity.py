"""Enrollment: do the photos agree, and who is the person?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.errors import NotEnoughPhotos
from pipeline.faces import normalise


@dataclass(frozen=True)
class Enrollment:
    embedding: np.ndarray  # unit vector
    used: list[str]  # photo keys that agree
    outliers: list[str]  # photo keys that may be someone else
    similarity: np.ndarray  # pairwise cosine matrix, in the order of ``keys``
    keys: list[str]

    @property
    def consistent(self) -> bool:
        return not self.outliers


class IdentityBuilder:
    """The identity is the normalised mean of the embeddings that agree.

    A photo is an outlier when its median similarity to the others is under the
    face model's same-person threshold.
    """

    def __init__(self, *, same_person_threshold: float, min_photos: int) -> None:
        self.same_person_threshold = same_person_threshold
        self.min_photos = min_photos

    def __call__(self, embeddings: dict[str, np.ndarray]) -> Enrollment:
        keys = list(embeddings)
        if len(keys) < self.min_photos:
            raise NotEnoughPhotos(
                f"Only {len(keys)} usable photo(s); we need at least {self.min_photos}. "
                "Upload a few more selfies.",
                code="not_enough_photos",
            )
        matrix = np.stack([normalise(embeddings[k]) for k in keys])
        similarity = matrix @ matrix.T
        outliers = []
        if len(keys) >= 2:
            for index, key in enumerate(keys):
                others = np.delete(similarity[index], index)
                if float(np.median(others)) < self.same_person_threshold:
                    outliers.append(key)
        used = [k for k in keys if k not in outliers]
        if len(used) < self.min_photos:
            raise NotEnoughPhotos(
                f"{len(outliers)} photo(s) may show someone else, leaving {len(used)} that agree; "
                f"we need at least {self.min_photos}. Upload more photos of yourself alone.",
                code="not_enough_photos",
            )
        mean = matrix[[keys.index(k) for k in used]].mean(axis=0)
        return Enrollment(
            embedding=normalise(mean),
            used=used,
            outliers=outliers,
            similarity=similarity,
            keys=keys,
        )
