"""The person's own model (a LoRA trained from their selfies) is biometric-derived data:
encrypted at rest, reused only for the photos and training it was made from, rotated with
the keys, listed in the person's data, and deleted with the selfies."""

from __future__ import annotations

import io
import zipfile

import pytest
from cryptography.fernet import Fernet
from django.core.files.storage import default_storage
from django.core.management import call_command

from apps.core.crypto import is_encrypted
from apps.core.storage import private_read, private_read_raw
from apps.photos.models import IdentityProfile
from apps.photos.personal_data import exported
from apps.photos.services import consent_withdraw, person_model_load, person_model_save
from tests.conftest import release_on_commit_hooks

pytestmark = pytest.mark.django_db

WEIGHTS = b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + bytes(range(200))  # safetensors-like
INFO = {"rank": 16, "steps": 800, "images": 4}


def test_kept_encrypted_reused_for_its_own_key_and_replaced(finished):
    c, _ = finished
    person_model_save(employee=c.employee, key="a" * 64, weights=WEIGHTS, info=INFO)
    profile = IdentityProfile.objects.get(employee=c.employee)
    first = profile.person_model_file
    stored = private_read_raw(first)
    assert is_encrypted(stored) and WEIGHTS[:16] not in stored
    assert person_model_load(employee=c.employee, key="a" * 64) == WEIGHTS
    assert person_model_load(employee=c.employee, key="b" * 64) is None  # other photos
    person_model_save(employee=c.employee, key="b" * 64, weights=WEIGHTS[::-1], info=INFO)
    release_on_commit_hooks()
    assert not default_storage.exists(first)  # the older model is gone
    assert person_model_load(employee=c.employee, key="b" * 64) == WEIGHTS[::-1]


def test_listed_in_the_persons_data_and_rotated_with_the_keys(finished, settings):
    c, _ = finished
    person_model_save(employee=c.employee, key="a" * 64, weights=WEIGHTS, info=INFO)
    record: dict = {}
    with zipfile.ZipFile(io.BytesIO(), "w") as archive:
        exported(organization=c.org, employee=c.employee, archive=archive, record=record)
    assert record["person_model"]["kept"] is True and record["person_model"]["rank"] == 16
    old_key = settings.HEADSHOTS_ENCRYPTION_KEYS[0]
    settings.HEADSHOTS_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]
    call_command("encryption", "rotate", stdout=io.StringIO())
    settings.HEADSHOTS_ENCRYPTION_KEYS = settings.HEADSHOTS_ENCRYPTION_KEYS[:1]
    name = IdentityProfile.objects.get(employee=c.employee).person_model_file
    assert private_read(name) == WEIGHTS


def test_deleted_with_the_selfies_when_consent_is_withdrawn(finished):
    c, _ = finished
    person_model_save(employee=c.employee, key="a" * 64, weights=WEIGHTS, info=INFO)
    name = IdentityProfile.objects.get(employee=c.employee).person_model_file
    assert default_storage.exists(name)
    consent_withdraw(organization=c.org, employee=c.employee, actor=c.employee_user)
    release_on_commit_hooks()
    assert not default_storage.exists(name)
    assert not IdentityProfile.objects.filter(employee=c.employee).exists()
    # a model finished after the withdrawal has no profile to join: nothing is kept
    person_model_save(employee=c.employee, key="a" * 64, weights=WEIGHTS, info=INFO)
    assert person_model_load(employee=c.employee, key="a" * 64) is None
