from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
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
    end: tuple[int, str] | None = None  # the last link checked, when all held


def audit_chain_verify(*, organization: Any, after: tuple[int, str] | None = None) -> ChainReport:
    """Recompute every link of the company's chain, or those after a link already found
    good (``after``: its sequence and hash); the first one that does not hold."""
    previous = after[1] if after else GENESIS
    expected = after[0] + 1 if after else 1
    count = expected - 1
    rows = (
        AuditEvent.objects.filter(organization_id=organization.pk, sequence__gte=expected)
        .order_by("sequence")
        .values_list(
            "sequence",
            "previous_hash",
            "hash",
            "created_at",
            "actor_label",
            "action",
            "target_type",
            "target_id",
            "data",
        )
    )
    for sequence, previous_hash, stored, created_at, *content in rows.iterator(chunk_size=2000):
        count += 1
        if sequence != expected:
            return ChainReport(count, False, expected, f"event {expected} is missing")
        if previous_hash != previous:
            return ChainReport(count, False, sequence, "it does not follow the previous event")
        actor_label, action, target_type, target_id, data = content
        digest = event_hash(
            organization_id=organization.pk,
            sequence=sequence,
            previous_hash=previous_hash,
            created_at=created_at,
            actor_label=actor_label,
            action=action,
            target_type=target_type,
            target_id=target_id,
            data=data,
        )
        if digest != stored:
            return ChainReport(count, False, sequence, "its content was changed")
        previous = stored
        expected += 1
    return ChainReport(count, True, end=(expected - 1, previous))


FULL_CHECK_EVERY_S = 3600


def audit_chain_checked(*, organization: Any) -> ChainReport:
    """The chain as the audit page shows it: the events added since the last check are
    verified on each view, from the last link found good (kept in the cache), and the
    whole chain again at least once an hour (when the kept link expires), so a page of a
    large company's log does not rehash every event on every view. An old event changed
    in the database shows within the hour; ``manage.py audit verify`` checks in full."""
    key = f"audit-chain:{organization.pk}"
    now = time.time()
    kept = cache.get(key)  # (sequence, hash, when the whole chain was last checked)
    full_at = kept[2] if kept and now - kept[2] < FULL_CHECK_EVERY_S else now
    after = (kept[0], kept[1]) if full_at != now else None
    report = audit_chain_verify(organization=organization, after=after)
    if report.ok and report.end is not None:
        life = max(1, int(FULL_CHECK_EVERY_S - (now - full_at)))
        cache.set(key, (*report.end, full_at), life)
    else:
        cache.delete(key)
    return report


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
