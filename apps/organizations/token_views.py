"""HR's API tokens page: make a token for an integration (its scopes and expiry, shown
once), see each token's scopes, expiry and last use, and revoke it."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from apps.core.errors import ApplicationError, NotFound
from apps.core.text import plain_number
from apps.organizations.models import MANAGER_ROLES, ApiToken
from apps.organizations.tokens import SCOPES, api_token_create, api_token_revoke
from apps.web.pages import CompanyRequest, company_page, refused

EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "One year"), ("", "Never")]


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Which integration uses it, e.g. “Workday sync”."
    )
    scopes = forms.MultipleChoiceField(
        choices=[(scope, words) for scope, words in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        label="What it may do",
    )
    expires = forms.ChoiceField(
        choices=EXPIRY_CHOICES, required=False, initial="90", label="Works for"
    )


@company_page(roles=MANAGER_ROLES)
def tokens_page(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    form = TokenForm(request.POST or None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                value = request.POST.get("token") or ""
                token = ApiToken.objects.filter(
                    organization=org, pk=int(value) if plain_number(value) else 0
                ).first()
                if token is None:
                    raise NotFound("This token does not exist any more.")
                api_token_revoke(organization=org, actor=request.user, token=token)
                messages.success(request, f"{token.name} is revoked: it stops working now.")
                return redirect("api-tokens", org.slug)
            if form.is_valid():
                days = form.cleaned_data["expires"]
                token, raw = api_token_create(
                    organization=org,
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    scopes=form.cleaned_data["scopes"],
                    expires_at=timezone.now() + timedelta(days=int(days)) if days else None,
                )
                # shown on the next page once: the session keeps it for that one view
                request.session[f"new-token-{org.pk}"] = {"name": token.name, "value": raw}
                return redirect("api-tokens", org.slug)
        except ApplicationError as exc:
            return refused(request, exc, "api-tokens")
    fresh = request.session.pop(f"new-token-{org.pk}", None)
    tokens = ApiToken.objects.filter(organization=org).order_by("revoked_at", "-created_at")
    return render(
        request,
        "portal/api_tokens.html",
        {
            "form": form,
            "fresh": fresh,
            "tokens": tokens,
            "scope_words": SCOPES,
            "now": timezone.now(),
        },
    )
