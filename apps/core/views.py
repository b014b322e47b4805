from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Each dependency's state. 503 only when the database does not answer (nothing works
    without it); a cache or broker that does not answer makes the portal "degraded": pages
    still work, jobs wait."""
    from apps.core.health import dependencies

    states = dependencies()
    status = 503 if states["database"] != "ok" else 200
    degraded = any(state == "unavailable" for state in states.values())
    return JsonResponse({"status": "degraded" if degraded else "ok", **states}, status=status)


def _operator(request: HttpRequest) -> bool:
    """Staff signed in, or the monitoring system's bearer token (HEADSHOTS_METRICS_TOKEN)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_staff:
        return True
    token = settings.HEADSHOTS_METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(token) and hmac.compare_digest(given.encode(), token.encode())


@require_GET
def workers_health(request: HttpRequest) -> JsonResponse:
    from apps.core.health import worker_status

    if not _operator(request):
        return JsonResponse({"detail": "Operators only."}, status=403)
    status = worker_status()
    return JsonResponse(status, status=200 if status["status"] == "ok" else 503)


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    from apps.core.health import prometheus_text

    if not _operator(request):
        return HttpResponse("Operators only.\n", status=403, content_type="text/plain")
    return HttpResponse(prometheus_text(), content_type="text/plain; version=0.0.4; charset=utf-8")


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever a page says: the portal's icon (its
    address is looked up when asked, as production's static files have hashed names)."""
    from django.http import HttpResponsePermanentRedirect
    from django.templatetags.static import static

    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))
