"""The shared cache, made to survive a Redis outage.

Most of what the portal keeps in the cache can be lost or recomputed: cached sessions
(written through to the database), the API's throttle history, rate-limit counters. A
Redis that stops answering must not take every page down, so reads answer "not cached"
and writes are dropped, with one log line per outage. After a failure Redis is not asked
again for a few seconds, so requests do not each wait for a connection timeout.

Two things must not silently work without the cache: counters that protect against
guessing (sign-in failures). ``add`` and ``incr``, which they use, raise
``CacheUnavailable``; their callers decide (apps.core.ratelimit).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER_S = 5.0


class CacheUnavailable(Exception):
    """The shared cache does not answer."""


class SharedClients(RedisCacheClient):
    """Django's client makes a new ``redis.Redis`` object for every command, which costs
    more than the command's round trip on loopback; one per connection pool is enough
    (a client takes a pooled connection per command and is safe across threads)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)  # type: ignore[attr-defined]
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = super().get_client(key, write=write)
        return client


class ResilientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        # A Redis that does not answer must cost a request milliseconds, not seconds.
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 0.5)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = SharedClients
        self._down_until = 0.0
        self._lock = threading.Lock()

    # -- the circuit ----------------------------------------------------------------------
    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            if self._available():
                logger.error("the shared cache (Redis) does not answer: %s", exc)
            self._down_until = time.monotonic() + RETRY_AFTER_S

    def _call(self, name: str, default: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._available():
            return default
        try:
            return getattr(super(), name)(*args, **kwargs)
        except RedisError as exc:
            self._failed(exc)
            return default

    def _strict(self, name: str, *args: Any, **kwargs: Any) -> Any:
        if not self._available():
            raise CacheUnavailable("the shared cache does not answer")
        try:
            return getattr(super(), name)(*args, **kwargs)
        except RedisError as exc:
            self._failed(exc)
            raise CacheUnavailable("the shared cache does not answer") from exc

    # -- reads: "not cached" --------------------------------------------------------------
    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._call("get", default, key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._call("get_many", {}, keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._call("has_key", False, key, version)

    # -- writes that may be lost ----------------------------------------------------------
    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:  # noqa: A003
        self._call("set", None, key, value, timeout, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("set_many", list(data), data, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("touch", False, key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._call("delete", False, key, version)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._call("delete_many", None, keys, version)

    def clear(self) -> Any:
        return self._call("clear", False)

    # -- counters: the caller decides -----------------------------------------------------
    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._strict("add", key, value, timeout, version)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._strict("incr", key, delta, version)

    def count(self, key: Any, timeout: int) -> int:
        """Add one to a counter that lives ``timeout`` seconds from its first count, and
        return it: one round trip (the counter is made and counted in one pipeline)."""
        if not self._available():
            raise CacheUnavailable("the shared cache does not answer")
        name = self.make_and_validate_key(key)
        try:
            with self._cache.get_client(name, write=True).pipeline(transaction=False) as pipe:
                pipe.set(name, 0, ex=timeout, nx=True)
                pipe.incr(name)
                return int(pipe.execute()[1])
        except RedisError as exc:
            self._failed(exc)
            raise CacheUnavailable("the shared cache does not answer") from exc

    def ping(self) -> bool:
        """For the health check: whether Redis answers now (asked even when the circuit
        is open, so that recovery shows at once)."""
        try:
            return bool(self._cache.get_client().ping())
        except RedisError:
            return False


def count(cache: BaseCache, key: str, timeout: int) -> int:
    """Add one to the counter ``key`` (made with a life of ``timeout`` seconds on its first
    count) and return it. Raises ``CacheUnavailable`` while the shared cache is down."""
    one_trip = getattr(cache, "count", None)  # (``django.core.cache.cache`` is a proxy)
    if one_trip is not None:
        return int(one_trip(key, timeout))
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # the entry expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1
