"""Pushing photos to a cloud directory: the same rules for every target.

Only changed photos are sent (the hash of what was last sent is kept per person, so an
unchanged re-run makes no request at all); leavers' photos are deleted; several requests
are in flight at once, and a throttled answer (429, or Google's quota errors) pauses
every worker for its ``Retry-After`` before the request is tried again; an unavailable
service is retried with backoff; one person's failure never stops the batch. A refused
credential or a missing permission stops the run at once: every other request would be
refused the same way."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from apps.publishing.cloud_clients import PhotoClient, TargetError

logger = logging.getLogger(__name__)

MAX_TRIES = 6
BACKOFF_S = 1.0  # doubled at each try, for an unavailable service


@dataclass(frozen=True)
class Push:
    key: str  # the employee, as the caller knows them
    match_value: str  # what the target knows them by
    photo: bytes | None  # None: their photo must leave the target
    photo_sha256: str = ""
    sent_sha256: str = ""  # what was sent last time ("" when nothing is there)
    ref: str = ""  # the target's id for them, when already found


@dataclass(frozen=True)
class PushOutcome:
    key: str
    match_value: str
    action: str  # write, remove, unchanged, not_found, failed
    ref: str = ""
    photo_sha256: str = ""
    error: str = ""
    done: bool = False  # written or removed in a real run
    retry: bool = False  # failed because the service was busy or away: the task tries again


class Gate:
    """Shared by the workers. When the service says wait, everyone waits; and each
    throttled answer halves the requests allowed in flight, which grow back by one after
    as many successes (additive increase, multiplicative decrease): the sync settles just
    under the service's rate instead of running into it again and again."""

    def __init__(self, most: int = 4) -> None:
        self.most = self.limit = max(1, most)
        self.in_flight = 0
        self.throttled = 0
        self._successes = 0
        self._resume_at = 0.0
        self._lock = threading.Condition()

    def enter(self) -> None:
        with self._lock:
            while True:
                delay = self._resume_at - time.monotonic()
                if delay > 0:
                    self._lock.wait(delay)
                elif self.in_flight < self.limit:
                    self.in_flight += 1
                    return
                else:
                    self._lock.wait()

    def leave(self, *, ok: bool) -> None:
        with self._lock:
            self.in_flight -= 1
            if ok:
                self._successes += 1
                if self._successes >= self.limit and self.limit < self.most:
                    self.limit += 1
                    self._successes = 0
            self._lock.notify_all()

    def pause(self, seconds: float) -> None:
        with self._lock:
            self.throttled += 1
            self.limit = max(1, self.limit // 2)
            self._successes = 0
            self._resume_at = max(self._resume_at, time.monotonic() + seconds)
            self._lock.notify_all()


class Stop(Exception):
    """The whole run cannot go on (the credential or the permission)."""


def _planned(push: Push) -> str:
    if push.photo is None:
        return "remove" if push.sent_sha256 else "unchanged"
    return "unchanged" if push.photo_sha256 == push.sent_sha256 else "write"


def push_photos(
    client: PhotoClient,
    pushes: list[Push],
    *,
    dry_run: bool,
    concurrency: int = 4,
    progress: Callable[[int, int], None] | None = None,
    gate: Gate | None = None,
) -> list[PushOutcome]:
    """Every person's outcome, in the order given. Raises TargetError (kind
    ``credentials`` or ``permission``) when the target refuses the run as a whole."""
    gate = gate or Gate(concurrency)
    outcomes: list[PushOutcome | None] = [None] * len(pushes)
    to_send = []
    for index, push in enumerate(pushes):
        action = _planned(push)
        if action == "unchanged" or dry_run:
            outcomes[index] = PushOutcome(
                push.key, push.match_value, action, push.ref, push.photo_sha256
            )
        else:
            to_send.append(index)
    stopped: list[TargetError] = []
    finished = [len(pushes) - len(to_send)]
    lock = threading.Lock()

    def run(index: int) -> None:
        if stopped:
            return
        try:
            outcome = _send(client, pushes[index], gate)
        except Stop as exc:
            stopped.append(exc.args[0])
            return
        outcomes[index] = outcome
        with lock:
            finished[0] += 1
            if progress is not None:
                progress(finished[0], len(pushes))

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        list(pool.map(run, to_send))
    if stopped:
        raise stopped[0]
    return [o for o in outcomes if o is not None]


def _attempt(client: PhotoClient, push: Push, action: str, known: list[str]) -> PushOutcome:
    """One try: find the person when not known yet (kept in ``known`` for the next try),
    then put or delete the photo."""
    if not known[0]:
        found = client.resolve(push.match_value)
        if found is None:
            return PushOutcome(push.key, push.match_value, "not_found")
        known[0] = found
    ref = known[0]
    if action == "write":
        assert push.photo is not None
        client.put_photo(ref, push.photo)
    else:
        client.delete_photo(ref)
    return PushOutcome(push.key, push.match_value, action, ref, push.photo_sha256, done=True)


def _send(client: PhotoClient, push: Push, gate: Gate) -> PushOutcome:
    action = _planned(push)
    last = ""
    busy = False
    known = [push.ref]  # the target's id for the person, once found
    for attempt in range(MAX_TRIES):
        gate.enter()
        try:
            outcome = _attempt(client, push, action, known)
        except TargetError as exc:
            gate.leave(ok=False)
            last = str(exc)
            busy = exc.kind in {"throttled", "unavailable"}
            if exc.kind == "throttled":
                gate.pause(exc.retry_after or 1.0)
            elif exc.kind == "unavailable":
                time.sleep(max(exc.retry_after, BACKOFF_S * 2**attempt) if attempt else 0.1)
            elif exc.kind == "not_found":
                if action == "remove":  # already gone: nothing to remove
                    return PushOutcome(push.key, push.match_value, action, known[0], done=True)
                return PushOutcome(push.key, push.match_value, "not_found", error=last)
            elif exc.kind in {"credentials", "permission"}:
                raise Stop(exc) from exc
            else:
                return PushOutcome(push.key, push.match_value, "failed", known[0], error=last)
        else:
            gate.leave(ok=True)
            return outcome
    return PushOutcome(
        push.key,
        push.match_value,
        "failed",
        known[0],
        error=f"{last}; tried {MAX_TRIES} times",
        retry=busy,
    )
