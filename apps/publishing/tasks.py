from __future__ import annotations

import dramatiq


@dramatiq.actor(actor_name="publication_run", queue_name="cpu", max_retries=5, min_backoff=2000)
def publication_run_task(publication_id: int) -> None:
    from apps.publishing.services import publication_run

    publication_run(publication_id=publication_id)
