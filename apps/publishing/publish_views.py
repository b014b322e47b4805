"""HR's publishing page: who has an approved headshot, where it is published (business
card, directory export, directory photo), the files to open, and publishing one person,
a selection or a department; and a person's own business card."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from apps.core.errors import ApplicationError
from apps.core.storage import private_open
from apps.core.text import plain_number
from apps.generation.selectors import headshots_approved_latest
from apps.organizations.models import MANAGER_ROLES, EmployeeStatus
from apps.organizations.selectors import employee_for_user
from apps.publishing.bulk import headshots_publish, publication_targets
from apps.publishing.models import (
    CloudDirectory,
    Publication,
    PublicationStatus,
    PublicationTarget,
)
from apps.publishing.selectors import publication_get
from apps.web.pages import CompanyRequest, company_page, refused

FILES = {
    PublicationTarget.BUSINESS_CARD: ("application/pdf", "business-card", ".pdf"),
    PublicationTarget.DIRECTORY_EXPORT: ("text/plain; charset=utf-8", "directory-export", ".ldif"),
}


def _state(publication: Publication | None, headshot_id: int) -> dict[str, Any]:
    """A publication in words, for one cell of the table."""
    if publication is None:
        return {"words": "Not published", "tone": ""}
    if publication.status == PublicationStatus.FAILED:
        return {"words": f"Failed: {publication.last_error}", "tone": "bad"}
    if publication.status == PublicationStatus.PENDING:
        return {"words": "Being made", "tone": ""}
    if publication.status == PublicationStatus.WITHDRAWN:
        return {"words": "Withdrawn", "tone": ""}
    if publication.headshot_id != headshot_id:
        return {"words": "An older headshot", "tone": "bad", "file": publication}
    return {"words": "Published", "tone": "ok", "file": publication}


@company_page(roles=MANAGER_ROLES)
def publishing_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    if request.method == "POST":
        return _act(request)
    latest = headshots_approved_latest(organization=org, employee__status=EmployeeStatus.ACTIVE)
    publications = {
        (p.employee_id, p.target): p for p in Publication.objects.filter(organization=org)
    }
    # the cloud directories' columns where the company has one
    clouds = {d.target for d in CloudDirectory.objects.filter(organization=org)}
    targets = [
        t
        for t in PublicationTarget
        if t not in {PublicationTarget.DIRECTORY_GRAPH, PublicationTarget.DIRECTORY_GOOGLE}
        or t in clouds
    ]
    rows = [
        {
            "headshot": headshot,
            "employee": headshot.employee,
            "cells": [
                _state(publications.get((headshot.employee_id, target)), headshot.pk)
                for target in targets
            ],
        }
        for headshot in latest
    ]
    return render(
        request,
        "portal/publishing.html",
        {
            "rows": rows,
            "targets": [target.label for target in targets],
            "departments": sorted({h.employee.department for h in latest if h.employee.department}),
            "makes_export": PublicationTarget.DIRECTORY_EXPORT in publication_targets(org),
        },
    )


def _act(request: CompanyRequest) -> HttpResponse:
    org, action = request.organization, request.POST.get("action")
    try:
        if action == "setting":
            org.publish_on_approval = request.POST.get("publish_on_approval") == "on"
            org.save(update_fields=["publish_on_approval", "updated_at"])
            messages.success(
                request,
                "Headshots are now published as soon as they are approved."
                if org.publish_on_approval
                else "Headshots now wait for you to publish them.",
            )
            return redirect("publishing", org.slug)
        if action == "department":
            count = headshots_publish(
                organization=org, actor=request.user, department=request.POST.get("department", "")
            )
        else:
            chosen = (
                request.POST.getlist("person")
                if action == "selected"
                else [request.POST.get("person", "")]
            )
            count = headshots_publish(
                organization=org,
                actor=request.user,
                employee_ids=[int(value) for value in chosen if plain_number(value)],
            )
    except ApplicationError as exc:
        return refused(request, exc, "publishing")
    messages.success(
        request,
        f"Publishing {count} {'person' if count == 1 else 'people'}: the files are being made; "
        "this page shows them when they are ready.",
    )
    return redirect("publishing", org.slug)


def _download(publication: Publication) -> HttpResponseBase:
    if publication.status != PublicationStatus.SUCCEEDED or publication.target not in FILES:
        raise Http404("This file is not ready.")
    content_type, stem, suffix = FILES[PublicationTarget(publication.target)]
    name = re.sub(r"[^a-z0-9]+", "-", publication.employee.full_name.lower()).strip("-")
    try:
        handle = private_open(publication.artifact.name)
    except FileNotFoundError as exc:
        raise Http404("This file is not there any more.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{stem}-{name or 'person'}{suffix}",
        content_type=content_type,
    )


@company_page()
def publication_file(request: CompanyRequest, pk: int) -> HttpResponseBase:
    """A published file (a card's PDF, an export's LDIF): HR opens anyone's, a person
    their own; to anyone else it answers as a file that does not exist."""
    try:
        publication = publication_get(organization=request.organization, pk=pk)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    if request.membership.role not in MANAGER_ROLES and (
        publication.employee.user_id != request.user.pk
    ):
        raise Http404("Not found.")
    return _download(publication)


@company_page()
def my_card(request: CompanyRequest) -> HttpResponseBase:
    """The person's own business card, once published."""
    org = request.organization
    try:
        me = employee_for_user(organization=org, user=request.user)
    except ApplicationError as exc:
        raise Http404(exc.message) from exc
    publication = Publication.objects.filter(
        organization=org, employee=me, target=PublicationTarget.BUSINESS_CARD
    ).first()
    if publication is None:
        raise Http404("Your business card is not published yet.")
    return _download(publication)
