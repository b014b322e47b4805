"""Dramatiq broker selection.

REDIS_URL or RABBITMQ_URL picks a real broker (separate worker processes,
``manage.py rundramatiq``). Without either, the one-machine default is a stub
broker consumed by a worker that runs inside the same process (apps/core/queue.py).
"""

from __future__ import annotations

from typing import Any

from headshots_portal.env import ConfigurationError, env_str

QUEUE_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Retries",
    "django_dramatiq.middleware.DbConnectionsMiddleware",
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
            "OPTIONS": {"url": redis_url},
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
