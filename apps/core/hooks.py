"""What the feature apps do when something happens to a person, registered by each app in
its ``AppConfig.ready`` (as the scheduler's tasks and the media kinds are). The app where
it happens fires the event without importing the apps that act on it, so dependencies
point one way: organizations and photos never reach up into generation or publishing.

Events and their keyword arguments:

- ``person.left``         organization, employee, actor: their running work stops
- ``biometrics.erase``    organization, employee, actor, reason: selfies and embeddings go
- ``face.withdrawn``      organization, employee, actor, reason: consent withdrawn, their
                          data deleted or a leaver purged: every use of the face ends
- ``person.exported``     organization, employee, archive (a ZipFile), record (a dict):
                          each app adds what it holds about the person
- ``headshot.approved``   organization, headshot, actor: what follows an approval
- ``person.moved``        organization_id, employee_ids: a bulk change that may have
                          moved these people along the journey (apps.core.journey)

A handler returns counts (``{"headshots": 3}``) or None; ``fire`` adds them up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

EVENTS = frozenset(
    {
        "person.left",
        "biometrics.erase",
        "face.withdrawn",
        "person.exported",
        "headshot.approved",
        "person.moved",
    }
)
Handler = Callable[..., dict[str, int] | None]
_HANDLERS: dict[str, list[tuple[str, Handler]]] = {event: [] for event in EVENTS}


def register(event: str, name: str, handler: Handler) -> None:
    """``name`` identifies the handler: registering it again (a test re-running ready())
    replaces it instead of running it twice."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; known: {sorted(EVENTS)}")
    handlers = [(n, h) for n, h in _HANDLERS[event] if n != name]
    _HANDLERS[event] = [*handlers, (name, handler)]


def fire(event: str, **kwargs: Any) -> dict[str, int]:
    """Run every handler of ``event`` in the order they were registered; their counts."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; known: {sorted(EVENTS)}")
    counts: Counter[str] = Counter()
    for _, handler in _HANDLERS[event]:
        counts.update(handler(**kwargs) or {})
    return dict(counts)
