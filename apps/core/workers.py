"""Dramatiq middleware for the portal's workers.

- ``WorkerHealth``: each worker process keeps a heartbeat row (queues, threads, messages
  in flight, processed, failed, the models it warmed) that the health endpoint and the
  admin read; at boot a real worker loads the models its queues need, once, and gives
  them back at shutdown.
- ``DeadLetters``: a message that failed for good is recorded with its error, for the
  admin's dead-letter list and its requeue action.
- ``Watchdog``: work that the time limit cannot interrupt (a native call that never
  returns) makes the process exit, so its supervisor starts a fresh one and the
  message is delivered again; the job's lease lets the next worker take it over.

The in-process worker of the one-machine default runs inside the web process: there
it neither preloads models nor exits.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import dramatiq
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone
from dramatiq.broker import MessageProxy

logger = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT_MS = 600_000  # dramatiq's TimeLimit default


def _real_worker() -> bool:
    return settings.HEADSHOTS_QUEUE_MODE != "inprocess"


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class WorkerHealth(dramatiq.Middleware):
    def __init__(self, *, interval_s: float = 15.0) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._counts = {"in_flight": 0, "processed": 0, "failed": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loaded: list[str] = []

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        if _real_worker():
            self._loaded = self._warm(queues)
        self._stop.clear()
        started = timezone.now()
        self._beat(queues, worker.worker_threads, started)
        self._thread = threading.Thread(
            target=self._run,
            args=(queues, worker.worker_threads, started),
            name="worker-heartbeat",
            daemon=True,
        )
        self._thread.start()

    def _warm(self, queues: list[str]) -> list[str]:
        from apps.core.pipeline_access import get_pipeline
        from pipeline.errors import PipelineError

        try:
            loaded = get_pipeline().warm(generation="gpu" in queues)
        except PipelineError as exc:
            # The jobs that need the model fail with the same message; the worker stays up
            # for the rest of its queues.
            logger.error("models not loaded at boot: %s", exc.message)
            return []
        logger.info("models loaded at boot: %s", ", ".join(loaded))
        return loaded

    def _run(self, queues: list[str], threads: int, started: Any) -> None:
        try:
            while not self._stop.wait(self.interval_s):
                self._beat(queues, threads, started)
        finally:
            connection.close()

    def _beat(self, queues: list[str], threads: int, started: Any) -> None:
        from apps.core.models import WorkerHeartbeat

        with self._lock:
            counts = dict(self._counts)
        try:
            WorkerHeartbeat.objects.update_or_create(
                name=process_name(),
                defaults={
                    "queues": queues,
                    "threads": threads,
                    "started_at": started,
                    "seen_at": timezone.now(),
                    "loaded": self._loaded,
                    **counts,
                },
            )
        except DatabaseError as exc:
            logger.warning("worker heartbeat not written: %s", exc)

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        with self._lock:
            self._counts["in_flight"] += 1

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self._lock:
            self._counts["in_flight"] -= 1
            self._counts["processed"] += 1
            if exception is not None:
                self._counts["failed"] += 1

    after_skip_message = after_process_message

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from apps.core.models import WorkerHeartbeat

        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if _real_worker():
            from apps.core.pipeline_access import release_pipeline

            release_pipeline()
        try:
            WorkerHeartbeat.objects.filter(name=process_name()).delete()
        except DatabaseError as exc:
            logger.warning("worker heartbeat not removed: %s", exc)


class DeadLetters(dramatiq.Middleware):
    """Listed before Retries (so its "after" hook runs after Retries', which marks a
    message failed when it gives up on it)."""

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        if exception is None or not getattr(message, "failed", False):
            return
        from apps.core.models import DeadLetter

        close_old_connections()
        try:
            DeadLetter.objects.update_or_create(
                message_id=message.message_id,
                defaults={
                    "queue_name": message.queue_name,
                    "actor_name": message.actor_name,
                    "args": list(message.args),
                    "kwargs": dict(message.kwargs),
                    "error": f"{type(exception).__name__}: {exception}"[:4000],
                    "retries": int(message.options.get("retries", 0)),
                    "failed_at": timezone.now(),
                    "requeued_at": None,
                },
            )
        except DatabaseError as exc:
            logger.error("dead letter %s not recorded: %s", message.message_id, exc)


class Watchdog(dramatiq.Middleware):
    """Ends the process when a message overruns its time limit by ``grace_s``: the time
    limit raises an exception in the worker thread, which a native call never sees."""

    def __init__(
        self,
        *,
        grace_s: float = 120.0,
        check_every_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_overrun: Callable[[str], None] | None = None,
    ) -> None:
        self.grace_s = grace_s
        self.check_every_s = check_every_s
        self.clock = clock
        self.on_overrun = on_overrun or self._exit
        self._running: dict[int, tuple[str, str, float, float]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def before_process_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        actor = broker.get_actor(message.actor_name)
        limit_ms = message.options.get("time_limit") or actor.options.get(
            "time_limit", DEFAULT_TIME_LIMIT_MS
        )
        with self._lock:
            self._running[threading.get_ident()] = (
                message.message_id,
                message.actor_name,
                limit_ms / 1000.0,
                self.clock(),
            )

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        with self._lock:
            self._running.pop(threading.get_ident(), None)

    after_skip_message = after_process_message

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        if not _real_worker():
            return
        self._stop.clear()
        threading.Thread(target=self._watch, name="watchdog", daemon=True).start()

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self.check_every_s):
            self.check()

    def check(self) -> list[str]:
        """The messages that overran; each one is reported to ``on_overrun``."""
        now = self.clock()
        with self._lock:
            overrun = [
                f"{actor} (message {message_id}) has run {now - started:.0f} s, over its "
                f"{limit:.0f} s limit by more than {self.grace_s:.0f} s"
                for message_id, actor, limit, started in self._running.values()
                if now - started > limit + self.grace_s
            ]
        for description in overrun:
            self.on_overrun(description)
        return overrun

    @staticmethod
    def _exit(description: str) -> None:
        logger.critical("watchdog: %s; exiting so that a fresh process takes over", description)
        logging.shutdown()
        os._exit(70)
