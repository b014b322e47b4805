"""Password sign-in, wherever it happens (the portal's sign-in page, the admin's, any
other caller of ``authenticate``): five failures per account or per address in 15
minutes lock password sign-in for that account and that address.

The lock lives in the authentication backend, the one place every password check
passes through, so no sign-in form can forget it.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.core.cache import CacheUnavailable

logger = logging.getLogger(__name__)

FAILURES_ALLOWED = 5  # per account and per address, in FAILURE_WINDOW_S
FAILURE_WINDOW_S = 900
BACKEND = "apps.organizations.lockout.LockoutBackend"


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"signin-failed:{username.strip().lower()[:150]}", f"signin-failed-ip:{address}"


def address_of(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


def is_locked(username: str, address: str) -> bool:
    """Whether password sign-in is locked for this account or address. Without the shared
    cache the failures cannot be counted: CacheUnavailable, and no password is checked."""
    keys = _keys(username, address)
    for key in keys:
        cache.add(key, 0, FAILURE_WINDOW_S)  # raises CacheUnavailable when Redis is down
    return any((cache.get(key) or 0) >= FAILURES_ALLOWED for key in keys)


def failure_record(username: str, address: str) -> None:
    for key in _keys(username, address):
        try:
            if not cache.add(key, 1, FAILURE_WINDOW_S):
                try:
                    cache.incr(key)
                except ValueError:  # expired between the two calls
                    cache.set(key, 1, FAILURE_WINDOW_S)
        except CacheUnavailable:
            break  # is_locked refuses every password while the cache is down
    logger.warning("password sign-in refused for %r from %s", username[:150], address)


class LockoutBackend(ModelBackend):
    """Django's own password check, refused outright while the account or the address is
    locked (PermissionDenied stops every other backend too), each failure counted."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        name = str(username or kwargs.get("email") or "")
        address = address_of(request)
        try:
            locked = is_locked(name, address)
        except CacheUnavailable:
            locked = True  # no counting, no guessing
        if locked:
            raise PermissionDenied("password sign-in is locked for a while")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None and password is not None:
            failure_record(name, address)
        return user
