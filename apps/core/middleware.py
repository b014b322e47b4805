"""Security headers Django's SecurityMiddleware does not set: a Content Security Policy
and a Permissions Policy (the camera for selfies on this site only, nothing else)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

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
