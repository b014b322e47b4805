"""HR's pages for Microsoft Entra ID and Google Workspace: settings with a write-only
credential, "test connection", a dry run, "sync now", and every person's result."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.errors import ApplicationError
from apps.core.queue import enqueue
from apps.organizations.models import MANAGER_ROLES
from apps.organizations.tenant_secrets import MAX_SECRET_CHARS, secret_state
from apps.publishing.cloud_settings import FIELDS, LABELS, cloud_directory_save
from apps.publishing.cloud_sync import cloud_connection_test, cloud_sync
from apps.publishing.models import CloudDirectory, CloudKind, Publication, PublicationStatus
from apps.web.pages import CompanyRequest, company_page

# the address's word for each target, and the model's
KINDS = {"microsoft": CloudKind.GRAPH, "google": CloudKind.GOOGLE}
SHOWN = 500
CREDENTIAL_HELP = {
    CloudKind.GRAPH: "The application's client secret (its value, not its ID), or the private "
    "key (PEM) of the certificate below. Stored encrypted and never shown again; leave empty "
    "to keep the current one.",
    CloudKind.GOOGLE: "The service account's JSON key file, pasted whole. Stored encrypted and "
    "never shown again; leave empty to keep the current one.",
}


def _kind(name: str) -> CloudKind:
    if name not in KINDS:
        raise Http404("No such directory.")
    return KINDS[name]


def _form(kind: CloudKind, data: Any, directory: CloudDirectory | None) -> forms.ModelForm:
    class CloudForm(forms.ModelForm):
        credential = forms.CharField(
            label="Client secret or private key" if kind == CloudKind.GRAPH else "Key file",
            required=False,
            max_length=MAX_SECRET_CHARS,
            widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}),
            help_text=CREDENTIAL_HELP[kind],
        )
        forget_credential = forms.BooleanField(label="Remove the stored credential", required=False)
        field_order = [
            "enabled",
            "tenant_id",
            "client_id",
            "admin_email",
            "credential",
            "certificate",
            "match_by",
        ]

        class Meta:
            model = CloudDirectory
            fields = list(FIELDS[kind])
            labels = LABELS
            widgets = {"certificate": forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})}
            help_texts = {
                "certificate": "The certificate (PEM) uploaded to the app registration, when the "
                "credential is its private key. Leave empty for a client secret.",
                "match_by": "Entra ID finds people by their user principal name (usually the "
                "work address), their mail address, or their object id (the identity provider's "
                "id for them, given by SCIM).",
                "admin_email": "A Google Workspace administrator; the service account acts as "
                "them through domain-wide delegation.",
            }

    return CloudForm(data or None, instance=directory)


@company_page(roles=MANAGER_ROLES)
def cloud_directory_page(request: CompanyRequest, target: str) -> HttpResponse:
    org = request.organization
    kind = _kind(target)
    directory = CloudDirectory.objects.filter(organization=org, kind=kind).first()
    form = _form(kind, request.POST if request.method == "POST" else None, directory)
    if request.method == "POST" and form.is_valid():
        try:
            cloud_directory_save(
                organization=org,
                actor=request.user,
                kind=kind,
                values={name: form.cleaned_data[name] for name in FIELDS[kind]},
                credential=form.cleaned_data["credential"],
                forget_credential=form.cleaned_data["forget_credential"],
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Settings saved. Test the connection next.")
            return redirect("cloud-directory", org.slug, target)
    results = (
        Publication.objects.filter(organization=org, target=directory.target)
        .select_related("employee")
        .order_by("status", "employee__full_name")[:SHOWN]
        if directory
        else []
    )
    return render(
        request,
        "portal/cloud_directory.html",
        {
            "form": form,
            "kind": kind,
            "target": target,
            "directory": directory,
            "report": request.session.pop(f"cloud-dry-run-{org.pk}-{kind}", None),
            "results": results,
            "shown": SHOWN,
            "failed": PublicationStatus.FAILED,
            "credential": secret_state(
                kind=kind, organization=org, sealed=directory.credential_sealed if directory else ""
            ),
        },
    )


@company_page(roles=MANAGER_ROLES)
@require_POST
def cloud_directory_test(request: CompanyRequest, target: str) -> HttpResponse:
    org = request.organization
    try:
        messages.success(request, cloud_connection_test(organization=org, kind=_kind(target)))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("cloud-directory", org.slug, target)


@company_page(roles=MANAGER_ROLES)
@require_POST
def cloud_directory_dry_run(request: CompanyRequest, target: str) -> HttpResponse:
    """What the next sync would change there, without sending anything."""
    org = request.organization
    kind = _kind(target)
    try:
        report = cloud_sync(organization=org, kind=kind, dry_run=True)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("cloud-directory", org.slug, target)
    request.session[f"cloud-dry-run-{org.pk}-{kind}"] = {
        "counts": report["counts"],
        "entries": report["entries"][:SHOWN],
        "total": len(report["entries"]),
    }
    return redirect("cloud-directory", org.slug, target)


@company_page(roles=MANAGER_ROLES)
@require_POST
def directory_sync_now(request: CompanyRequest) -> HttpResponse:
    """Every directory target of the company, now rather than at the next hour."""
    org = request.organization
    enqueue("directory_sync", org.pk)
    messages.success(
        request,
        "The sync has started. Each person's result appears here when it is done; reload the "
        "page in a minute.",
    )
    back = request.POST.get("back", "")
    if back in KINDS:
        return redirect("cloud-directory", org.slug, back)
    return redirect("directory-settings", org.slug)
