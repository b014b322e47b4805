"""A person's own data: everything we hold about them, as one download, and its deletion
("my data" page; GDPR articles 15, 17 and 20)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from apps.audit.services import audit_record
from apps.core.storage import private_read
from apps.organizations.models import EmployeeProfile, Organization
from apps.organizations.selectors import require_self


def personal_data_export(
    *, organization: Organization, employee: EmployeeProfile, actor: AbstractBaseUser
) -> bytes:
    """A ZIP: data.json (profile, consents, photo checks, jobs, headshots) and the image
    files themselves (selfies as stored, every headshot)."""
    from apps.generation.models import GenerationJob, Headshot
    from apps.photos.models import ConsentRecord, Photo

    require_self(organization=organization, employee=employee, actor=actor)
    record: dict[str, Any] = {
        "profile": {
            "full_name": employee.full_name,
            "email": employee.email,
            "title": employee.title,
            "department": employee.department,
            "phone": employee.phone,
            "status": employee.status,
            "company": organization.name,
        },
        "consents": [
            {
                "text_version": c.text_version,
                "given_at": c.given_at.isoformat(),
                "withdrawn_at": c.withdrawn_at.isoformat() if c.withdrawn_at else None,
            }
            for c in ConsentRecord.objects.filter(organization=organization, employee=employee)
        ],
        "photos": [],
        "jobs": [],
        "headshots": [],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for photo in Photo.objects.filter(organization=organization, employee=employee):
            name = f"selfies/{photo.pk}.jpg"
            archive.writestr(name, private_read(photo.normalised.name))
            record["photos"].append(
                {
                    "file": name,
                    "uploaded_at": photo.created_at.isoformat(),
                    "status": photo.status,
                    "checks": photo.report,
                    "has_face_embedding": photo.embedding is not None,
                }
            )
        for job in GenerationJob.objects.filter(organization=organization, employee=employee):
            record["jobs"].append(
                {
                    "id": job.pk,
                    "status": job.status,
                    "created_at": job.created_at.isoformat(),
                    "preset_version": job.preset_version_id,
                    "backend": job.backend,
                }
            )
        for headshot in Headshot.objects.filter(
            organization=organization, employee=employee
        ).exclude(image=""):
            name = f"headshots/{headshot.pk}{_suffix(headshot.image.name)}"
            archive.writestr(name, private_read(headshot.image.name))
            record["headshots"].append(
                {
                    "file": name,
                    "job": headshot.job_id,
                    "status": headshot.status,
                    "scores": headshot.scores,
                    "backend": headshot.backend,
                    "created_at": headshot.created_at.isoformat(),
                }
            )
        archive.writestr("data.json", json.dumps(record, indent=2, ensure_ascii=False))
    audit_record(
        organization=organization, actor=actor, action="personal_data.exported", target=employee
    )
    return buffer.getvalue()


def _suffix(name: str) -> str:
    for suffix in (".png", ".jpg", ".jpeg", ".webp"):
        if name.lower().endswith(suffix):
            return suffix
    return ".bin"


def personal_data_delete(
    *, organization: Organization, employee: EmployeeProfile, actor: AbstractBaseUser
) -> dict[str, int]:
    """The person deletes everything of theirs: consent withdrawn (stops any job),
    selfies and embeddings, every headshot with the cards and exports made from it, and
    the directory photo (removed by a sync sent now)."""
    from apps.generation.services import employee_headshots_delete, employee_jobs_stop
    from apps.photos.models import ConsentRecord
    from apps.photos.services import employee_biometrics_delete

    require_self(organization=organization, employee=employee, actor=actor)
    from django.utils import timezone

    with transaction.atomic():
        ConsentRecord.objects.filter(
            organization=organization, employee=employee, withdrawn_at__isnull=True
        ).update(withdrawn_at=timezone.now())
        employee_jobs_stop(organization=organization, employee=employee)
        selfies = employee_biometrics_delete(
            organization=organization,
            employee=employee,
            actor=actor,
            reason="deleted by the person",
        )
        headshots = employee_headshots_delete(organization=organization, employee=employee)
        audit_record(
            organization=organization,
            actor=actor,
            action="personal_data.deleted",
            target=employee,
            data={"selfies": selfies, "headshots": headshots},
        )
    return {"selfies": selfies, "headshots": headshots}
