from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import NotEnoughPhotos
from pipeline.identity import IdentityBuilder
from pipeline.imaging import decode_image


def embeddings(analyzer, selfies, names):
    result = {}
    for name in names:
        pixels = decode_image(selfies[name], max_bytes=10**8, max_pixels=10**8).pixels
        face = analyzer.detect(pixels)[0]
        result[name] = analyzer.embed(pixels, face)
    return result


SAME = ["selfie-01.png", "selfie-02-mirror.jpg", "selfie-04-warm.jpg", "selfie-05-closer.jpg"]


def test_flags_a_photo_of_someone_else(analyzer, selfies):
    vectors = embeddings(analyzer, selfies, [*SAME, "selfie-10-someone-else.jpg"])
    builder = IdentityBuilder(same_person_threshold=analyzer.same_person_threshold, min_photos=3)
    enrollment = builder(vectors)
    assert enrollment.outliers == ["selfie-10-someone-else.jpg"]
    assert enrollment.used == SAME and not enrollment.consistent
    assert np.linalg.norm(enrollment.embedding) == pytest.approx(1.0)
    assert enrollment.similarity.shape == (5, 5)


def test_identity_is_the_mean_of_agreeing_photos(analyzer, selfies):
    vectors = embeddings(analyzer, selfies, SAME)
    enrollment = IdentityBuilder(
        same_person_threshold=analyzer.same_person_threshold, min_photos=3
    )(vectors)
    assert enrollment.consistent
    for vector in vectors.values():
        assert float(np.dot(vector, enrollment.embedding)) > analyzer.same_person_threshold


def test_asks_for_more_photos_when_too_few_agree(analyzer, selfies):
    vectors = embeddings(analyzer, selfies, ["selfie-01.png", "selfie-10-someone-else.jpg"])
    with pytest.raises(NotEnoughPhotos) as caught:
        IdentityBuilder(same_person_threshold=analyzer.same_person_threshold, min_photos=2)(vectors)
    assert "Upload more photos" in caught.value.message
    with pytest.raises(NotEnoughPhotos):
        IdentityBuilder(same_person_threshold=0.9, min_photos=5)(
            embeddings(analyzer, selfies, SAME)
        )
