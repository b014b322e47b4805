from __future__ import annotations

import json
import logging
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import ApplicationError, NotFound, StateConflict, ValidationFailed
from apps.core.mail import portal_url
from apps.core.queue import enqueue
from apps.core.storage import private_delete, private_read, private_save, sha256_hex
from apps.generation.models import Headshot, HeadshotStatus
from apps.generation.selectors import headshots_approved_latest
from apps.organizations.brand import brand_of
from apps.organizations.models import APPROVER_ROLES, EmployeeStatus, Organization
from apps.organizations.notifications import member_mail_later
from apps.organizations.selectors import require_role
from apps.photos.selectors import consent_standing
from apps.publishing.cards import CardPerson, render_card_pdf
from apps.publishing.directory import person_dn, photo_change_ldif
from apps.publishing.images import (
    DIRECTORY_HEAD_FILL,
    headshot_pixels,
    headshot_target_jpeg,
    square_jpeg,
)
from apps.publishing.models import (
    DirectoryConnection,
    Publication,
    PublicationStatus,
    PublicationTarget,
)
from apps.publishing.selectors import publication_in_another_directory

logger = logging.getLogger(__name__)

CARD_PHOTO_PX = 600
# What a publication request makes; the live directory is written by directory_sync.
REQUESTABLE_TARGETS = (PublicationTarget.BUSINESS_CARD, PublicationTarget.DIRECTORY_EXPORT)


@transaction.atomic
def publication_request(
    *, organization: Organization, actor: User, headshot: Headshot, target: str
) -> Publication:
    require_role(organization=organization, user=actor, roles=APPROVER_ROLES)
    if headshot.organization_id != organization.pk:
        raise NotFound("Not found.")
    if target not in REQUESTABLE_TARGETS:
        raise ValidationFailed(
            f"Unknown publication target {target!r}; choose one of {', '.join(REQUESTABLE_TARGETS)}. "
            "Directory photos are published by the directory sync."
        )
    headshot = Headshot.objects.select_for_update().get(pk=headshot.pk)
    if headshot.status != HeadshotStatus.APPROVED:
        raise StateConflict(
            f"This headshot is {headshot.status}; only an approved headshot can be published."
        )
    publication, created = Publication.objects.select_for_update().get_or_create(
        organization=organization,
        employee_id=headshot.employee_id,
        target=target,
        defaults={"headshot": headshot},
    )
    if not created and publication.headshot_id != headshot.pk:
        publication.headshot = headshot
        publication.status = PublicationStatus.PENDING
        publication.save(update_fields=["headshot", "status", "updated_at"])
    audit_record(
        organization=organization,
        actor=actor,
        action="publication.requested",
        target=publication,
        data={"target": target, "headshot": headshot.pk},
    )
    enqueue("publication_run", publication.pk)
    return publication


def business_cards_batch(
    *, organization: Organization, actor: User, department: str, size: str = "us"
) -> bytes:
    """One PDF with the cards of a department's people who have an approved headshot,
    in name order, with bleed and crop marks for the printer."""
    from apps.organizations.models import MANAGER_ROLES, EmployeeStatus
    from apps.publishing.cards import render_cards_pdf

    require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    latest = headshots_approved_latest(
        organization=organization,
        employee__department=department,
        employee__status=EmployeeStatus.ACTIVE,
    )
    if not latest:
        raise NotFound(f"Nobody in {department!r} has an approved headshot yet.")
    people = [
        (_person_card(h.employee), square_jpeg(headshot_pixels(h.print_source())[0], CARD_PHOTO_PX))
        for h in latest
    ]
    audit_record(
        organization=organization,
        actor=actor,
        action="cards.batch",
        target=organization,
        data={"department": department, "cards": len(people)},
    )
    return render_cards_pdf(
        people=people,
        company=organization.name,
        brand=organization.brand,
        size=size,
        print_marks=True,
    )


def headshot_export(
    *,
    organization: Organization,
    actor: User,
    employee: Any = None,
    department: str | None = None,
) -> bytes:
    """The download pack (ZIP) of one person's approved headshot, or a department's.
    People download their own; HR downloads anyone's or a team's."""
    from apps.organizations.models import MANAGER_ROLES
    from apps.organizations.selectors import membership_get
    from apps.publishing.exports import export_zip

    membership = membership_get(organization=organization, user=actor)
    if employee is not None:
        if employee.organization_id != organization.pk:
            raise NotFound("Not found.")
        if employee.user_id != actor.pk and membership.role not in MANAGER_ROLES:
            raise NotFound("Not found.")  # the same answer as a person who does not exist
        latest = headshots_approved_latest(organization=organization, employee=employee)
    elif department is not None:
        require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
        latest = headshots_approved_latest(
            organization=organization, employee__department=department
        )
    else:
        raise ValidationFailed("Choose a person or a department to export.")
    if not latest:
        raise NotFound("No approved headshot to export yet.")
    audit_record(
        organization=organization,
        actor=actor,
        action="headshots.exported",
        target=organization,
        data={"people": len(latest), "department": department or ""},
    )
    return export_zip(latest)


def _card_person(publication: Publication) -> CardPerson:
    return _person_card(publication.employee)


def _person_card(employee: Any) -> CardPerson:
    return CardPerson(
        full_name=employee.full_name,
        title=employee.title,
        department=employee.department,
        email=employee.email,
        phone=employee.phone,
        given_name=employee.given_name,
        family_name=employee.family_name,
    )


def _content_hash(publication: Publication, image: bytes) -> str:
    """What the published artifact depends on: the photo, the person's card data and the target settings."""
    employee = publication.employee
    organization = publication.organization
    basis = {
        "image": sha256_hex(image),
        "person": [
            employee.full_name,
            employee.title,
            employee.department,
            employee.email,
            employee.phone,
            employee.directory_uid,
        ],
        "company": organization.name,
        "brand": organization.brand,
        "directory": _export_settings(organization)
        if publication.target == PublicationTarget.DIRECTORY_EXPORT
        else {},
    }
    return sha256_hex(json.dumps(basis, sort_keys=True).encode())


def _directory(organization: Organization) -> DirectoryConnection:
    """The company's one directory configuration, which the export follows as the live
    sync does (base DN, the attribute that names a person, photo attribute and limits)."""
    connection = DirectoryConnection.objects.filter(organization=organization).first()
    if connection is None:
        raise StateConflict(
            "Set up the company's directory first (HR, Directory): the export names each "
            "person's entry under its base DN and sizes the photo to its limits."
        )
    return connection


def _export_settings(organization: Organization) -> dict[str, object]:
    connection = DirectoryConnection.objects.filter(organization=organization).first()
    if connection is None:
        return {}
    return {
        name: getattr(connection, name)
        for name in ("base_dn", "match_attribute", "match_field", "photo_attribute")
    } | {"max_bytes": connection.max_bytes, "max_side": connection.max_side}


def _export_dn(publication: Publication, connection: DirectoryConnection) -> str:
    """The entry's DN as the live sync found it, or else one named by the attribute that
    identifies people under the base DN (e.g. uid=pat,ou=people,dc=acme,dc=com)."""
    found = (
        Publication.objects.filter(
            employee_id=publication.employee_id, target=PublicationTarget.DIRECTORY_LDAP
        )
        .exclude(external_id="")
        .values_list("external_id", flat=True)
        .first()
    )
    if found:
        return found
    if not connection.match_value(publication.employee):
        raise ValidationFailed(
            f"{publication.employee.full_name} has no directory identifier yet: add it (roster "
            "or the identity provider), or match people by e-mail in the directory settings."
        )
    return person_dn(
        rdn_attribute=connection.match_attribute,
        rdn_value=connection.match_value(publication.employee),
        base_dn=connection.base_dn,
    )


def publication_run(*, publication_id: int) -> Publication | None:
    """Produce the artifact for one publication (worker side). Writes nothing when nothing changed."""
    publication = (
        Publication.objects.select_related("employee", "organization", "headshot")
        .filter(pk=publication_id)
        .first()
    )
    if publication is None:
        logger.info("publication %s vanished; skipping", publication_id)
        return None
    problem = ""
    if publication.headshot.status != HeadshotStatus.APPROVED:
        problem = "The headshot is no longer approved."
    elif publication.employee.status == EmployeeStatus.LEFT or not consent_standing(
        organization=publication.organization, employee=publication.employee
    ):
        problem = "The person left or withdrew their consent."
    if problem:
        Publication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.FAILED, last_error=problem, updated_at=timezone.now()
        )
        return publication
    # a card is printed: it takes the print version once that is ready
    image = private_read(
        publication.headshot.print_source()
        if publication.target == PublicationTarget.BUSINESS_CARD
        else publication.headshot.image.name
    )
    content_hash = _content_hash(publication, image)
    if (
        publication.status == PublicationStatus.SUCCEEDED
        and publication.content_hash == content_hash
    ):
        return publication
    organization = publication.organization
    folder = f"org-{organization.pk}/publications/{publication.target}"
    try:
        if publication.target == PublicationTarget.BUSINESS_CARD:
            # the company's brand as HR set it on the card page: colours, logo, fonts, mark
            data = render_card_pdf(
                person=_card_person(publication),
                company=organization.name,
                photo_jpeg=image,
                brand=organization.brand,
                size=brand_of(organization.brand).card_size,
            )
            suffix, external_id = ".pdf", ""
        else:
            connection = _directory(organization)
            dn = _export_dn(publication, connection)
            jpeg = headshot_target_jpeg(
                publication.headshot,
                side=connection.max_side,
                head_fill=DIRECTORY_HEAD_FILL,
                max_bytes=connection.max_bytes,
            )
            data = photo_change_ldif(dn=dn, jpeg=jpeg, attribute=connection.photo_attribute).encode(
                "utf-8"
            )
            suffix, external_id = ".ldif", dn
    except ApplicationError as exc:  # something HR must change: not retried
        Publication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.FAILED,
            last_error=exc.message,
            attempts=publication.attempts + 1,
            updated_at=timezone.now(),
        )
        return publication
    except Exception:
        logger.exception("publication %s could not be made", publication.pk)
        Publication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.FAILED,
            last_error="The file could not be made this time; it is tried again shortly.",
            attempts=publication.attempts + 1,
            updated_at=timezone.now(),
        )
        raise
    name = private_save(folder, data, suffix=suffix, encrypted=True)  # it carries the face
    old_artifact = publication.artifact.name
    with transaction.atomic():
        Publication.objects.filter(pk=publication.pk).update(
            status=PublicationStatus.SUCCEEDED,
            artifact=name,
            external_id=external_id or name,
            content_hash=content_hash,
            last_error="",
            attempts=publication.attempts + 1,
            published_at=timezone.now(),
            updated_at=timezone.now(),
        )
        audit_record(
            organization=organization,
            actor=None,
            action="publication.published",
            target=publication,
            data={
                "target": publication.target,
                "headshot": publication.headshot_id,
                "hash": content_hash,
            },
        )
        published_notify(publication, external_id or name)
        if old_artifact and old_artifact != name:
            transaction.on_commit(lambda: private_delete(old_artifact))
    publication.refresh_from_db()
    return publication


def published_notify(publication: Publication, external_id: str) -> None:
    from apps.webhooks.services import webhook_emit

    employee = publication.employee
    webhook_emit(
        organization=publication.organization,
        event="headshot.published",
        data={
            "employee": {"id": employee.pk, "email": employee.email, "name": employee.full_name},
            "headshot": publication.headshot_id,
            "target": publication.target,
            "external_id": external_id,
        },
    )
    what = PUBLISHED_WORDS.get(publication.target)
    if what is not None and publication_in_another_directory(publication):
        what = None  # one mail for a photo, not one for each directory it reached
    if what is not None:  # the export file is HR's: the person hears of the directory itself
        organization = publication.organization
        member_mail_later(
            organization=organization,
            user=employee.user,
            kind="published",
            subject="Your headshot is published",
            template="published",
            context={
                "name": employee.full_name,
                "what": what,
                "url": portal_url(reverse("employee-home", args=[organization.slug])),
            },
        )


PUBLISHED_WORDS: dict[str, str] = {
    PublicationTarget.BUSINESS_CARD: "your business card is ready to download",
    PublicationTarget.DIRECTORY_LDAP: "your photo is in the company directory",
    PublicationTarget.DIRECTORY_GRAPH: "your photo is in Microsoft 365 (Teams, Outlook)",
    PublicationTarget.DIRECTORY_GOOGLE: "your photo is in Google Workspace (Gmail, Chat, Meet)",
}


def publishing_rotate_encryption() -> dict[str, int]:
    """Cards and exports, and the directories' stored credentials, re-encrypted."""
    from apps.core.crypto import rotate_text
    from apps.core.storage import private_rotate
    from apps.publishing.models import CloudDirectory, DirectoryConnection

    files = secrets = 0
    for publication in Publication.objects.exclude(artifact="").only("pk", "artifact"):
        files += private_rotate(publication.artifact.name)
    for pk, sealed in DirectoryConnection.objects.exclude(bind_password_sealed="").values_list(
        "pk", "bind_password_sealed"
    ):
        DirectoryConnection.objects.filter(pk=pk).update(bind_password_sealed=rotate_text(sealed))
        secrets += 1
    for pk, sealed in CloudDirectory.objects.exclude(credential_sealed="").values_list(
        "pk", "credential_sealed"
    ):
        CloudDirectory.objects.filter(pk=pk).update(credential_sealed=rotate_text(sealed))
        secrets += 1
    return {"files": files, "secrets": secrets}
