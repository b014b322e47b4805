"""Publishing approved headshots to a company's Microsoft Entra ID / Microsoft 365 and
Google Workspace (worker side, and HR's dry run and "test connection"). The same rules as
the LDAP sync: only approved headshots of active people, only changed photos written,
leavers' photos removed, every person's result kept on their publication, one failure
never stopping the batch. The HTTP work is in cloud_clients.py and photo_push.py."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.errors import NotFound, ValidationFailed
from apps.core.ratelimit import rate_limit
from apps.generation.models import Headshot
from apps.generation.selectors import headshots_approved_latest
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization
from apps.organizations.tenant_secrets import tenant_secret
from apps.publishing.cloud_clients import (
    Endpoints,
    GoogleClient,
    GoogleSettings,
    GraphClient,
    GraphSettings,
    PhotoClient,
    TargetError,
    photo_digest,
)
from apps.publishing.directory_sync import sync_recorded
from apps.publishing.images import headshot_target_jpeg
from apps.publishing.models import CloudDirectory, CloudKind, Publication, PublicationStatus
from apps.publishing.photo_push import Push, PushOutcome, push_photos
from apps.publishing.selectors import published_leavers
from apps.publishing.services import published_notify

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhotoSpec:
    """Each target's own variant of the approved headshot."""

    side: int
    head_fill: float  # the head's share of the square's side
    max_bytes: int
    version: str  # changes when the variant does, so every photo is sent again


PHOTO_SPECS = {
    # Exchange serves up to 648 x 648; Teams and Outlook show it in a circle
    CloudKind.GRAPH: PhotoSpec(side=648, head_fill=0.5, max_bytes=4 * 1024 * 1024, version="g1"),
    # Google shows 96 x 96 in a small circle: the face fills more of it
    CloudKind.GOOGLE: PhotoSpec(side=256, head_fill=0.6, max_bytes=512 * 1024, version="w1"),
}
TESTS_PER_WINDOW = 10
TEST_WINDOW_S = 600


class CloudUnreachable(Exception):
    """The service could not be reached for everyone: the task tries again later."""


def endpoints() -> Endpoints:
    return Endpoints(
        microsoft_login=settings.HEADSHOTS_MICROSOFT_LOGIN_URL,
        graph=settings.HEADSHOTS_GRAPH_URL,
        google_token=settings.HEADSHOTS_GOOGLE_TOKEN_URL,
        google_directory=settings.HEADSHOTS_GOOGLE_DIRECTORY_URL,
        verify=settings.HEADSHOTS_DIRECTORY_CA_BUNDLE or True,
    )


def cloud_client(directory: CloudDirectory) -> PhotoClient:
    """The target's client, with the credential from the company's own sources only."""
    secret = tenant_secret(
        kind=directory.kind, organization=directory.organization, sealed=directory.credential_sealed
    )
    if directory.kind == CloudKind.GOOGLE:
        return GoogleClient(
            GoogleSettings(service_account=secret, admin_email=directory.admin_email), endpoints()
        )
    certificate = "BEGIN" in secret and "PRIVATE KEY" in secret
    return GraphClient(
        GraphSettings(
            tenant_id=directory.tenant_id,
            client_id=directory.client_id,
            client_secret="" if certificate else secret,
            private_key=secret if certificate else "",
            certificate=directory.certificate,
            match_by=directory.match_by,
        ),
        endpoints(),
    )


def cloud_directory(organization: Organization, kind: str) -> CloudDirectory:
    directory = CloudDirectory.objects.filter(organization=organization, kind=kind).first()
    if directory is None:
        raise NotFound(f"No {CloudKind(kind).label} is configured for this company.")
    return directory


def cloud_connection_test(*, organization: Organization, kind: str) -> str:
    """The settings page's "test connection" button."""
    rate_limit(
        scope="cloud-test",
        key=f"{organization.pk}:{kind}",
        limit=TESTS_PER_WINDOW,
        window_s=TEST_WINDOW_S,
        message="The connection was tested many times in a row. Wait a few minutes.",
    )
    try:
        return cloud_client(cloud_directory(organization, kind)).test()
    except TargetError as exc:
        raise ValidationFailed(_words(exc)) from exc


def _words(exc: TargetError) -> str:
    if exc.kind == "unavailable":
        logger.warning("cloud directory unreachable: %s", exc)
        return (
            "The service could not be reached. Try again later; the portal's log has the details."
        )
    if exc.kind == "permission":
        return (
            f"{exc}. The application needs the User.ReadWrite.All application permission "
            "(Microsoft) or domain-wide delegation of the admin.directory.user scope (Google), "
            "granted by an administrator: see the steps on this page."
        )
    return f"{exc}."


@dataclass
class _Person:
    employee: EmployeeProfile
    headshot: Headshot | None
    publication: Publication | None
    source: str = ""


def _people(
    organization: Organization, directory: CloudDirectory
) -> tuple[list[Push], dict[str, _Person]]:
    """Active people with an approved headshot get it; everyone else whose photo is in
    the target loses it. A photo is made only where its source changed."""
    spec = PHOTO_SPECS[CloudKind(directory.kind)]
    publications = {
        p.employee_id: p
        for p in Publication.objects.filter(organization=organization, target=directory.target)
    }
    people: dict[str, _Person] = {}
    pushes = []
    for headshot in headshots_approved_latest(
        organization=organization, light=True, employee__status=EmployeeStatus.ACTIVE
    ):
        employee = headshot.employee
        value = directory.match_value(employee)
        if not value:
            continue
        publication = publications.get(employee.pk)
        source = f"{headshot.pk}:{spec.version}"
        sent = (
            publication.content_hash
            if publication and publication.status == PublicationStatus.SUCCEEDED
            else ""
        )
        ref = publication.external_id if publication else ""
        people[str(employee.pk)] = _Person(employee, headshot, publication, source)
        if sent and publication is not None and publication.source == source:
            pushes.append(Push(str(employee.pk), value, b"", sent, sent, ref))
            continue
        photo = headshot_target_jpeg(
            headshot, side=spec.side, head_fill=spec.head_fill, max_bytes=spec.max_bytes
        )
        pushes.append(Push(str(employee.pk), value, photo, photo_digest(photo), sent, ref))
    for publication in published_leavers(publications, people):
        employee_id = publication.employee_id
        employee = publication.employee
        people[str(employee_id)] = _Person(employee, None, publication)
        pushes.append(
            Push(
                str(employee_id),
                directory.match_value(employee) or employee.email,
                None,
                sent_sha256=publication.content_hash,
                ref=publication.external_id,
            )
        )
    return pushes, people


def cloud_sync(
    *,
    organization: Organization,
    kind: str,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Dry run: what would change. Real run: send the changed photos, remove leavers',
    record every person's publication, and report."""
    directory = cloud_directory(organization, kind)
    pushes, people = _people(organization, directory)
    try:
        outcomes = push_photos(
            cloud_client(directory),
            pushes,
            dry_run=dry_run,
            concurrency=settings.HEADSHOTS_CLOUD_CONCURRENCY,
            progress=progress,
        )
    except TargetError as exc:
        if not dry_run:
            _stopped(directory, exc)
        raise ValidationFailed(_words(exc)) from exc
    report = {
        "dry_run": dry_run,
        "counts": dict(Counter(o.action for o in outcomes)),
        "entries": [
            {
                "employee": o.key,
                "name": people[o.key].employee.full_name,
                "match": o.match_value,
                "action": o.action,
                "error": o.error,
            }
            for o in outcomes
        ],
    }
    if not dry_run:
        _record(directory, outcomes, people, report)
        if any(o.retry for o in outcomes):
            raise CloudUnreachable("the service stopped answering; the rest is retried later")
    return report


def _stopped(directory: CloudDirectory, exc: TargetError) -> None:
    now = timezone.now()
    directory.last_sync_at = now
    directory.last_report = {"error": _words(exc), "at": now.isoformat()}
    directory.save(update_fields=["last_sync_at", "last_report", "updated_at"])


@transaction.atomic
def _record(
    directory: CloudDirectory,
    outcomes: list[PushOutcome],
    people: dict[str, _Person],
    report: dict[str, Any],
) -> None:
    now = timezone.now()
    organization = directory.organization
    for outcome in outcomes:
        person = people[outcome.key]
        publication = person.publication
        if publication is None:
            if person.headshot is None or outcome.action in {"unchanged", "remove"}:
                continue
            publication = Publication(
                organization=organization,
                employee=person.employee,
                headshot=person.headshot,
                target=directory.target,
            )
        before = publication.synced()
        if person.headshot is not None:
            publication.headshot = person.headshot
        publication.external_id = outcome.ref or publication.external_id
        if outcome.done or outcome.action in {"not_found", "failed"}:
            publication.attempts += 1
        if outcome.action in {"write", "unchanged"} and person.headshot is not None:
            publication.status = PublicationStatus.SUCCEEDED
            publication.content_hash = outcome.photo_sha256
            publication.source = person.source
            publication.last_error = ""
            if outcome.done:
                publication.published_at = now
        elif outcome.action == "remove":
            publication.status = PublicationStatus.WITHDRAWN
            publication.content_hash = publication.source = publication.last_error = ""
        elif outcome.action == "not_found":
            publication.status = PublicationStatus.FAILED
            publication.last_error = (
                f"Nobody in {directory.get_kind_display()} is {outcome.match_value}."
            )
        elif outcome.action == "failed":
            publication.status = PublicationStatus.FAILED
            publication.last_error = outcome.error
        else:
            continue
        if publication.pk is None or publication.synced() != before:
            publication.save()  # an unchanged person's record is left as it is: no write
        if outcome.done and outcome.action == "write":
            published_notify(publication, outcome.ref)
    sync_recorded(
        organization=organization,
        target=directory.target,
        directory=directory,
        counts=report["counts"],
    )


def cloud_sync_run(*, organization_id: int) -> None:
    """The worker's sync of every cloud target a company turned on."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return
    unreachable = []
    for directory in CloudDirectory.objects.filter(organization=organization, enabled=True):
        try:
            cloud_sync(organization=organization, kind=directory.kind, dry_run=False)
        except ValidationFailed as exc:  # the company's setup: recorded, not retried
            logger.warning("%s sync of %s stopped: %s", directory.kind, organization.slug, exc)
        except CloudUnreachable as exc:
            unreachable.append(str(exc))
    if unreachable:
        raise CloudUnreachable("; ".join(unreachable))
