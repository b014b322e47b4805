"""Where each person stands, kept on their row (``EmployeeProfile.journey_state`` and
``journey_since``) so that HR's dashboard and the people API count and page a company of
thousands by index instead of working everyone out on every request.

A change that moves a person only marks them to be worked out again (their state
emptied: one UPDATE, nothing more in a job's or a request's path): a save or deletion of
a row that moves a person (consent, a photo, a job, a picked or approved headshot, a
publication, the person's status) through Django's signals, connected in the app's
ready(); a bulk update of such a row through ``apps.core.journey``; a new consent text
marks the whole company. The reads work out the people marked (and those added in bulk)
before they count them, so a page costs what changed since the last one. The whole
company is checked again when the standard consent text's version changed and every
hour (what no row change says); the rows a page shows are always worked out afresh, and
stored again if they had drifted."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.cache import cache

from apps.core.queries import Epoch
from apps.organizations.models import EmployeeProfile, EmployeeStatus, Organization
from apps.people.selectors import PersonProgress, Standing, people_standing
from apps.photos.selectors import consent_text_current

CHUNK = 500
SAME_S = 0.001  # dates closer than this are the same date (databases round differently)


def people_restand(*, organization: Organization, employee_ids: Iterable[int] | None = None) -> int:
    """Work out again where these people (all the company's current people when None)
    stand, and store it where it changed; the number of people whose row changed."""
    if employee_ids is None:
        return _store(organization, people_standing(organization=organization))
    ids = sorted(set(employee_ids))
    return sum(
        _store(
            organization,
            people_standing(organization=organization, employee_ids=ids[i : i + CHUNK]),
        )
        for i in range(0, len(ids), CHUNK)
    )


def _store(organization: Organization, standings: list[Standing]) -> int:
    rows = EmployeeProfile.objects.filter(organization=organization)
    if len(standings) <= CHUNK:
        rows = rows.filter(pk__in=[s.employee_id for s in standings])
    stored = {
        pk: (state, since)
        for pk, state, since in rows.values_list("pk", "journey_state", Epoch("journey_since"))
    }
    changed = []
    for s in standings:
        state, since = stored.get(s.employee_id, (None, None))
        if state != s.state or since is None or abs(since - s.since_s) > SAME_S:
            changed.append(
                EmployeeProfile(
                    pk=s.employee_id,
                    journey_state=s.state,
                    journey_since=s.since,
                )
            )
    EmployeeProfile.objects.bulk_update(
        changed, ["journey_state", "journey_since"], batch_size=CHUNK
    )
    return len(changed)


def people_restand_stale(*, organization: Organization) -> int:
    """Before a page counts the company's people: work out those nobody has yet (added in
    bulk), and everyone when the company's consent text changed since the last time (a
    new text sends everyone back to consent). The number of people whose row changed."""
    version = consent_text_current(organization=organization).version
    key = f"people-consent:{organization.pk}"
    if cache.get(key) != version:
        changed = people_restand(organization=organization)
        cache.set(key, version, timeout=None)
        return changed
    unknown = list(
        EmployeeProfile.objects.filter(organization=organization, journey_state="")
        .exclude(status=EmployeeStatus.LEFT)
        .values_list("pk", flat=True)
    )
    return people_restand(organization=organization, employee_ids=unknown) if unknown else 0


def people_mark_moved(*, organization_id: int, employee_ids: Iterable[int] | None) -> int:
    """Mark these people (the whole company when None) to be worked out again by the next
    read; how many were marked."""
    rows = EmployeeProfile.objects.filter(organization_id=organization_id).exclude(journey_state="")
    if employee_ids is not None:
        rows = rows.filter(pk__in=list(employee_ids))
    return rows.update(journey_state="")


def person_moved(*, organization_id: int, employee_ids: Iterable[int], **_: Any) -> None:
    """The ``person.moved`` hook: a bulk change touched these people."""
    people_mark_moved(organization_id=organization_id, employee_ids=employee_ids)


def row_saved(sender: Any, instance: Any, created: bool, update_fields: Any, **_: Any) -> None:
    """post_save of a row that can move a person."""
    if update_fields is not None and not sender.JOURNEY_FIELDS.intersection(update_fields):
        return
    if created and sender is EmployeeProfile:
        return  # a new person is worked out by the next read
    if _moves(instance):
        people_mark_moved(
            organization_id=instance.organization_id,
            employee_ids=[getattr(instance, sender.JOURNEY_PERSON)],
        )


def row_deleted(sender: Any, instance: Any, **_: Any) -> None:
    """post_delete of a row that can move a person."""
    if sender is not EmployeeProfile and _moves(instance):
        people_mark_moved(
            organization_id=instance.organization_id, employee_ids=[instance.employee_id]
        )


def _moves(instance: Any) -> bool:
    """Whether this row can change where its person stands: a headshot only once picked
    (the four candidates of every round do not), a publication only once it succeeded."""
    from apps.generation.models import Headshot, HeadshotStatus
    from apps.publishing.models import Publication, PublicationStatus

    if isinstance(instance, Headshot):
        return instance.status != HeadshotStatus.CANDIDATE or instance.picked_at is not None
    if isinstance(instance, Publication):
        return instance.status == PublicationStatus.SUCCEEDED or instance.published_at is not None
    return True


def consent_text_published(sender: Any, instance: Any, created: bool, **_: Any) -> None:
    """post_save of a company's consent text: a new one sends everyone back to consent."""
    if created:
        people_mark_moved(organization_id=instance.organization_id, employee_ids=None)


def people_page_progress(
    *, organization: Organization, people: Iterable[EmployeeProfile]
) -> list[PersonProgress]:
    """Where each person of a page stands, worked out afresh (a page is at most a few
    hundred people), in the page's order; a stored standing that had drifted is put right."""
    people = list(people)
    standings = people_standing(organization=organization, employee_ids=[p.pk for p in people])
    _store(organization, standings)
    by_id = {s.employee_id: s for s in standings}
    return [
        PersonProgress(p, s.state, s.since, s.stuck, s.detail)
        for p in people
        if (s := by_id.get(p.pk)) is not None
    ]
