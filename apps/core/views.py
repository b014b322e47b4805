from __future__ import annotations

import hmac

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except Exception:  # noqa: BLE001 - a health check reports, it does not raise
        database = "unavailable"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "degraded", "database": database}, status=status
    )


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
