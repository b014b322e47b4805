from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError
from apps.organizations.brand import brand_of
from apps.organizations.models import MANAGER_ROLES, EmployeeProfile
from apps.organizations.selectors import employee_for_user
from apps.organizations.services import brand_update
from apps.organizations.tenant_secrets import MAX_SECRET_CHARS, secret_state
from apps.publishing.cards import card_preview_png
from apps.publishing.directory_sync import (
    DIRECTORY_FIELDS,
    DIRECTORY_LABELS,
    DirectoryUnreachable,
    directory_connection_save,
    directory_connection_test,
    directory_sync,
)
from apps.publishing.models import DirectoryConnection
from apps.publishing.services import business_cards_batch, headshot_export
from apps.web.pages import CompanyRequest, company_page, refused

DRY_RUN_SHOWN = 500


class DirectoryForm(forms.ModelForm):
    # Write-only: what HR types is stored encrypted and never shown again.
    bind_password = forms.CharField(
        label="Bind password",
        required=False,
        max_length=MAX_SECRET_CHARS,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted and never shown again. Leave empty to keep the current one.",
    )
    forget_password = forms.BooleanField(label="Remove the stored password", required=False)
    field_order = ["enabled", "uri", "start_tls", "bind_dn", "bind_password", "forget_password"]

    class Meta:
        model = DirectoryConnection
        fields = list(DIRECTORY_FIELDS)
        labels = DIRECTORY_LABELS
        help_texts = {
            "uri": "ldaps://host, or ldap://host with StartTLS.",
            "user_filter": "Which entries are people, e.g. (objectClass=user) on Active Directory.",
            "max_bytes": "Largest photo the directory takes (Active Directory: 102400).",
            "max_side": "Largest photo side in pixels.",
        }


def _attachment(data: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@company_page()
def my_export(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    try:
        me = employee_for_user(organization=org, user=request.user)
        data = headshot_export(organization=org, actor=request.user, employee=me)
    except ApplicationError as exc:
        return refused(request, exc, "employee-home")
    return _attachment(data, "application/zip", "my-headshot.zip")


@company_page(roles=MANAGER_ROLES)
def directory_settings_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    connection = DirectoryConnection.objects.filter(organization=org).first()
    form = DirectoryForm(request.POST or None, instance=connection)
    if request.method == "POST" and form.is_valid():
        try:
            directory_connection_save(
                organization=org,
                actor=request.user,
                values={name: form.cleaned_data[name] for name in DIRECTORY_FIELDS},
                bind_password=form.cleaned_data["bind_password"],
                forget_password=form.cleaned_data["forget_password"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Directory settings saved. Test the connection next.")
            return redirect("directory-settings", org.slug)
    report = request.session.pop(f"dry-run-{org.pk}", None)
    return render(
        request,
        "portal/directory_settings.html",
        {
            "form": form,
            "connection": connection,
            "report": report,
            "shown": DRY_RUN_SHOWN,
            "password": secret_state(
                kind="ldap",
                organization=org,
                sealed=connection.bind_password_sealed if connection else "",
            ),
        },
    )


@company_page(roles=MANAGER_ROLES)
@require_POST
def directory_test(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    try:
        messages.success(request, directory_connection_test(organization=org))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("directory-settings", org.slug)


@company_page(roles=MANAGER_ROLES)
@require_POST
def directory_dry_run(request: CompanyRequest) -> HttpResponse:
    """What the next sync would change, without writing anything."""
    org = request.organization
    try:
        report = directory_sync(organization=org, dry_run=True)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("directory-settings", org.slug)
    except DirectoryUnreachable as exc:
        messages.error(request, f"The directory could not be reached: {exc}")
        return redirect("directory-settings", org.slug)
    names = dict(
        EmployeeProfile.objects.filter(
            organization=org, pk__in=[int(e["employee"]) for e in report["entries"][:DRY_RUN_SHOWN]]
        ).values_list("pk", "full_name")
    )
    entries: list[dict[str, Any]] = [
        {**entry, "name": names.get(int(entry["employee"]), "")}
        for entry in report["entries"][:DRY_RUN_SHOWN]
    ]
    request.session[f"dry-run-{org.pk}"] = {
        "counts": report["counts"],
        "entries": entries,
        "total": len(report["entries"]),
    }
    return redirect("directory-settings", org.slug)


class BrandForm(forms.Form):
    primary = forms.CharField(widget=forms.TextInput(attrs={"type": "color"}))
    background = forms.CharField(widget=forms.TextInput(attrs={"type": "color"}))
    text = forms.CharField(widget=forms.TextInput(attrs={"type": "color"}))
    muted = forms.CharField(widget=forms.TextInput(attrs={"type": "color"}))
    card_size = forms.ChoiceField(choices=[("us", "US, 3.5 x 2 in"), ("eu", "EU, 85 x 55 mm")])
    logo = forms.FileField(required=False, help_text="PNG or JPEG, at most 200 KB.")
    remove_logo = forms.BooleanField(required=False)
    font_name = forms.CharField(required=False, max_length=100)
    ai_mark = forms.CharField(
        required=False,
        max_length=40,
        label="Mark under the photo",
        help_text='A few words printed small under each card\'s photo, such as "AI-edited photo". '
        "Leave empty for none.",
    )
    font_regular = forms.FileField(
        required=False, help_text="TrueType or OpenType, regular weight."
    )
    font_bold = forms.FileField(required=False, help_text="TrueType or OpenType, bold weight.")
    remove_fonts = forms.BooleanField(required=False)


FILE_FIELDS = ("logo", "font_regular", "font_bold")


def _upload(form: BrandForm, name: str, limit: int) -> bytes | None:
    """The bytes of a file chosen now; None when none was (a file field's value can also be
    what it was given as its initial value: never an upload)."""
    upload = form.cleaned_data.get(name)
    if not isinstance(upload, UploadedFile):
        return None
    if (upload.size or 0) > limit:
        raise forms.ValidationError(f"{name.replace('_', ' ')}: the file is too large.")
    return upload.read()


@company_page(roles=MANAGER_ROLES)
def card_settings(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    brand = brand_of(org.brand)
    # The stored files' names are no initial values for the file fields.
    initial = {k: v for k, v in brand.model_dump().items() if k not in FILE_FIELDS}
    form = BrandForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            brand_update(
                organization=org,
                actor=request.user,
                changes={k: v for k, v in form.cleaned_data.items() if k not in FILE_FIELDS},
                logo=_upload(form, "logo", 1_000_000),
                font_regular=_upload(form, "font_regular", 10_000_000),
                font_bold=_upload(form, "font_bold", 10_000_000),
            )
        except forms.ValidationError as exc:
            form.add_error(None, exc)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Card settings saved.")
            return redirect("card-settings", org.slug)
    departments = (
        EmployeeProfile.objects.filter(organization=org)
        .exclude(department="")
        .values_list("department", flat=True)
        .distinct()
        .order_by("department")
    )
    return render(
        request,
        "portal/card_settings.html",
        {"form": form, "brand": brand, "departments": list(departments)},
    )


@company_page(roles=MANAGER_ROLES)
def card_preview(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    brand = brand_of(org.brand)
    png = card_preview_png(company=org.name, brand=org.brand, size=brand.card_size)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@company_page(roles=MANAGER_ROLES)
@require_POST
def card_batch(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    department = request.POST.get("department", "")
    try:
        pdf = business_cards_batch(
            organization=org,
            actor=request.user,
            department=department,
            size=brand_of(org.brand).card_size,
        )
    except ApplicationError as exc:
        return refused(request, exc, "card-settings")
    return _attachment(pdf, "application/pdf", "business-cards.pdf")
