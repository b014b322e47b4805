"""Rows whose changes move a person along the journey to a published headshot (consent,
photos, generation jobs, headshots, publications, the person's own status).

HR's people dashboard keeps where each person stands on the person's row, so that a
company of thousands is counted and paged by index. Each of these models names the fields
that can move a person (``JOURNEY_FIELDS``) and the field naming the person
(``JOURNEY_PERSON``); a save goes through Django's ``post_save`` (the people app listens),
and a bulk ``update`` of one of those fields through this queryset, which fires the
``person.moved`` hook for each person it touched. Nothing below the people app has to
remember to tell it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import models

from apps.core import hooks


def moved(rows: Iterable[tuple[int, int]]) -> None:
    """Tell the people app that these (company id, person id) pairs may have moved."""
    by_company: dict[int, set[int]] = defaultdict(set)
    for organization_id, employee_id in rows:
        if employee_id is not None:
            by_company[organization_id].add(employee_id)
    for organization_id, employee_ids in by_company.items():
        hooks.fire("person.moved", organization_id=organization_id, employee_ids=employee_ids)


def moves_person(model: Any, fields: dict[str, Any]) -> bool:
    """Whether writing ``fields`` to rows of ``model`` can move their people: a field of
    its ``JOURNEY_FIELDS``, unless the model's own ``journey_moved_by`` says otherwise."""
    if not getattr(model, "JOURNEY_FIELDS", frozenset()).intersection(fields):
        return False
    decide = getattr(model, "journey_moved_by", None)
    return True if decide is None else bool(decide(fields))


class JourneyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        if not moves_person(self.model, kwargs):
            return super().update(**kwargs)
        person = self.model.JOURNEY_PERSON
        touched = list(self.values_list("organization_id", person).distinct())
        count = super().update(**kwargs)
        if count:
            moved(touched)
        return count
