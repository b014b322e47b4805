from __future__ import annotations

import dramatiq

from apps.webhooks.services import MAX_ATTEMPTS, webhook_deliver


@dramatiq.actor(
    actor_name="webhook_deliver",
    queue_name="cpu",
    max_retries=MAX_ATTEMPTS - 1,
    min_backoff=10_000,
    max_backoff=3_600_000,
    time_limit=60_000,
)
def webhook_deliver_task(delivery_id: int) -> None:
    webhook_deliver(delivery_id=delivery_id)
