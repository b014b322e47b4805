"""What the generation app does for a person's own data (hooks of apps.core.hooks): their
jobs and headshots in the "my data" download; their work stopped when they leave; every
headshot withdrawn when their face must no longer be used."""

from __future__ import annotations

import zipfile
from typing import Any

from django.contrib.auth.models import User

from apps.core.storage import private_copy_to, private_rotate
from apps.generation.models import GenerationJob, Headshot
from apps.generation.services import employee_headshots_delete, employee_jobs_stop
from apps.organizations.models import EmployeeProfile, Organization


def person_left(
    *, organization: Organization, employee: EmployeeProfile, actor: User | None
) -> dict[str, int]:
    return {"jobs_stopped": employee_jobs_stop(organization=organization, employee=employee)}


def face_withdrawn(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    actor: User | None,
    reason: str,
) -> dict[str, int]:
    stopped = employee_jobs_stop(organization=organization, employee=employee)
    headshots = employee_headshots_delete(organization=organization, employee=employee)
    return {"jobs_stopped": stopped, "headshots": headshots}


def exported(
    *,
    organization: Organization,
    employee: EmployeeProfile,
    archive: zipfile.ZipFile,
    record: dict[str, Any],
) -> None:
    record["jobs"] = [
        {
            "id": job.pk,
            "status": job.status,
            "created_at": job.created_at.isoformat(),
            "preset_version": job.preset_version_id,
            "backend": job.backend,
        }
        for job in GenerationJob.objects.filter(organization=organization, employee=employee)
    ]
    record["headshots"] = []
    for headshot in Headshot.objects.filter(organization=organization, employee=employee).exclude(
        image=""
    ):
        name = f"headshots/{headshot.pk}{_suffix(headshot.image.name)}"
        with archive.open(name, "w") as member:
            private_copy_to(headshot.image.name, member)
        print_name = ""
        if headshot.print_image:
            print_name = f"headshots/{headshot.pk}-print{_suffix(headshot.print_image.name)}"
            with archive.open(print_name, "w") as member:
                private_copy_to(headshot.print_image.name, member)
        record["headshots"].append(
            {
                "file": name,
                "print_file": print_name,
                "job": headshot.job_id,
                "status": headshot.status,
                "scores": headshot.scores,
                "backend": headshot.backend,
                "created_at": headshot.created_at.isoformat(),
            }
        )


def _suffix(name: str | None) -> str:
    for suffix in (".png", ".jpg", ".jpeg", ".webp"):
        if (name or "").lower().endswith(suffix):
            return suffix
    return ".bin"


def rotate_encryption() -> dict[str, int]:
    """Generated headshots re-encrypted with the first key."""
    files = 0
    for headshot in (
        Headshot.objects.exclude(image="").only("pk", "image", "print_image").iterator()
    ):
        for name in headshot.stored_files():
            files += private_rotate(name)
    return {"files": files}
