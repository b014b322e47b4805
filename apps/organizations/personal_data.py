"""A person's own data: everything we hold about them, as one download, and its deletion
("my data" page; GDPR articles 15, 17 and 20). Each app that holds something of theirs
adds it to the download and deletes it through the hooks of apps.core.hooks."""

from __future__ import annotations

import json
import tempfile
import zipfile
from typing import IO, Any, cast

from django.contrib.auth.models import User
from django.db import transaction

from apps.audit.services import audit_record
from apps.core import hooks
from apps.core.storage import SPOOL_IN_MEMORY
from apps.organizations.models import EmployeeProfile, Organization
from apps.organizations.selectors import require_self


def personal_data_export(
    *, organization: Organization, employee: EmployeeProfile, actor: User
) -> IO[bytes]:
    """A ZIP, open at its start: data.json (profile, consents, photo checks, jobs,
    headshots) and the image files themselves (selfies as stored, every headshot). Each
    file is copied in a segment at a time, and the archive waits on disk beyond 1 MB."""
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
    }
    # returned open, at its start: the response that sends it closes it
    buffer = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        hooks.fire(
            "person.exported",
            organization=organization,
            employee=employee,
            archive=archive,
            record=record,
        )
        archive.writestr("data.json", json.dumps(record, indent=2, ensure_ascii=False))
    audit_record(
        organization=organization, actor=actor, action="personal_data.exported", target=employee
    )
    buffer.seek(0)
    return cast(IO[bytes], buffer)


def personal_data_delete(
    *, organization: Organization, employee: EmployeeProfile, actor: User
) -> dict[str, int]:
    """The person deletes everything of theirs: consent withdrawn (stops any job),
    selfies and embeddings, every headshot with the cards and exports made from it, and
    the directory photo (removed by a sync sent now)."""
    require_self(organization=organization, employee=employee, actor=actor)
    with transaction.atomic():
        counts = hooks.fire(
            "face.withdrawn",
            organization=organization,
            employee=employee,
            actor=actor,
            reason="deleted by the person",
        )
        deleted = {"selfies": counts.get("selfies", 0), "headshots": counts.get("headshots", 0)}
        audit_record(
            organization=organization,
            actor=actor,
            action="personal_data.deleted",
            target=employee,
            data=deleted,
        )
    return deleted
