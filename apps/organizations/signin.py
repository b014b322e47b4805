"""Signing in: company single sign-on found from the e-mail address, and a local password
only for the bootstrap administrator, with a limit on failed attempts."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.views import PasswordResetView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.core.cache import CacheUnavailable
from apps.core.errors import ApplicationError
from apps.core.ratelimit import rate_limit
from apps.core.text import text_problem
from apps.organizations.account_views import signin_links_mail
from apps.organizations.lockout import BACKEND, address_of, failure_record, is_locked
from apps.organizations.models import IdentityProvider
from apps.organizations.sso import oidc_client, provider_for_email, sso_sign_in

logger = logging.getLogger(__name__)


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and request.POST.get("action") == "password":
        return _password(request)
    if request.method == "POST":
        email = request.POST.get("email", "").strip()
        provider = provider_for_email(email)
        if provider is None:
            try:
                mailed = bool(email) and _link_mailed(request, email)
            except ApplicationError as exc:  # too many links asked for
                messages.error(request, exc.message)
            else:
                if mailed:
                    messages.success(
                        request,
                        f"We have sent a sign-in link to {email}. It works once, for 30 minutes.",
                    )
                else:
                    messages.error(
                        request,
                        "No single sign-on is set up for this address, and nobody with it "
                        "uses the portal without one. Check the address, or ask your HR team.",
                    )
            return redirect(f"{reverse('login')}?next={_next(request)}")
        request.session["sso_next"] = _next(request)
        request.session["sso_hint"] = email
        # A page that moves on by itself rather than a redirect: the sign-in form may only
        # submit to this site (CSP form-action), and the company's provider is elsewhere.
        return render(
            request,
            "registration/sso_continue.html",
            {
                "url": reverse("sso-start", args=[provider.organization.slug]),
                "company": None,
                "provider_company": provider.organization.name,
            },
        )
    return render(
        request,
        "registration/login.html",
        {"next": _next(request), "password_for_all": settings.HEADSHOTS_LOCAL_SIGNIN == "everyone"},
    )


def _link_mailed(request: HttpRequest, email: str) -> bool:
    """A sign-in link mailed to a member of a company without single sign-on, a few an
    hour at most per address and per client."""
    _mail_limits(
        request,
        email,
        scope="signin-link",
        from_here="Too many sign-in links asked for from here. Try again in an hour.",
        for_address="Too many sign-in links for this address. Try again in an hour.",
    )
    if text_problem(email, limit=254, what="The address") or "@" not in email:
        return False  # nobody's address: nothing to look up
    return signin_links_mail(email)


def _password(request: HttpRequest) -> HttpResponse:
    username = request.POST.get("username", "").strip().lower()[:150]
    address = address_of(request)
    try:
        locked = is_locked(username, address)
    except CacheUnavailable:
        return _problem(
            request,
            "Password sign-in is unavailable for a moment. Try again in a minute; signing in "
            "with your company account still works.",
            503,
        )
    if locked:
        messages.error(request, "Too many failed attempts. Wait 15 minutes, then try again.")
        return redirect("login")
    user = authenticate(request, username=username, password=request.POST.get("password", ""))
    if user is not None and not local_password_allowed(user):
        failure_record(username, address)  # right password, but not for this door
        user = None
    if user is None:
        messages.error(
            request,
            "These credentials cannot sign in here. People sign in with their company account.",
        )
        return redirect("login")
    login(request, user)
    return redirect(_next(request))


def local_password_allowed(user: Any) -> bool:
    """Who may sign in with a password at all: the platform's superusers, or everyone on a
    trial without an identity provider (HEADSHOTS_LOCAL_SIGNIN=everyone)."""
    return bool(
        user.is_active
        and user.has_usable_password()
        and (settings.HEADSHOTS_LOCAL_SIGNIN == "everyone" or user.is_superuser)
    )


class LocalPasswordResetForm(PasswordResetForm):
    """Reset mails only for people who may sign in with a password: never for an account
    that signs in through its company (it has no password to reset)."""

    def get_users(self, email: str) -> Any:
        return (user for user in super().get_users(email) if local_password_allowed(user))


RESETS_PER_ADDRESS_PER_HOUR = 3
RESETS_PER_CLIENT_PER_HOUR = 10


def _mail_limits(
    request: HttpRequest, email: str, *, scope: str, from_here: str, for_address: str
) -> None:
    """The limits on a mail sent on request (a reset or a sign-in link): per client
    address and per e-mail address (nobody's inbox is flooded); RateLimited beyond."""
    rate_limit(
        scope=f"{scope}-ip",
        key=address_of(request),
        limit=RESETS_PER_CLIENT_PER_HOUR,
        window_s=3600,
        message=from_here,
    )
    rate_limit(
        scope=scope,
        key=email.lower()[:254],
        limit=RESETS_PER_ADDRESS_PER_HOUR,
        window_s=3600,
        message=for_address,
    )


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """Django's reset page with a limit on the mails it sends: per e-mail address (nobody's
    inbox is flooded) and per client address."""
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()[:254]
        try:
            _mail_limits(
                request,
                email,
                scope="password-reset",
                from_here="Too many reset requests from here. Try again in an hour.",
                for_address="A reset link was sent to this address several times already. "
                "Check the inbox, or try again in an hour.",
            )
        except ApplicationError as exc:
            return _problem(request, exc.message, exc.status_code)
    return cast(HttpResponse, PasswordResetView.as_view(form_class=LocalPasswordResetForm)(request))


def sso_start(request: HttpRequest, org: str) -> HttpResponse:
    provider = _provider(org)
    if provider is None:
        return _problem(request, "This company has no single sign-on set up.", 404)
    try:
        if provider.kind == IdentityProvider.Kind.SAML:
            from apps.organizations.saml import saml_login_url

            return redirect(saml_login_url(provider, request.session.get("sso_next", "/")))
        client = oidc_client(provider)
        redirect_uri = request.build_absolute_uri(reverse("sso-callback", args=[org]))
        hint = request.session.get("sso_hint", "")
        return client.authorize_redirect(
            request, redirect_uri, **({"login_hint": hint} if hint else {})
        )
    except ApplicationError as exc:
        return _problem(request, exc.message, exc.status_code)
    except Exception:  # the provider does not answer, or answers nonsense
        logger.exception("single sign-on could not start for %s", org)
        return _problem(
            request, "Your company's sign-in service does not answer. Try again in a minute.", 502
        )


def sso_callback(request: HttpRequest, org: str) -> HttpResponse:
    from authlib.integrations.base_client.errors import OAuthError
    from joserfc.errors import JoseError

    provider = _provider(org)
    if provider is None:
        return _problem(request, "This company has no single sign-on set up.", 404)
    try:
        token = oidc_client(provider).authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        user = sso_sign_in(provider=provider, claims=claims)
    except ApplicationError as exc:
        return _problem(request, exc.message, exc.status_code)
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        logger.warning("single sign-on refused for %s: %s", org, exc)
        return _problem(
            request, "The sign-in could not be verified. Start again from the sign-in page.", 400
        )
    login(request, user, backend=BACKEND)
    target = request.session.pop("sso_next", "/")
    request.session.pop("sso_hint", None)
    return redirect(target if target != "/" else reverse("company-home", args=[org]))


def _problem(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(
        request,
        "portal/refused.html",
        {"message": message, "status": status, "heading": "Signing in did not work"},
        status=status,
    )


def _provider(org: str, kind: str | None = None) -> IdentityProvider | None:
    providers = IdentityProvider.objects.select_related("organization").filter(
        organization__slug=org, enabled=True
    )
    return (providers.filter(kind=kind) if kind else providers).first()


def _saml_provider(org: str) -> IdentityProvider | None:
    return _provider(org, IdentityProvider.Kind.SAML)


@csrf_exempt  # the identity provider posts here from its own site; the assertion is the proof
@require_http_methods(["POST"])
def saml_acs(request: HttpRequest, org: str) -> HttpResponse:
    from apps.organizations.saml import saml_claims

    provider = _saml_provider(org)
    if provider is None:
        return _problem(request, "This company has no SAML sign-on set up.", 404)
    response = request.POST.get("SAMLResponse", "")
    if not response or len(response) > 1_000_000:
        return _problem(request, "The identity provider sent no usable answer.", 400)
    try:
        claims, target = saml_claims(provider, response, request.POST.get("RelayState", ""))
        user = sso_sign_in(provider=provider, claims=claims)
    except ApplicationError as exc:
        return _problem(request, exc.message, exc.status_code)
    login(request, user, backend=BACKEND)
    if (
        not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        or target == "/"
    ):
        target = reverse("company-home", args=[org])
    return redirect(target)


def saml_metadata(request: HttpRequest, org: str) -> HttpResponse:
    """The portal's service-provider metadata, for the company's identity provider."""
    from apps.organizations.saml import sp_metadata

    provider = _saml_provider(org)
    if provider is None:
        return _problem(request, "This company has no SAML sign-on set up.", 404)
    try:
        return HttpResponse(sp_metadata(provider), content_type="application/samlmetadata+xml")
    except ApplicationError as exc:
        return _problem(request, exc.message, exc.status_code)
