from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models

from apps.audit.models import AuditEvent


def audit_record(
    *,
    organization: Any,
    actor: AbstractBaseUser | None,
    action: str,
    target: models.Model,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    label = actor.get_username() if actor is not None else "system"
    return AuditEvent.objects.create(
        organization=organization,
        actor=actor,
        actor_label=label,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        data=data or {},
    )
