"""Publishing approved headshots into a company's LDAP / Active Directory (worker side
and the HR admin's dry run). The LDAP work itself is in ldap_sync.py."""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import NotFound, ValidationFailed, checked_model
from apps.core.ratelimit import rate_limit
from apps.core.text import sentence
from apps.generation.models import Headshot, HeadshotStatus
from apps.generation.selectors import headshots_approved_latest
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization
from apps.organizations.tenant_secrets import seal, tenant_secret
from apps.publishing.images import DIRECTORY_HEAD_FILL, headshot_target_jpeg
from apps.publishing.ldap_sync import (
    AD_THUMBNAIL_MAX_BYTES,
    DirectoryClient,
    DirectoryError,
    DirectorySettings,
    Outcome,
    Wanted,
    sync,
)
from apps.publishing.models import (
    DirectoryConnection,
    Publication,
    PublicationStatus,
    PublicationTarget,
)
from apps.publishing.selectors import published_leavers
from apps.publishing.services import published_notify

logger = logging.getLogger(__name__)


class DirectoryUnreachable(Exception):
    """The sync could not reach every entry: the task tries again later."""


def directory_settings(connection: DirectoryConnection) -> DirectorySettings:
    """The connection as the sync uses it, with the password from the company's own
    sources only (tenant_secrets): the operator's variable for this company, or the one
    HR typed."""
    password = tenant_secret(
        kind="ldap", organization=connection.organization, sealed=connection.bind_password_sealed
    )
    return DirectorySettings(
        uri=connection.uri,
        start_tls=connection.start_tls,
        bind_dn=connection.bind_dn,
        bind_password=password,
        base_dn=connection.base_dn,
        user_filter=connection.user_filter,
        match_attribute=connection.match_attribute,
        photo_attribute=connection.photo_attribute,
    )


# "Test connection" answers are coarse and few: the button must not work as a port
# scanner of the portal's network (open, closed and silent ports answer alike).
TESTS_PER_WINDOW = 10
TEST_WINDOW_S = 600
UNREACHABLE = (
    "The directory could not be reached at this address, or did not answer as an LDAP "
    "directory. Check the address, the port and TLS; the portal's log has the details."
)


def directory_connection_test(*, organization: Organization) -> str:
    """The settings page's "test connection" button."""
    rate_limit(
        scope="directory-test",
        key=str(organization.pk),
        limit=TESTS_PER_WINDOW,
        window_s=TEST_WINDOW_S,
        message="The connection was tested many times in a row. Wait a few minutes.",
    )
    connection = _connection(organization)
    try:
        return DirectoryClient(directory_settings(connection)).test()
    except DirectoryError as exc:
        if exc.kind == "unreachable":
            logger.warning("directory test for %s failed: %s", organization.slug, exc)
            raise ValidationFailed(UNREACHABLE) from exc
        raise ValidationFailed(f"The directory connection failed: {exc}.") from exc


def _connection(organization: Organization) -> DirectoryConnection:
    connection = DirectoryConnection.objects.filter(organization=organization).first()
    if connection is None:
        raise NotFound("No directory is configured for this company.")
    return connection


def directory_photo(headshot: Headshot, connection: DirectoryConnection) -> bytes:
    """The directory's photo of a headshot, face-centred within its size and byte limits:
    the live sync's and the LDIF export's alike."""
    return headshot_target_jpeg(
        headshot,
        side=connection.max_side,
        head_fill=DIRECTORY_HEAD_FILL,
        max_bytes=connection.max_bytes,
    )


def _source(headshot: Headshot, connection: DirectoryConnection) -> str:
    """What a directory photo is made from: the same source, the same photo."""
    return f"{headshot.pk}:{connection.max_side}:{connection.max_bytes}:{DIRECTORY_HEAD_FILL}"


People = dict[str, tuple[EmployeeProfile, Headshot | None, Publication | None]]


def _wanted(
    organization: Organization, connection: DirectoryConnection
) -> tuple[list[Wanted], People]:
    """Active people with an approved headshot get it; everyone else whose photo is in the
    directory loses it (they left, withdrew consent or deleted their data). A photo sent
    before from the same source is known by its hash and made again only if the
    directory's differs."""
    publications = {
        p.employee_id: p
        for p in Publication.objects.filter(
            organization=organization, target=PublicationTarget.DIRECTORY_LDAP
        )
    }
    people: People = {}
    wanted = []
    for headshot in headshots_approved_latest(
        organization=organization, light=True, employee__status=EmployeeStatus.ACTIVE
    ):
        employee = headshot.employee
        value = connection.match_value(employee)
        if not value:
            continue
        publication = publications.get(employee.pk)
        people[str(employee.pk)] = (employee, headshot, publication)
        if (
            publication is not None
            and publication.status == PublicationStatus.SUCCEEDED
            and publication.content_hash
            and publication.source == _source(headshot, connection)
        ):
            wanted.append(
                Wanted(
                    key=str(employee.pk),
                    match_value=value,
                    photo=None,
                    sha256=publication.content_hash,
                    make=functools.partial(directory_photo, headshot, connection),
                )
            )
        else:
            wanted.append(
                Wanted(
                    key=str(employee.pk),
                    match_value=value,
                    photo=directory_photo(headshot, connection),
                )
            )
    for publication in published_leavers(publications, people):
        employee_id = publication.employee_id
        employee = publication.employee
        people[str(employee_id)] = (employee, None, publication)
        wanted.append(
            Wanted(key=str(employee_id), match_value=connection.match_value(employee), photo=None)
        )
    return wanted, people


def directory_sync_run(*, organization_id: int) -> None:
    """The worker's sync of one company (scheduled hourly, or sent when someone's photo
    must leave the directory); nothing when the company has no sync turned on."""
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return
    if not DirectoryConnection.objects.filter(organization=organization, enabled=True).exists():
        logger.info("company %s has no directory sync turned on; nothing to do", organization_id)
        return
    directory_sync(organization=organization, dry_run=False)


def directory_sync(
    *,
    organization: Organization,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Dry run: what would change. Real run: write the changed photos, remove leavers',
    record every person's publication, and report."""
    connection = _connection(organization)
    wanted, people = _wanted(organization, connection)
    try:
        outcomes = sync(
            DirectoryClient(directory_settings(connection)),
            wanted,
            dry_run=dry_run,
            progress=progress,
        )
    except DirectoryError as exc:
        raise DirectoryUnreachable(str(exc)) from exc
    report = {
        "dry_run": dry_run,
        "counts": dict(Counter(o.action for o in outcomes)),
        "entries": [
            {
                "employee": o.key,
                "match": o.match_value,
                "action": o.action,
                "dn": o.dn,
                "error": o.error,
            }
            for o in outcomes
        ],
    }
    if not dry_run:
        _record(organization, connection, outcomes, people, report)
        if any(o.action == "failed" and "stopped answering" in o.error for o in outcomes):
            raise DirectoryUnreachable("the directory stopped answering; the rest is retried later")
    return report


@transaction.atomic
def _record(
    organization: Organization,
    connection: DirectoryConnection,
    outcomes: list[Outcome],
    people: People,
    report: dict[str, Any],
) -> None:
    now = timezone.now()
    for outcome in outcomes:
        employee, headshot, publication = people[outcome.key]
        if publication is None:
            if headshot is None:
                continue
            publication = Publication(
                organization=organization,
                employee=employee,
                headshot=headshot,
                target=PublicationTarget.DIRECTORY_LDAP,
            )
        before = publication.synced()
        if headshot is not None:
            publication.headshot = headshot
        publication.external_id = outcome.dn
        if outcome.done or outcome.action in {"not_found", "failed"}:
            publication.attempts += 1
        if outcome.action in {"write", "unchanged"} and headshot is not None:
            publication.status = PublicationStatus.SUCCEEDED
            publication.content_hash = outcome.photo_sha256
            publication.source = _source(headshot, connection)
            publication.last_error = ""
            if outcome.done:
                publication.published_at = now
        elif outcome.action in {"remove", "unchanged"}:
            publication.status = PublicationStatus.WITHDRAWN
            publication.content_hash = publication.source = publication.last_error = ""
        elif outcome.action == "not_found":
            publication.status = PublicationStatus.FAILED
            publication.last_error = (
                f"No directory entry has {connection.match_attribute}={outcome.match_value}."
            )
        else:
            publication.status = PublicationStatus.FAILED
            publication.last_error = outcome.error
        if publication.pk is None or publication.synced() != before:
            publication.save()  # an unchanged person's record is left as it is: no write
        if outcome.done and outcome.action == "write":
            published_notify(publication, outcome.dn)
    sync_recorded(
        organization=organization,
        target=PublicationTarget.DIRECTORY_LDAP,
        directory=connection,
        counts=report["counts"],
    )


def sync_recorded(
    *, organization: Organization, target: str, directory: Any, counts: dict[str, int]
) -> None:
    """The end of a real sync on any directory target: withdrawn headshots whose photo
    left every directory are deleted, and the run is kept on the target and audited."""
    removed = Publication.objects.filter(
        organization=organization,
        target=target,
        status=PublicationStatus.WITHDRAWN,
        headshot__status=HeadshotStatus.WITHDRAWN,
    )
    headshot_ids = list(removed.values_list("headshot_id", flat=True))
    if headshot_ids:
        removed.delete()
        Headshot.objects.filter(pk__in=headshot_ids, publications__isnull=True).delete()
    now = timezone.now()
    directory.last_sync_at = now
    directory.last_report = {"counts": counts, "at": now.isoformat()}
    directory.save(update_fields=["last_sync_at", "last_report", "updated_at"])
    audit_record(
        organization=organization,
        actor=None,
        action="directory.synced",
        target=directory,
        data={"target": target, **counts},
    )


DIRECTORY_FIELDS = (
    "enabled",
    "uri",
    "start_tls",
    "bind_dn",
    "base_dn",
    "user_filter",
    "match_attribute",
    "match_field",
    "photo_attribute",
    "max_bytes",
    "max_side",
)


# The settings as HR's page names them (its form uses the same words).
DIRECTORY_LABELS = {
    "enabled": "Publish approved headshots to this directory",
    "uri": "Directory address",
    "start_tls": "Use StartTLS (for ldap:// addresses)",
    "bind_dn": "Sign in as (bind DN)",
    "base_dn": "Where people are (base DN)",
    "user_filter": "Which entries are people (filter)",
    "match_attribute": "Directory attribute that identifies a person",
    "match_field": "Matched against the person's",
    "photo_attribute": "Photo attribute",
    "max_bytes": "Largest photo (bytes)",
    "max_side": "Largest photo side (pixels)",
}


@transaction.atomic
def directory_connection_save(
    *,
    organization: Organization,
    actor: Any,
    values: dict[str, Any],
    bind_password: str = "",
    forget_password: bool = False,
) -> DirectoryConnection:
    """Create or change the company's directory settings (HR's settings page). The
    settings are checked as the sync would use them before anything is saved. A typed
    ``bind_password`` replaces the stored one (encrypted, never shown back); empty keeps it."""
    from apps.organizations.models import MANAGER_ROLES
    from apps.organizations.selectors import require_role

    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    unknown = sorted(set(values) - set(DIRECTORY_FIELDS))
    if unknown:
        # In particular no setting names where a secret is read from (tenant_secrets).
        raise ValidationFailed(
            "These directory settings do not exist: " + ", ".join(unknown) + ". The password "
            "is typed in the password field, or set by the platform operator."
        )
    connection = DirectoryConnection.objects.filter(organization=organization).first()
    if connection is None:
        connection = DirectoryConnection(organization=organization)
    for name in DIRECTORY_FIELDS:
        if name in values:
            setattr(connection, name, values[name])
    if bind_password:
        connection.bind_password_sealed = seal(bind_password)
    elif forget_password:
        connection.bind_password_sealed = ""
    if connection.photo_attribute == "thumbnailPhoto":
        connection.max_bytes = min(connection.max_bytes, AD_THUMBNAIL_MAX_BYTES)
    checked_model(connection, DIRECTORY_LABELS, exclude=["organization"])
    problems = DirectorySettings(
        uri=connection.uri,
        bind_dn=connection.bind_dn,
        bind_password="",
        base_dn=connection.base_dn,
        start_tls=connection.start_tls,
        user_filter=connection.user_filter,
        match_attribute=connection.match_attribute,
        photo_attribute=connection.photo_attribute,
    ).problems()
    if problems:
        raise ValidationFailed(sentence("; ".join(problems)) + ".")
    connection.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="directory.settings_saved",
        target=connection,
        data={
            "uri": connection.uri,
            "base_dn": connection.base_dn,
            "password": "changed" if bind_password else ("removed" if forget_password else "kept"),
        },
    )
    return connection
