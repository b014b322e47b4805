"""Periodic work, sent to the workers from a scheduler that runs beside them
(`python manage.py runscheduler`). Several schedulers may run, for availability: a
unique row per task and time slot (ScheduledRun) makes exactly one of them send each run.
Apps register their periodic tasks in their AppConfig.ready()."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    send: Callable[[], None]  # enqueue the work (it runs on a worker, not here)


SCHEDULE: dict[str, Periodic] = {}


def register(name: str, every: timedelta, send: Callable[[], None]) -> None:
    SCHEDULE[name] = Periodic(name=name, every=every, send=send)


def slot_of(now: datetime, every: timedelta) -> datetime:
    seconds = every.total_seconds()
    start = int(now.timestamp() // seconds * seconds)
    return datetime.fromtimestamp(start, tz=now.tzinfo)


def tick(*, scheduler: str, now: datetime | None = None) -> list[str]:
    """Send every task whose current slot no scheduler has sent yet; the names sent."""
    from apps.core.models import ScheduledRun

    now = now or timezone.now()
    sent = []
    for task in SCHEDULE.values():
        slot = slot_of(now, task.every)
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(
                    task=task.name, slot=slot, scheduler=scheduler, sent_at=now
                )
                task.send()
        except IntegrityError:
            continue  # another scheduler has this slot
        sent.append(task.name)
        logger.info("scheduler %s sent %s for %s", scheduler, task.name, slot.isoformat())
    ScheduledRun.objects.filter(slot__lt=now - timedelta(days=7)).delete()
    return sent


def run_forever(
    *, scheduler: str, poll_s: float = 5.0, stop: Callable[[], bool] = lambda: False
) -> None:
    from django.db import DatabaseError, close_old_connections

    while not stop():
        close_old_connections()
        try:
            tick(scheduler=scheduler)
        except DatabaseError as exc:  # the database restarting: try again at the next poll
            logger.warning("scheduler tick failed: %s", exc)
        time.sleep(poll_s)
