"""Operations on the worker machinery: dead letters."""

from __future__ import annotations

from typing import Any

import dramatiq
from django.db import transaction
from django.utils import timezone

from apps.core.errors import StateConflict
from apps.core.models import DeadLetter
from apps.core.queue import REQUEUE_HOOKS


def dead_letter_requeue(*, dead_letter: DeadLetter, by: str) -> None:
    """Send failed work round again: through the owning app's hook when the work has a
    row to reset (a failed generation job), else as the same message on its queue."""
    with transaction.atomic():
        claimed = DeadLetter.objects.filter(pk=dead_letter.pk, requeued_at__isnull=True).update(
            requeued_at=timezone.now(), requeued_by=by[:150]
        )
        if not claimed:
            raise StateConflict("This dead letter was already requeued.")
        hook = REQUEUE_HOOKS.get(dead_letter.actor_name)
        if hook is not None:
            hook(*dead_letter.args, **dead_letter.kwargs)
            return
        broker = dramatiq.get_broker()
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=dead_letter.queue_name,
            actor_name=dead_letter.actor_name,
            args=tuple(dead_letter.args),
            kwargs=dict(dead_letter.kwargs),
            options={},
        )
        transaction.on_commit(lambda: broker.enqueue(message))
