"""A Redis outage: pages keep working, sessions survive, password sign-in waits, and
/healthz says which dependency is down. Against a real redis-server the test starts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.redis_server import REDIS

pytestmark = pytest.mark.skipif(REDIS is None, reason="redis-server is not installed")


def _circuit_closed() -> None:
    """Forget the last failure, as a few seconds' wait would."""
    from django.core.cache import cache

    cache._down_until = 0.0


def test_pages_and_sessions_survive_a_redis_outage(acme, client, redis_cache, settings):
    from django.contrib.auth import get_user_model

    client.force_login(acme.hr)
    dashboard = reverse("hr-dashboard", args=[acme.org.slug])
    assert client.get(dashboard).status_code == 200
    assert client.get("/healthz").json()["cache"] == "ok"

    redis_cache.stop()
    page = client.get(dashboard)
    assert page.status_code == 200 and page.wsgi_request.user == acme.hr  # the session held
    api = client.get(f"/api/v1/organizations/{acme.org.slug}/employees/")
    assert api.status_code == 200  # the throttle cannot count, the API still answers
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "degraded",
        "database": "ok",
        "cache": "unavailable",
        "broker": "in-process",
    }
    # Password sign-in cannot count failures without the cache: it waits, and says so.
    settings.HEADSHOTS_LOCAL_SIGNIN = "admins"
    get_user_model().objects.create_superuser("root", "root@acme.example", "a-long-password")
    other = client.__class__()
    refused = other.post(
        reverse("login"), {"action": "password", "username": "root", "password": "a-long-password"}
    )
    assert refused.status_code == 503 and "unavailable for a moment" in refused.content.decode()
    assert not refused.wsgi_request.user.is_authenticated
    admin = other.post(reverse("admin:login"), {"username": "root", "password": "a-long-password"})
    assert not admin.wsgi_request.user.is_authenticated  # no door around it

    redis_cache.start()  # back, empty
    _circuit_closed()
    assert client.get("/healthz").json()["status"] == "ok"
    again = client.get(dashboard)
    assert again.status_code == 200 and again.wsgi_request.user == acme.hr
    signed_in = other.post(
        reverse("login"), {"action": "password", "username": "root", "password": "a-long-password"}
    )
    assert signed_in.status_code == 302 and signed_in.wsgi_request.user.is_authenticated
