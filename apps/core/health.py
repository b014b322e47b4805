"""What the operators watch: live workers, queue depths, dead letters, and what the apps
report of their own work (``register_figures``: the generation app its jobs by state and
their durations)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.core.models import DeadLetter, WorkerHeartbeat
from apps.core.queue import queue_depths

# A worker is alive if it reported within three heartbeat intervals.
ALIVE_WITHIN = timedelta(seconds=45)


@dataclass(frozen=True)
class Figures:
    status: Callable[[], Any]  # for /healthz/workers, under the figures' name
    prometheus: Callable[[], list[str]]  # lines of the text exposition format


_FIGURES: dict[str, Figures] = {}


def register_figures(
    name: str, *, status: Callable[[], Any], prometheus: Callable[[], list[str]]
) -> None:
    _FIGURES[name] = Figures(status=status, prometheus=prometheus)


def dependencies() -> dict[str, str]:
    """ok, unavailable or in-process (no shared service configured), for /healthz."""
    from django.core.cache import cache
    from django.db import connection

    states = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        states["database"] = "ok"
    except Exception:  # noqa: BLE001 - a health check reports, it does not raise
        states["database"] = "unavailable"
    if hasattr(cache, "ping"):
        states["cache"] = "ok" if cache.ping() else "unavailable"
    else:
        states["cache"] = "in-process"
    states["broker"] = _broker_state()
    return states


def _broker_state() -> str:
    from django.conf import settings

    if settings.HEADSHOTS_QUEUE_MODE == "inprocess":
        return "in-process"
    try:
        queue_depths()
    except Exception:  # noqa: BLE001 - any failure to reach the broker
        return "unavailable"
    return "ok"


def worker_status() -> dict[str, Any]:
    now = timezone.now()
    workers = []
    for beat in WorkerHeartbeat.objects.order_by("name"):
        workers.append(
            {
                "name": beat.name,
                "queues": beat.queues,
                "threads": beat.threads,
                "alive": now - beat.seen_at <= ALIVE_WITHIN,
                "seen_s_ago": round((now - beat.seen_at).total_seconds(), 1),
                "in_flight": beat.in_flight,
                "processed": beat.processed,
                "failed": beat.failed,
                "models": beat.loaded,
            }
        )
    depths = queue_depths()
    served = {queue for w in workers if w["alive"] for queue in w["queues"]}
    # Work waits in a queue that no live worker consumes: somebody must start one.
    unserved = sorted(q for q, depth in depths.items() if depth and q not in served)
    return {
        "status": "degraded" if unserved else "ok",
        "unserved_queues": unserved,
        "queues": depths,
        "workers": workers,
        **{name: figures.status() for name, figures in _FIGURES.items()},
        "dead_letters": DeadLetter.objects.filter(requeued_at__isnull=True).count(),
    }


def prometheus_text() -> str:
    """The same figures in Prometheus' text exposition format."""
    status = worker_status()
    lines = [
        "# HELP headshots_queue_depth Messages waiting in each queue, delayed retries included.",
        "# TYPE headshots_queue_depth gauge",
        *(f'headshots_queue_depth{{queue="{q}"}} {n}' for q, n in sorted(status["queues"].items())),
        "# HELP headshots_workers_alive Worker processes that reported within 45 s, by queue.",
        "# TYPE headshots_workers_alive gauge",
    ]
    queues = sorted(set(status["queues"]) | {q for w in status["workers"] for q in w["queues"]})
    for queue in queues:
        alive = sum(1 for w in status["workers"] if w["alive"] and queue in w["queues"])
        lines.append(f'headshots_workers_alive{{queue="{queue}"}} {alive}')
    lines += [
        "# HELP headshots_messages_in_flight Messages being processed by live workers.",
        "# TYPE headshots_messages_in_flight gauge",
        f"headshots_messages_in_flight {sum(w['in_flight'] for w in status['workers'] if w['alive'])}",
        "# HELP headshots_dead_letters Messages that failed for good and were not requeued.",
        "# TYPE headshots_dead_letters gauge",
        f"headshots_dead_letters {status['dead_letters']}",
    ]
    for figures in _FIGURES.values():
        lines += figures.prometheus()
    return "\n".join(lines) + "\n"


def metric_observe(name: str, value: float) -> None:
    """Add one observation to a running total (MetricTotal): one row per name, updated in
    the database so concurrent workers never lose a count."""
    from django.db.models import F

    from apps.core.models import MetricTotal

    add = {"count": F("count") + 1, "total": F("total") + value}
    if MetricTotal.objects.filter(name=name).update(**add):
        return  # every observation but a name's first: one query
    MetricTotal.objects.get_or_create(name=name)
    MetricTotal.objects.filter(name=name).update(**add)


def metric_totals(name: str) -> tuple[int, float]:
    """(count, sum) of a running total; zeros before its first observation."""
    from apps.core.models import MetricTotal

    found = MetricTotal.objects.filter(name=name).values_list("count", "total").first()
    return (int(found[0]), float(found[1])) if found else (0, 0.0)
