"""Every selector filters by company: another company's rows are invisible, never forbidden."""

from __future__ import annotations

import pytest

from apps.audit.selectors import audit_event_list
from apps.core.errors import NotFound
from apps.generation import selectors as gen
from apps.organizations import selectors as orgs
from apps.photos import selectors as photos
from apps.presets import selectors as presets
from apps.publishing import selectors as pubs
from apps.publishing.models import PublicationTarget
from apps.publishing.services import publication_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def full(approved, globex, run_jobs):
    """Acme has a person with photos, a job, headshots, an approval and a publication."""
    acme, headshot = approved
    publication = publication_request(
        organization=acme.org,
        actor=acme.hr,
        headshot=headshot,
        target=PublicationTarget.BUSINESS_CARD,
    )
    run_jobs()
    return acme, globex, headshot.job, headshot, publication


def test_get_selectors_answer_not_found_for_another_companys_rows(full):
    acme, globex, job, headshot, publication = full
    photo = acme.employee.photos.first()
    version = presets.preset_version_latest(organization=acme.org, preset=acme.preset())
    lookups = [
        lambda org: orgs.employee_get(organization=org, pk=acme.employee.pk),
        lambda org: photos.photo_get(organization=org, pk=photo.pk),
        lambda org: presets.preset_version_get(organization=org, pk=version.pk),
        lambda org: gen.job_get(organization=org, pk=job.pk),
        lambda org: gen.headshot_get(organization=org, pk=headshot.pk),
        lambda org: pubs.publication_get(organization=org, pk=publication.pk),
    ]
    for lookup in lookups:
        assert lookup(acme.org) is not None
        with pytest.raises(NotFound) as caught:
            lookup(globex.org)
        assert caught.value.message == "Not found."  # the same words as a row that does not exist


def test_membership_and_profile_lookups_stay_inside_the_company(full):
    acme, globex, *_ = full
    with pytest.raises(NotFound):
        orgs.membership_get(organization=globex.org, user=acme.hr)
    with pytest.raises(NotFound):
        orgs.employee_for_user(organization=globex.org, user=acme.employee_user)
    with pytest.raises(NotFound):
        presets.preset_get(organization=globex.org, slug="no-such-preset")
    assert list(orgs.organizations_for_user(user=acme.hr)) == [acme.org]


def test_list_selectors_never_mix_companies(full):
    acme, globex, job, headshot, publication = full
    assert list(orgs.employee_list(organization=globex.org)) == [globex.employee]
    assert all(
        p.organization_id == globex.org.pk for p in presets.preset_list(organization=globex.org)
    )
    assert not photos.photo_list(organization=globex.org, employee=acme.employee).exists()
    assert photos.consent_current(organization=globex.org, employee=acme.employee) is None
    assert photos.usable_photo_count(organization=globex.org, employee=acme.employee) == 0
    assert not gen.job_list(organization=globex.org).exists()
    assert not gen.job_list(organization=globex.org, employee=acme.employee).exists()
    assert not gen.headshot_list_for_job(organization=globex.org, job=job).exists()
    assert not gen.approval_queue(organization=globex.org).exists()
    assert gen.headshot_approved_latest(organization=globex.org, employee=acme.employee) is None
    assert not pubs.publication_list(organization=globex.org).exists()
    assert all(
        e.organization_id == globex.org.pk for e in audit_event_list(organization=globex.org)
    )
    # and the same lists do show Acme's rows to Acme
    assert gen.job_list(organization=acme.org).get() == job
    assert gen.headshot_approved_latest(organization=acme.org, employee=acme.employee) == headshot
    assert pubs.publication_list(organization=acme.org).get() == publication
    assert audit_event_list(organization=acme.org, action="headshot.approved").count() == 1
