"""Middleware of the portal's own: request bodies bounded before anything reads them, and
the security headers Django's SecurityMiddleware does not set (a Content Security Policy
and a Permissions Policy: the camera for selfies on this site only, nothing else)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

# The API docs page loads Swagger UI from its CDN.
DOCS_PREFIX = "/api/docs"
DOCS_SOURCES = "https://cdn.jsdelivr.net"


class SecurityHeaders:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.HEADSHOTS_CSP
        if request.path.startswith(DOCS_PREFIX):
            policy = policy.replace(
                "script-src 'self'", f"script-src 'self' 'unsafe-inline' {DOCS_SOURCES}"
            )
            policy = policy.replace("style-src 'self'", f"style-src 'self' {DOCS_SOURCES}")
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()"
        )
        return response


# Paths whose clients read JSON: their refusals are JSON too.
JSON_PREFIXES = ("/api/", "/scim/")


class RequestSizeLimit:
    """Refuse a request whose declared body is larger than HEADSHOTS_MAX_REQUEST_BYTES
    before anything reads it: no 400 MB body is spooled to disk to be refused afterwards.
    First in the chain, so it runs before the CSRF check and the session. (A body sent
    without a length, chunked, is never read by Django at all.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.HEADSHOTS_MAX_REQUEST_BYTES
        try:
            length = int(declared)
        except ValueError:
            return _refusal(request, 400, "The request's length is not a number.")
        if length < 0:
            return _refusal(request, 400, "The request's length is not a number.")
        if length > limit:
            return _refusal(
                request,
                413,
                f"This is too large to send: at most {limit // (1024 * 1024)} MB at once. "
                "Send a smaller file.",
            )
        return self.get_response(request)


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith(JSON_PREFIXES):
        return JsonResponse({"detail": message}, status=status)
    body = render_to_string("portal/refused.html", {"message": message, "status": status})
    response = HttpResponse(body, status=status)
    response["Connection"] = "close"  # the unread body is not read to keep the connection
    return response
