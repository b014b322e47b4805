"""Publishing approved headshots into a company's LDAP / Active Directory (worker side
and the HR admin's dry run). The LDAP work itself is in ldap_sync.py."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import NotFound, ValidationFailed
from apps.core.storage import private_read
from apps.generation.models import Headshot
from apps.generation.selectors import headshots_approved_latest
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization
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
    MatchField,
    Publication,
    PublicationStatus,
    PublicationTarget,
)
from apps.publishing.services import published_notify

logger = logging.getLogger(__name__)


class DirectoryUnreachable(Exception):
    """The sync could not reach every entry: the task tries again later."""


def directory_settings(connection: DirectoryConnection) -> DirectorySettings:
    from headshots_portal.env import ConfigurationError, env_str

    try:
        password = env_str(connection.bind_secret_env)
    except ConfigurationError as exc:
        raise ValidationFailed(
            f"The directory password is read from the environment variable "
            f"{connection.bind_secret_env} (or {connection.bind_secret_env}_FILE), which is not set."
        ) from exc
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


def directory_connection_test(*, organization: Organization) -> str:
    """The settings page's "test connection" button."""
    connection = _connection(organization)
    try:
        return DirectoryClient(directory_settings(connection)).test()
    except DirectoryError as exc:
        raise ValidationFailed(f"The directory connection failed: {exc}") from exc


def _connection(organization: Organization) -> DirectoryConnection:
    connection = DirectoryConnection.objects.filter(organization=organization).first()
    if connection is None:
        raise NotFound("No directory is configured for this company.")
    return connection


def _photo(headshot: Headshot, connection: DirectoryConnection) -> bytes:
    from pipeline.imaging import decode_image, fit_jpeg

    pixels = decode_image(
        private_read(headshot.image.name), max_bytes=50_000_000, max_pixels=50_000_000
    ).pixels
    data, _, _ = fit_jpeg(pixels, max_bytes=connection.max_bytes, max_side=connection.max_side)
    return data


def _match_value(employee: EmployeeProfile, connection: DirectoryConnection) -> str:
    """What identifies the person in the directory: their e-mail or directory identifier."""
    return employee.email if connection.match_field == MatchField.EMAIL else employee.directory_uid


def _wanted(
    organization: Organization, connection: DirectoryConnection
) -> tuple[list[Wanted], dict[str, tuple[EmployeeProfile, Headshot | None]]]:
    """Active people with an approved headshot get it; people who left lose theirs."""
    people: dict[str, tuple[EmployeeProfile, Headshot | None]] = {}
    wanted = []
    for headshot in headshots_approved_latest(
        organization=organization, employee__status=EmployeeStatus.ACTIVE
    ):
        employee = headshot.employee
        value = _match_value(employee, connection)
        if value:
            people[str(employee.pk)] = (employee, headshot)
            wanted.append(
                Wanted(key=str(employee.pk), match_value=value, photo=_photo(headshot, connection))
            )
    leavers = Publication.objects.filter(
        organization=organization,
        target=PublicationTarget.DIRECTORY_LDAP,
        status=PublicationStatus.SUCCEEDED,
        employee__status=EmployeeStatus.LEFT,
    ).select_related("employee")
    for publication in leavers:
        employee = publication.employee
        value = _match_value(employee, connection)
        people[str(employee.pk)] = (employee, None)
        wanted.append(Wanted(key=str(employee.pk), match_value=value, photo=None))
    return wanted, people


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
    people: dict[str, tuple[EmployeeProfile, Headshot | None]],
    report: dict[str, Any],
) -> None:
    now = timezone.now()
    for outcome in outcomes:
        employee, headshot = people[outcome.key]
        publication = Publication.objects.filter(
            employee=employee, target=PublicationTarget.DIRECTORY_LDAP
        ).first()
        if publication is None:
            if headshot is None:
                continue
            publication = Publication(
                organization=organization,
                employee=employee,
                headshot=headshot,
                target=PublicationTarget.DIRECTORY_LDAP,
            )
        if headshot is not None:
            publication.headshot = headshot
        publication.external_id = outcome.dn
        publication.attempts += 1
        if outcome.action in {"write", "unchanged"} and headshot is not None:
            publication.status = PublicationStatus.SUCCEEDED
            publication.content_hash = outcome.photo_sha256
            publication.last_error = ""
            if outcome.done:
                publication.published_at = now
        elif outcome.action in {"remove", "unchanged"}:
            publication.status = PublicationStatus.WITHDRAWN
            publication.content_hash = ""
            publication.last_error = ""
        elif outcome.action == "not_found":
            publication.status = PublicationStatus.FAILED
            publication.last_error = (
                f"No directory entry has {connection.match_attribute}={outcome.match_value}."
            )
        else:
            publication.status = PublicationStatus.FAILED
            publication.last_error = outcome.error
        publication.save()
        if outcome.done and outcome.action == "write":
            published_notify(publication, outcome.dn)
    connection.last_sync_at = now
    connection.last_report = {"counts": report["counts"], "at": now.isoformat()}
    connection.save(update_fields=["last_sync_at", "last_report", "updated_at"])
    audit_record(
        organization=organization,
        actor=None,
        action="directory.synced",
        target=connection,
        data=report["counts"],
    )


DIRECTORY_FIELDS = (
    "enabled",
    "uri",
    "start_tls",
    "bind_dn",
    "bind_secret_env",
    "base_dn",
    "user_filter",
    "match_attribute",
    "match_field",
    "photo_attribute",
    "max_bytes",
    "max_side",
)


@transaction.atomic
def directory_connection_save(
    *, organization: Organization, actor: Any, values: dict[str, Any]
) -> DirectoryConnection:
    """Create or change the company's directory settings (HR's settings page). The
    settings are checked as the sync would use them before anything is saved."""
    from django.core.exceptions import ValidationError

    from apps.organizations.models import MANAGER_ROLES
    from apps.organizations.selectors import require_role

    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    connection = DirectoryConnection.objects.filter(organization=organization).first()
    if connection is None:
        connection = DirectoryConnection(organization=organization)
    for name in DIRECTORY_FIELDS:
        if name in values:
            setattr(connection, name, values[name])
    if connection.photo_attribute == "thumbnailPhoto":
        connection.max_bytes = min(connection.max_bytes, AD_THUMBNAIL_MAX_BYTES)
    try:
        connection.full_clean(exclude=["organization"])
    except ValidationError as exc:
        raise ValidationFailed(
            "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
        ) from exc
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
        raise ValidationFailed("; ".join(problems).capitalize() + ".")
    connection.save()
    audit_record(
        organization=organization,
        actor=actor,
        action="directory.settings_saved",
        target=connection,
        data={"uri": connection.uri, "base_dn": connection.base_dn},
    )
    return connection
