from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from apps.audit.models import AuditEvent

GENESIS = "0" * 64


def event_hash(
    *,
    organization_id: int,
    sequence: int,
    previous_hash: str,
    created_at: Any,
    actor_label: str,
    action: str,
    target_type: str,
    target_id: str,
    data: dict[str, Any],
) -> str:
    canonical = json.dumps(
        [
            organization_id,
            sequence,
            previous_hash,
            created_at.isoformat(timespec="microseconds"),
            actor_label,
            action,
            target_type,
            target_id,
            data,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_record(
    *,
    organization: Any,
    actor: User | None,
    action: str,
    target: models.Model,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event to the company's chain (serialised per company; a lost race retries)."""
    from apps.organizations.models import Organization

    label = actor.get_username() if actor is not None else "system"
    content = {
        "actor_label": label,
        "action": action,
        "target_type": target._meta.label_lower,
        "target_id": str(target.pk),
        # Through JSON once, so the hash covers exactly what the database gives back.
        "data": json.loads(json.dumps(data or {}, default=str)),
    }
    for attempt in range(5):
        try:
            with transaction.atomic():
                Organization.objects.select_for_update().filter(pk=organization.pk).first()
                last = (
                    AuditEvent.objects.filter(organization_id=organization.pk)
                    .order_by("-sequence")
                    .values("sequence", "hash")
                    .first()
                )
                sequence = (last["sequence"] + 1) if last else 1
                previous = last["hash"] if last else GENESIS
                created_at = timezone.now()
                digest = event_hash(
                    organization_id=organization.pk,
                    sequence=sequence,
                    previous_hash=previous,
                    created_at=created_at,
                    **content,
                )
                return AuditEvent.objects.create(
                    organization_id=organization.pk,
                    actor=actor,
                    created_at=created_at,
                    sequence=sequence,
                    previous_hash=previous,
                    hash=digest,
                    **content,
                )
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class ChainReport:
    events: int
    ok: bool
    broken_at: int | None = None  # the sequence number of the first bad link
    reason: str = ""


def audit_chain_verify(*, organization: Any) -> ChainReport:
    """Recompute every link of the company's chain; the first one that does not hold."""
    previous = GENESIS
    expected = 1
    count = 0
    for event in AuditEvent.objects.filter(organization_id=organization.pk).order_by("sequence"):
        count += 1
        if event.sequence != expected:
            return ChainReport(count, False, expected, f"event {expected} is missing")
        if event.previous_hash != previous:
            return ChainReport(
                count, False, event.sequence, "it does not follow the previous event"
            )
        digest = event_hash(
            organization_id=organization.pk,
            sequence=event.sequence,
            previous_hash=event.previous_hash,
            created_at=event.created_at,
            actor_label=event.actor_label,
            action=event.action,
            target_type=event.target_type,
            target_id=event.target_id,
            data=event.data,
        )
        if digest != event.hash:
            return ChainReport(count, False, event.sequence, "its content was changed")
        previous = event.hash
        expected += 1
    return ChainReport(count, True)


def audit_export_lines(*, organization: Any) -> Iterator[str]:
    """The company's chain as JSON lines, oldest first, each event with its hashes (what
    `manage.py audit export` writes and HR downloads)."""
    for event in (
        AuditEvent.objects.filter(organization_id=organization.pk).order_by("sequence").iterator()
    ):
        yield json.dumps(
            {
                "company": organization.slug,
                "sequence": event.sequence,
                "at": event.created_at.isoformat(timespec="microseconds"),
                "actor": event.actor_label,
                "action": event.action,
                "target": f"{event.target_type}#{event.target_id}",
                "data": event.data,
                "previous_hash": event.previous_hash,
                "hash": event.hash,
            },
            ensure_ascii=False,
            sort_keys=True,
        )
