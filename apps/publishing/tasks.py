from __future__ import annotations

import logging

import dramatiq

logger = logging.getLogger(__name__)


@dramatiq.actor(actor_name="publication_run", queue_name="cpu", max_retries=5, min_backoff=2000)
def publication_run_task(publication_id: int) -> None:
    from apps.publishing.services import publication_run

    publication_run(publication_id=publication_id)


@dramatiq.actor(
    actor_name="directory_sync",
    queue_name="cpu",
    max_retries=5,
    min_backoff=30_000,
    time_limit=1_800_000,
)
def directory_sync_task(organization_id: int) -> None:
    from apps.organizations.models import Organization
    from apps.publishing.directory_sync import directory_sync
    from apps.publishing.models import DirectoryConnection

    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return
    if not DirectoryConnection.objects.filter(organization=organization, enabled=True).exists():
        logger.info("company %s has no directory sync turned on; nothing to do", organization_id)
        return
    directory_sync(organization=organization, dry_run=False)
