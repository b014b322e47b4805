"""The API's rate limit per person (or token maker): a counter per minute in the shared
cache, one round trip per request.

DRF's default throttle keeps the time of every request of the last window in a list that
it reads and writes back whole on each request: two round trips and up to a minute's
worth of timestamps pickled each way, and two processes answering the same person at once
each overwrite the other's list. A fixed window counted atomically costs one round trip
whatever the rate; at a window's edge a person may briefly reach twice the rate, which the
limit tolerates (it keeps a runaway client from hogging the portal, not a secret safe)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rest_framework.throttling import UserRateThrottle

from apps.core.ratelimit import window_count

if TYPE_CHECKING:  # rest_framework.views imports this module while it is being defined
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ApiRateThrottle(UserRateThrottle):
    duration: int  # the window, and the requests allowed in it (from the rate, by DRF)
    num_requests: int
    retry_after = 1

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        counted = window_count(scope="api", key=key, window_s=self.duration)
        if counted is None:  # the shared cache does not answer: not counted
            return True
        self.retry_after = counted[1]
        return counted[0] <= self.num_requests

    def wait(self) -> float | None:
        return float(self.retry_after)

    def get_cache_key(self, request: Request, view: APIView) -> Any:
        user = request.user
        if user and user.is_authenticated:
            return f"user-{user.pk}"
        return f"address-{self.get_ident(request)}"
