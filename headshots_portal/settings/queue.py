"""Dramatiq broker selection.

REDIS_URL or RABBITMQ_URL picks a real broker (separate worker processes,
``manage.py rundramatiq``). Without either, the one-machine default is a stub
broker consumed by a worker that runs inside the same process (apps/core/queue.py).
"""

from __future__ import annotations

from typing import Any

from headshots_portal.env import ConfigurationError, env_int, env_str

QUEUE_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    # Before Retries: "after" hooks run in reverse order, so this one sees the message
    # after Retries has marked it failed.
    "apps.core.workers.DeadLetters",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
    "apps.core.workers.WorkerHealth",
    "apps.core.workers.Watchdog",
]


def dramatiq_settings() -> dict[str, Any]:
    redis_url = env_str("REDIS_URL", "")
    rabbitmq_url = env_str("RABBITMQ_URL", "")
    if redis_url and rabbitmq_url:
        raise ConfigurationError(
            "Set REDIS_URL or RABBITMQ_URL, not both: a worker consumes one broker."
        )
    if redis_url:
        broker: dict[str, Any] = {
            "BROKER": "dramatiq.brokers.redis.RedisBroker",
            "OPTIONS": {
                "url": redis_url,
                # A worker that stops beating for this long is dead: another worker puts
                # its unacknowledged messages back during maintenance, which runs on a
                # broker command with this chance in a million.
                "heartbeat_timeout": env_int(
                    "HEADSHOTS_REDIS_HEARTBEAT_TIMEOUT_MS", 60_000, minimum=1000
                ),
                "maintenance_chance": env_int(
                    "HEADSHOTS_REDIS_MAINTENANCE_CHANCE", 1000, minimum=1
                ),
            },
        }
        mode = "redis"
    elif rabbitmq_url:
        broker = {
            "BROKER": "dramatiq.brokers.rabbitmq.RabbitmqBroker",
            "OPTIONS": {"url": rabbitmq_url},
        }
        mode = "rabbitmq"
    else:
        broker = {"BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}}
        mode = "inprocess"
    broker["MIDDLEWARE"] = list(QUEUE_MIDDLEWARE)
    return {
        "DRAMATIQ_BROKER": broker,
        "DRAMATIQ_TASKS_DATABASE": "default",
        "HEADSHOTS_QUEUE_MODE": mode,
    }
