"""Fixed-window rate limits kept in Django's cache (the shared Redis cache in production,
the process's memory in the one-machine default)."""

from __future__ import annotations

import time

from django.core.cache import cache

from apps.core.errors import TooManyRequests


def rate_limit(*, scope: str, key: str, limit: int, window_s: int, message: str) -> None:
    """Count one event of ``key`` in ``scope``; refuse beyond ``limit`` per window."""
    window = int(time.time() // window_s)
    name = f"rate:{scope}:{key}:{window}"
    cache.add(name, 0, timeout=window_s + 5)
    try:
        count = cache.incr(name)
    except ValueError:  # the entry expired between add and incr
        cache.set(name, 1, timeout=window_s + 5)
        count = 1
    if count > limit:
        retry_after = int((window + 1) * window_s - time.time()) + 1
        raise TooManyRequests(message, extra={"retry_after": retry_after})
