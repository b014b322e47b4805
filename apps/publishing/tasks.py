from __future__ import annotations

import dramatiq

from apps.publishing.directory_sync import directory_sync_run
from apps.publishing.services import publication_run


@dramatiq.actor(actor_name="publication_run", queue_name="cpu", max_retries=5, min_backoff=2000)
def publication_run_task(publication_id: int) -> None:
    publication_run(publication_id=publication_id)


@dramatiq.actor(
    actor_name="directory_sync",
    queue_name="cpu",
    max_retries=5,
    min_backoff=30_000,
    time_limit=1_800_000,
)
def directory_sync_task(organization_id: int) -> None:
    directory_sync_run(organization_id=organization_id)
