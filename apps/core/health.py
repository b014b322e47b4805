"""What the operators watch: live workers, queue depths, jobs by state, dead letters."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.utils import timezone

from apps.core.models import DeadLetter, WorkerHeartbeat
from apps.core.queue import queue_depths

# A worker is alive if it reported within three heartbeat intervals.
ALIVE_WITHIN = timedelta(seconds=45)


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
    from apps.generation.selectors import job_counts_by_state

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
        "jobs": job_counts_by_state(),
        "dead_letters": DeadLetter.objects.filter(requeued_at__isnull=True).count(),
    }


def prometheus_text() -> str:
    """The same figures in Prometheus' text exposition format."""
    from apps.generation.selectors import job_durations_since

    status = worker_status()
    lines = [
        "# HELP headshots_jobs Generation jobs by state.",
        "# TYPE headshots_jobs gauge",
        *(f'headshots_jobs{{state="{state}"}} {n}' for state, n in sorted(status["jobs"].items())),
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
    durations = sorted(job_durations_since(timezone.now() - timedelta(hours=24)))
    lines += [
        "# HELP headshots_job_duration_seconds Start to end of the jobs that succeeded in the last 24 h.",
        "# TYPE headshots_job_duration_seconds summary",
    ]
    if durations:
        for q in (0.5, 0.9, 0.99):  # nearest rank: defined for a single job too
            value = durations[max(0, math.ceil(q * len(durations)) - 1)]
            lines.append(f'headshots_job_duration_seconds{{quantile="{q}"}} {value:.3f}')
    lines += [
        f"headshots_job_duration_seconds_sum {sum(durations):.3f}",
        f"headshots_job_duration_seconds_count {len(durations)}",
    ]
    return "\n".join(lines) + "\n"
