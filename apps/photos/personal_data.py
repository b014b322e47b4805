"""What the photos app does for a person's own data (hooks of apps.core.hooks): their
consents and selfies in the "my data" download, and their biometrics deleted."""

from __future__ import annotations

import zipfile
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from apps.core.crypto import rotate
from apps.core.storage import private_copy_to, private_rotate
from apps.organizations.models import EmployeeProfile, Organization
from apps.photos.models import ConsentRecord, IdentityProfile, Photo
from apps.photos.services import employee_biometrics_delete


def biometrics_erase(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    actor: User | None,
    reason: str,
) -> dict[str, int]:
    if not (
        Photo.objects.filter(organization=organization, employee=employee).exists()
        or IdentityProfile.objects.filter(organization=organization, employee=employee).exists()
    ):
        return {"selfies": 0}
    selfies = employee_biometrics_delete(
        organization=organization, employee=employee, actor=actor, reason=reason
    )
    return {"selfies": selfies}


def face_withdrawn(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    actor: User | None,
    reason: str,
) -> dict[str, int]:
    """No consent stands any more, and the selfies and embeddings are gone."""
    ConsentRecord.objects.filter(
        organization=organization, employee=employee, withdrawn_at__isnull=True
    ).update(withdrawn_at=timezone.now())
    return biometrics_erase(
        organization=organization, employee=employee, actor=actor, reason=reason
    )


def exported(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    archive: zipfile.ZipFile,
    record: dict[str, Any],
) -> None:
    record["consents"] = [
        {
            "text_version": c.text_version,
            "given_at": c.given_at.isoformat(),
            "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
        }
        for c in ConsentRecord.objects.filter(organization=organization, employee=employee)
    ]
    record["photos"] = []
    for photo in Photo.objects.filter(organization=organization, employee=employee):
        name = f"selfies/{photo.pk}.jpg"
        with archive.open(name, "w") as member:
            private_copy_to(photo.normalised.name, member)
        record["photos"].append(
            {
                "file": name,
                "uploaded_at": photo.created_at.isoformat(),
                "status": photo.status,
                "checks": photo.report,
                "has_face_embedding": photo.embedding is not None,
            }
        )
    profile = IdentityProfile.objects.filter(organization=organization, employee=employee).first()
    record["person_model"] = (
        {
            "kept": True,
            "what": "a model of your face trained from your selfies, used only to make your "
            "headshots; deleted with your selfies",
            **profile.person_model_info,
        }
        if profile is not None and profile.person_model_file
        else {"kept": False}
    )


def rotate_encryption() -> dict[str, int]:
    """Selfie files, identity embeddings and person models re-encrypted with the first key."""
    files = embeddings = 0
    for photo in Photo.objects.only("pk", "normalised", "embedding").iterator():
        files += private_rotate(photo.normalised.name)
        if photo.embedding:
            Photo.objects.filter(pk=photo.pk).update(embedding=rotate(bytes(photo.embedding)))
            embeddings += 1
    for profile in IdentityProfile.objects.only("pk", "embedding", "person_model_file").iterator():
        IdentityProfile.objects.filter(pk=profile.pk).update(
            embedding=rotate(bytes(profile.embedding))
        )
        embeddings += 1
        if profile.person_model_file:
            files += private_rotate(profile.person_model_file)
    return {"files": files, "embeddings": embeddings}
