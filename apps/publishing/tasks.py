from __future__ import annotations

import dramatiq

from apps.publishing.cloud_sync import cloud_sync_run
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
    """Every directory target of the company: LDAP / Active Directory, then Microsoft
    Entra ID and Google Workspace. A target out of reach does not keep the others from
    running; the task is retried afterwards (the others then have nothing to send)."""
    unreachable: Exception | None = None
    try:
        directory_sync_run(organization_id=organization_id)
    except Exception as exc:  # retried below, once the other targets ran
        unreachable = exc
    cloud_sync_run(organization_id=organization_id)
    if unreachable is not None:
        raise unreachable
