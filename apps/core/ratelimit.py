"""Fixed-window rate limits kept in Django's cache (the shared Redis cache in production,
the process's memory in the one-machine default). While the shared cache does not answer,
a limit is not counted: the portal keeps serving (apps.core.cache)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

from apps.core.cache import CacheUnavailable
from apps.core.errors import TooManyRequests

logger = logging.getLogger(__name__)


def rate_limit(*, scope: str, key: str, limit: int, window_s: int, message: str) -> None:
    """Count one event of ``key`` in ``scope``; refuse beyond ``limit`` per window."""
    window = int(time.time() // window_s)
    name = f"rate:{scope}:{key}:{window}"
    try:
        cache.add(name, 0, timeout=window_s + 5)
        try:
            count = cache.incr(name)
        except ValueError:  # the entry expired between add and incr
            cache.set(name, 1, timeout=window_s + 5)
            count = 1
    except CacheUnavailable:
        logger.warning("rate limit %s not counted: the shared cache does not answer", scope)
        return
    if count > limit:
        retry_after = int((window + 1) * window_s - time.time()) + 1
        raise TooManyRequests(message, extra={"retry_after": retry_after})
