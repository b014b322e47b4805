"""Fixed-window rate limits kept in Django's cache (the shared Redis cache in production,
the process's memory in the one-machine default). While the shared cache does not answer,
a limit is not counted: the portal keeps serving (apps.core.cache)."""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

from apps.core.cache import CacheUnavailable, count
from apps.core.errors import TooManyRequests

logger = logging.getLogger(__name__)


def window_count(*, scope: str, key: str, window_s: int) -> tuple[int, int] | None:
    """Count one event of ``key`` in ``scope``: (the events in this window so far, seconds
    until the window ends), or None while the shared cache does not answer."""
    now = time.time()
    window = int(now // window_s)
    try:
        counted = count(cache, f"rate:{scope}:{key}:{window}", window_s + 5)
    except CacheUnavailable:
        logger.warning("rate limit %s not counted: the shared cache does not answer", scope)
        return None
    return counted, int((window + 1) * window_s - now) + 1


def rate_limit(*, scope: str, key: str, limit: int, window_s: int, message: str) -> None:
    """Count one event of ``key`` in ``scope``; refuse beyond ``limit`` per window."""
    counted = window_count(scope=scope, key=key, window_s=window_s)
    if counted is not None and counted[0] > limit:
        raise TooManyRequests(message, extra={"retry_after": counted[1]})
