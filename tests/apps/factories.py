"""Factories: build companies, people and their journey state through the real services."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model

from apps.organizations.models import EmployeeProfile, Membership, Organization, Role
from apps.organizations.services import invitation_accept, invitation_create, organization_create
from apps.photos.selectors import consent_text_current
from apps.photos.services import consent_give
from apps.presets.selectors import preset_get
from apps.presets.services import brand_presets_install_shipped


@dataclass
class Company:
    org: Organization
    hr: object
    approver: object
    employee_user: object
    employee: EmployeeProfile

    def preset(self, slug: str = "corporate-executive"):
        return preset_get(organization=self.org, slug=slug)


def user(email: str):
    return get_user_model().objects.create_user(username=email, email=email, password="x")


def company(name: str = "Acme", domain: str = "acme.example", *, consent: bool = True) -> Company:
    org = organization_create(name=name, email_domains=[domain])
    hr = user(f"hr@{domain}")
    Membership.objects.create(organization=org, user=hr, role=Role.HR)
    approver = user(f"approver@{domain}")
    Membership.objects.create(organization=org, user=approver, role=Role.APPROVER)
    brand_presets_install_shipped(organization=org, actor=hr)
    employee_user = user(f"pat@{domain}")
    _, token = invitation_create(
        organization=org,
        invited_by=hr,
        email=f"pat@{domain}",
        full_name="Pat O'Brien",
        title="Engineer",
        department="R&D",
    )
    employee = invitation_accept(token=token, user=employee_user)
    if consent:
        consent_give(
            organization=org,
            employee=employee,
            actor=employee_user,
            text_version=consent_text_current(organization=org).version,
        )
    return Company(
        org=org, hr=hr, approver=approver, employee_user=employee_user, employee=employee
    )


def upload(c: Company, data: bytes):
    """The person uploads a selfie: (photo, created)."""
    from apps.photos.services import photo_upload

    return photo_upload(organization=c.org, employee=c.employee, actor=c.employee_user, data=data)


def start_job(c: Company):
    """The person asks for headshots in the corporate preset."""
    from apps.generation.services import generation_job_create

    return generation_job_create(
        organization=c.org, actor=c.employee_user, employee=c.employee, preset=c.preset()
    )
