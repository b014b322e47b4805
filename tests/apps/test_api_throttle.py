"""The API's rate limit per person: one counter per minute, counted atomically in the
shared cache, a 429 with Retry-After beyond it, and each person counted apart."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache

from apps.web.throttle import ApiRateThrottle


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(ApiRateThrottle, "THROTTLE_RATES", {"user": "3/min"})


def _jobs(client, org):
    return client.get(f"/api/v1/organizations/{org.slug}/jobs/")


@pytest.mark.parametrize("shared", ["memory", "redis"])
def test_the_api_answers_429_past_the_rate_and_counts_each_person_apart(
    acme, client, three_a_minute, shared, request
):
    if shared == "redis":
        request.getfixturevalue("redis_cache")
    cache.clear()
    client.force_login(acme.hr)
    assert [_jobs(client, acme.org).status_code for _ in range(3)] == [200, 200, 200]
    refused = _jobs(client, acme.org)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 61
    other = client.__class__()
    other.force_login(acme.employee_user)
    assert _jobs(other, acme.org).status_code == 200


def test_concurrent_requests_are_each_counted_once(acme, redis_cache):
    """Two web processes answering one person at once must not lose each other's counts
    (the list that DRF's default throttle rewrites whole would)."""
    from apps.core.cache import count

    def bump() -> None:
        for _ in range(50):
            count(cache, "rate:test:someone", 60)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("rate:test:someone") == 400
    assert 55 <= cache._cache.get_client().ttl(cache.make_key("rate:test:someone")) <= 60
