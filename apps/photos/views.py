from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError, NotFound
from apps.core.media import media_link
from apps.core.text import counted
from apps.generation.models import ACTIVE_JOB_STATES
from apps.generation.selectors import headshot_approved_latest, job_list, round_words
from apps.organizations.models import MANAGER_ROLES, EmployeeProfile
from apps.organizations.personal_data import personal_data_delete, personal_data_export
from apps.organizations.selectors import employee_for_user
from apps.organizations.services import organization_retention_update
from apps.photos.models import Photo, PhotoStatus
from apps.photos.retention import retention_schedule
from apps.photos.selectors import (
    consent_current,
    consent_text_current,
    photo_get,
    photo_list,
    usable_photo_count,
)
from apps.photos.services import (
    consent_give,
    consent_text_publish,
    consent_withdraw,
    photo_delete,
    photo_upload,
)
from apps.presets.selectors import preset_list
from apps.publishing.models import Publication, PublicationStatus, PublicationTarget
from apps.web.pages import CompanyRequest, company_page, refused
from pipeline.orchestrator import HONOURED


def _me(request: CompanyRequest) -> EmployeeProfile:
    return employee_for_user(organization=request.organization, user=request.user)


@company_page()
def employee_home(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    try:
        me = _me(request)
    except NotFound:
        return render(request, "portal/no_profile.html", status=200)
    jobs = list(job_list(organization=org, employee=me)[:5])
    return render(
        request,
        "portal/employee_home.html",
        {
            "me": me,
            "consent": consent_current(organization=org, employee=me),
            "usable": usable_photo_count(organization=org, employee=me),
            "needed": settings.HEADSHOTS["MIN_USABLE_PHOTOS"],
            "photos": photo_list(organization=org, employee=me).count(),
            "active_job": next((j for j in jobs if j.status in ACTIVE_JOB_STATES), None),
            "last_job": jobs[0] if jobs else None,
            "round_words": round_words(
                organization=org, employee=me, job=jobs[0] if jobs else None
            ),
            "approved": headshot_approved_latest(organization=org, employee=me),
            "card": Publication.objects.filter(
                organization=org,
                employee=me,
                target=PublicationTarget.BUSINESS_CARD,
                status=PublicationStatus.SUCCEEDED,
            ).exists(),
        },
    )


@company_page()
def consent_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    me = _me(request)
    if request.method == "POST":
        if request.POST.get("agree") != "yes":
            messages.error(request, "Tick the box to confirm you agree, or leave the page.")
            return redirect("consent", org.slug)
        try:
            consent_give(
                organization=org,
                employee=me,
                actor=request.user,
                text_version=request.POST.get("text_version", ""),
                ip_address=request.META.get("REMOTE_ADDR"),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
        except ApplicationError as exc:
            return refused(request, exc, "consent")
        messages.success(request, "Thank you. You can upload your selfies now.")
        return redirect("photos", org.slug)
    return render(
        request,
        "portal/consent.html",
        {
            "me": me,
            "consent": consent_current(organization=org, employee=me),
            "text": consent_text_current(organization=org),
            "retention_days": org.retention_days,
            "leaver_days": org.leaver_retention_days,
        },
    )


@company_page()
@require_POST
def consent_withdraw_view(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    try:
        deleted = consent_withdraw(organization=org, employee=_me(request), actor=request.user)
    except ApplicationError as exc:
        return refused(request, exc, "consent")
    messages.success(
        request, f"Consent withdrawn. {counted(deleted, 'selfie')} and your face data were deleted."
    )
    return redirect("employee-home", org.slug)


def _photo_json(request: CompanyRequest, photo: Photo) -> dict[str, Any]:
    report = photo.report or {}
    problems = [
        {"code": c["code"], "status": c["status"], "message": c["message"]}
        for c in report.get("checks", [])
        if c.get("status") in {"fail", "warn"}
    ]
    if report.get("error"):
        problems.append(
            {"code": report.get("code", "error"), "status": "fail", "message": report["error"]}
        )
    return {
        "id": photo.pk,
        "status": photo.status,
        "checked": photo.status != PhotoStatus.PENDING,
        "usable": photo.status == PhotoStatus.USABLE,
        "problems": problems,
        "marked_url": media_link(kind="photo_marked", pk=photo.pk, user=request.user, width=320),
        "delete_url": reverse("photo-delete", args=[request.organization.slug, photo.pk]),
    }


@company_page()
def photos_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    me = _me(request)
    if consent_current(organization=org, employee=me) is None:
        messages.info(request, "Before you upload, read how your photos are used and consent.")
        return redirect("consent", org.slug)
    photos = [_photo_json(request, p) for p in photo_list(organization=org, employee=me)]
    return render(
        request,
        "portal/photos.html",
        {
            "photos": photos,
            "usable": sum(p["usable"] for p in photos),
            "needed": settings.HEADSHOTS["MIN_USABLE_PHOTOS"],
            "max_bytes": settings.HEADSHOTS["MAX_UPLOAD_BYTES"],
            "presets": preset_list(organization=org),
            # the studio keeps the person's own clothing and pose; generation can dress them
            "keeps_clothing": "attire" not in HONOURED[settings.HEADSHOTS["GENERATION_BACKEND"]],
        },
    )


@company_page()
@require_POST
def photo_upload_view(request: CompanyRequest) -> JsonResponse:
    """One file per request (the page sends each with its own progress bar)."""
    org = request.organization
    upload = request.FILES.get("photo")
    if upload is None:
        return JsonResponse({"detail": "Choose a photo to upload."}, status=400)
    limit = settings.HEADSHOTS["MAX_UPLOAD_BYTES"]
    if upload.size is None or upload.size > limit:
        return JsonResponse(
            {"detail": f"This file is over {limit // 1_000_000} MB; upload a smaller photo."},
            status=413,
        )
    try:
        photo, created = photo_upload(
            organization=org, employee=_me(request), actor=request.user, data=upload
        )
    except ApplicationError as exc:
        return JsonResponse({"detail": exc.message, **exc.extra}, status=exc.status_code)
    return JsonResponse(
        {**_photo_json(request, photo), "created": created}, status=201 if created else 200
    )


@company_page()
@require_POST
def photo_delete_view(request: CompanyRequest, pk: int) -> HttpResponse:
    org = request.organization
    try:
        me = _me(request)
        photo = photo_get(organization=org, pk=pk)
        if photo.employee_id != me.pk:
            raise NotFound("Not found.")
        photo_delete(organization=org, employee=me, actor=request.user, photo=photo)
    except NotFound:
        raise
    except ApplicationError as exc:
        return refused(request, exc, "photos")
    messages.success(request, "The photo is deleted.")
    return redirect("photos", org.slug)


@company_page()
def photo_status_view(request: CompanyRequest, pk: int) -> JsonResponse:
    org = request.organization
    me = _me(request)
    photo = photo_get(organization=org, pk=pk)
    if photo.employee_id != me.pk:
        raise NotFound("Not found.")
    data = _photo_json(request, photo)
    data["usable_count"] = usable_photo_count(organization=org, employee=me)
    return JsonResponse(data)


@company_page()
def my_data(request: CompanyRequest) -> HttpResponseBase:
    org = request.organization
    me = _me(request)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "download":
                archive = personal_data_export(organization=org, employee=me, actor=request.user)
                return FileResponse(
                    archive,
                    as_attachment=True,
                    filename="my-headshots-data.zip",
                    content_type="application/zip",
                )
            if action == "delete" and request.POST.get("confirm") == "DELETE":
                done = personal_data_delete(organization=org, employee=me, actor=request.user)
                messages.success(
                    request,
                    f"Deleted {counted(done['selfies'], 'selfie')}, your face data and "
                    f"{counted(done['headshots'], 'headshot')}.",
                )
                return redirect("my-data", org.slug)
        except ApplicationError as exc:
            return refused(request, exc, "my-data")
        messages.error(request, "Type DELETE in the box to confirm the deletion.")
        return redirect("my-data", org.slug)
    return render(
        request,
        "portal/my_data.html",
        {
            "me": me,
            "photos": photo_list(organization=org, employee=me).count(),
            "retention_days": org.retention_days,
            "leaver_days": org.leaver_retention_days,
        },
    )


@company_page(roles=MANAGER_ROLES)
def consent_text_page(request: CompanyRequest) -> HttpResponse:
    """HR writes the company's own consent text; each publication is a new version."""
    from django.db.models import Count

    from apps.photos.models import ConsentRecord, ConsentText

    org = request.organization
    current = consent_text_current(organization=org)
    body = current.body
    if request.method == "POST":
        body = request.POST.get("body", "")
        try:
            text = consent_text_publish(organization=org, actor=request.user, body=body)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Published as version {text.version}. Everyone is asked to consent to it "
                "before their photos are processed any further.",
            )
            return redirect("consent-text", org.slug)
    counts = dict(
        ConsentRecord.objects.filter(organization=org, withdrawn_at__isnull=True)
        .values("text_version")
        .annotate(n=Count("id"))
        .values_list("text_version", "n")
    )
    versions = [
        (t, counts.get(t.version, 0))
        for t in ConsentText.objects.filter(organization=org).order_by("-created_at", "-pk")
    ]
    return render(
        request,
        "portal/consent_text.html",
        {
            "current": current,
            "body": body,
            "versions": versions,
            "standard_count": counts.get(settings.HEADSHOTS["CONSENT_TEXT_VERSION"], 0),
        },
    )


@company_page(roles=MANAGER_ROLES)
def fairness_page(request: CompanyRequest) -> HttpResponse:
    from apps.photos.fairness import fairness_report

    return render(
        request,
        "portal/fairness.html",
        {"report": fairness_report(organization=request.organization)},
    )


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        min_value=1, max_value=1095, label="Days after approval before selfies are deleted"
    )
    leaver_retention_days = forms.IntegerField(
        min_value=0, max_value=90, label="Days after someone leaves before their data is deleted"
    )
    invitation_reminder_days = forms.IntegerField(
        min_value=0, max_value=30, label="Days before one reminder to an unanswered invitation"
    )


@company_page(roles=MANAGER_ROLES)
def retention_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    form = RetentionForm(
        request.POST or None,
        initial={
            "retention_days": org.retention_days,
            "leaver_retention_days": org.leaver_retention_days,
            "invitation_reminder_days": org.invitation_reminder_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            organization_retention_update(organization=org, actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, "Retention schedule saved; people see it on their consent page."
            )
            return redirect("retention", org.slug)
    return render(
        request, "portal/retention.html", {"form": form, "schedule": retention_schedule(org)}
    )
