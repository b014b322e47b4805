from __future__ import annotations

import pytest

from apps.photos.models import PhotoStatus
from apps.photos.services import photo_upload
from tests.apps.factories import company

USABLE = ["selfie-01.png", "selfie-02-mirror.jpg", "selfie-04-warm.jpg", "selfie-05-closer.jpg"]


@pytest.fixture
def acme(db):
    return company("Acme", "acme.example")


@pytest.fixture
def globex(db):
    return company("Globex", "globex.example")


@pytest.fixture
def ready(acme, selfies, run_jobs):
    """Acme's employee with usable, checked selfies: ready to generate."""
    for name in USABLE:
        photo_upload(
            organization=acme.org,
            employee=acme.employee,
            actor=acme.employee_user,
            data=selfies[name],
        )
    run_jobs()
    assert acme.employee.photos.filter(status=PhotoStatus.USABLE).count() == len(USABLE)
    return acme
