from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.errors import NotFound, PermissionDenied, StateConflict, ValidationFailed
from apps.organizations.models import Invitation, Membership, Role
from apps.organizations.services import (
    invitation_accept,
    invitation_create,
    membership_grant,
    organization_create,
)
from tests.apps.factories import user

pytestmark = pytest.mark.django_db


def test_only_hr_and_admins_invite(acme):
    with pytest.raises(PermissionDenied):
        invitation_create(
            organization=acme.org,
            invited_by=acme.employee_user,
            email="x@acme.example",
            full_name="X",
        )
    with pytest.raises(PermissionDenied):
        invitation_create(
            organization=acme.org, invited_by=acme.approver, email="x@acme.example", full_name="X"
        )


def test_outsider_cannot_invite_and_learns_nothing(acme, globex):
    with pytest.raises(NotFound):
        invitation_create(
            organization=acme.org, invited_by=globex.hr, email="x@acme.example", full_name="X"
        )


def test_invitation_limited_to_company_domains(acme):
    with pytest.raises(ValidationFailed, match="outside Acme"):
        invitation_create(
            organization=acme.org, invited_by=acme.hr, email="x@gmail.com", full_name="X"
        )


def test_invitation_token_is_stored_only_as_hash(acme):
    invitation, token = invitation_create(
        organization=acme.org, invited_by=acme.hr, email="lee@acme.example", full_name="Lee"
    )
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert not Invitation.objects.filter(token_hash=token).exists()


def test_accepting_an_invitation_joins_the_company_once(acme):
    _, token = invitation_create(
        organization=acme.org, invited_by=acme.hr, email="lee@acme.example", full_name="Lee"
    )
    lee = user("lee@acme.example")
    employee = invitation_accept(token=token, user=lee)
    assert employee.user == lee and employee.status == "active"
    assert Membership.objects.get(organization=acme.org, user=lee).role == Role.EMPLOYEE
    with pytest.raises(StateConflict, match="already been used"):
        invitation_accept(token=token, user=lee)


def test_invitation_refused_for_other_email_expired_or_unknown(acme):
    _, token = invitation_create(
        organization=acme.org, invited_by=acme.hr, email="lee@acme.example", full_name="Lee"
    )
    with pytest.raises(PermissionDenied):
        invitation_accept(token=token, user=user("mallory@acme.example"))
    Invitation.objects.filter(email="lee@acme.example").update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(StateConflict, match="expired"):
        invitation_accept(token=token, user=user("lee@acme.example"))
    with pytest.raises(NotFound):
        invitation_accept(token="forged", user=user("eve@acme.example"))


def test_reinviting_revokes_the_earlier_link(acme):
    _, first = invitation_create(
        organization=acme.org, invited_by=acme.hr, email="lee@acme.example", full_name="Lee"
    )
    invitation_create(
        organization=acme.org, invited_by=acme.hr, email="lee@acme.example", full_name="Lee"
    )
    with pytest.raises(NotFound):
        invitation_accept(token=first, user=user("lee@acme.example"))


def test_organization_names_and_domains_are_validated(db):
    with pytest.raises(ValidationFailed):
        organization_create(name="Initech", email_domains=["not a domain"])
    org = organization_create(name="Initech", email_domains=["@Initech.Example"])
    assert org.email_domains == ["initech.example"]
    with pytest.raises(StateConflict):
        organization_create(name="Initech", email_domains=[])


def test_granting_roles_is_audited(acme):
    someone = user("sam@acme.example")
    membership_grant(organization=acme.org, user=someone, role=Role.APPROVER, granted_by=acme.hr)
    event = AuditEvent.objects.get(action="membership.granted", organization=acme.org)
    assert event.actor == acme.hr and event.data["role"] == "approver"
    with pytest.raises(ValidationFailed):
        membership_grant(organization=acme.org, user=someone, role="overlord", granted_by=acme.hr)
