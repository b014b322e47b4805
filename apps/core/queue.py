"""Enqueueing jobs, and the in-process worker of the one-machine default.

Actors take ids and are sent only after the surrounding transaction commits,
so a worker never sees a row that is not there yet. With no REDIS_URL or
RABBITMQ_URL, messages go to a stub broker consumed by a worker thread that
runs inside this process.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import dramatiq
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

_worker_lock = threading.Lock()
_worker: dramatiq.Worker | None = None


def enqueue(actor: dramatiq.Actor | str, *args: Any) -> None:
    """Send a message once the surrounding transaction commits. ``actor`` may be the
    actor's name: services name the work they enqueue, so they never import the tasks
    that call them (every app's tasks are declared when the app is ready)."""

    def send() -> None:
        target = dramatiq.get_broker().get_actor(actor) if isinstance(actor, str) else actor
        target.send(*args)
        if settings.HEADSHOTS_QUEUE_MODE == "inprocess" and getattr(
            settings, "HEADSHOTS_INPROCESS_AUTOSTART", True
        ):
            inprocess_worker()

    transaction.on_commit(send)


def inprocess_worker() -> dramatiq.Worker:
    """Start (once per process) the worker that consumes the stub broker."""
    global _worker
    with _worker_lock:
        if _worker is None:
            broker = dramatiq.get_broker()
            _worker = dramatiq.Worker(broker, worker_threads=settings.HEADSHOTS_INPROCESS_THREADS)
            _worker.start()
            logger.info(
                "in-process worker started with %d thread(s)", settings.HEADSHOTS_INPROCESS_THREADS
            )
        return _worker


def wait_until_idle(timeout_s: float = 900.0) -> None:
    """Block until every queue of the in-process broker is drained (used by the demo)."""
    broker = dramatiq.get_broker()
    worker = inprocess_worker()
    deadline_ms = int(timeout_s * 1000)
    # Jobs enqueue further jobs; join until a full pass finds every queue empty.
    while True:
        for queue_name in list(broker.queues):
            broker.join(queue_name, timeout=deadline_ms)
        worker.join()
        if all(broker.queues[name].unfinished_tasks == 0 for name in broker.queues):
            return


def queue_depths() -> dict[str, int]:
    """Messages waiting per queue (delayed retries included), whatever the broker."""
    broker: Any = dramatiq.get_broker()  # each kind of broker counts in its own way
    queues = sorted(q for q in broker.get_declared_queues() if not q.endswith((".DQ", ".XQ")))
    depths: dict[str, int] = {}
    for name in queues:
        if settings.HEADSHOTS_QUEUE_MODE == "redis":
            client, prefix = broker.client, f"{broker.namespace}:{name}"
            depths[name] = int(client.llen(prefix)) + int(client.llen(f"{prefix}.DQ"))
        elif settings.HEADSHOTS_QUEUE_MODE == "rabbitmq":
            ready, delayed, _ = broker.get_queue_message_counts(name)
            depths[name] = int(ready) + int(delayed)
        else:
            stub_queues = broker.queues
            depths[name] = sum(
                stub_queues[q].qsize() for q in (name, f"{name}.DQ") if q in stub_queues
            )
    return depths


# Actors whose failed work needs more than the message sent again (a job row to reset):
# the owning app registers how to requeue it.
REQUEUE_HOOKS: dict[str, Any] = {}


def register_requeue(actor_name: str, hook: Any) -> None:
    REQUEUE_HOOKS[actor_name] = hook
