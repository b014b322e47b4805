"""Middleware of the portal's own: request bodies bounded before anything reads them, and
the security headers Django's SecurityMiddleware does not set (a Content Security Policy
and a Permissions Policy: the camera for selfies on this site only, nothing else)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


class SecurityHeaders:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.HEADSHOTS_CSP)
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


class TextInputGuard:
    """No NUL character in a query string or a form field reaches a view: no database
    column takes one (PostgreSQL refuses the whole statement), and no person types one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields = [request.GET]
        if request.method == "POST" and request.content_type in FORM_TYPES:
            fields.append(request.POST)
        for query in fields:
            for name, values in query.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return _refusal(
                        request, 400, "The request holds a character that is not text (NUL)."
                    )
        return self.get_response(request)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path.startswith("/scim/"):
        return JsonResponse(
            {"schemas": [SCIM_ERROR], "status": str(status), "detail": message},
            status=status,
            content_type="application/scim+json",
        )
    if request.path.startswith(JSON_PREFIXES):
        return JsonResponse({"detail": message}, status=status)
    body = render_to_string("portal/refused.html", {"message": message, "status": status})
    response = HttpResponse(body, status=status)
    response["Connection"] = "close"  # the unread body is not read to keep the connection
    return response


class DependencyUnavailable:
    """A shared service that stopped answering (the cache for a strict counter, the queue's
    broker when a job is sent) gives a clear 503 page, not a server error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, unavailable_errors()):
            return None
        logger.error(
            "%s %s: a shared service does not answer: %s", request.method, request.path, exception
        )
        response = _refusal(
            request,
            503,
            "The portal cannot finish this right now because one of its services does not "
            "answer. Try again in a minute.",
        )
        response["Retry-After"] = "60"
        return response


def unavailable_errors() -> tuple[type[BaseException], ...]:
    import dramatiq.errors
    from redis.exceptions import RedisError

    from apps.core.cache import CacheUnavailable

    errors: tuple[type[BaseException], ...] = (
        CacheUnavailable,
        RedisError,
        dramatiq.errors.BrokerConnectionError,
    )
    try:
        from pika.exceptions import AMQPConnectionError
    except ImportError:  # only with the RabbitMQ broker
        return errors
    return (*errors, AMQPConnectionError)
