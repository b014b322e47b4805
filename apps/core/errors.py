"""The one family of errors that services raise, with messages a person can act on."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    code = "invalid"


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "forbidden"


class NotFound(ApplicationError):
    """Also raised for rows of another company: existence never leaks across tenants."""

    status_code = 404
    code = "not_found"


def found(queryset: Any, message: str = "Not found.") -> Any:
    """The one row a queryset filtered on a unique key selects, or NotFound. (``get``
    without ordering: ``first()`` would make the database sort by id, and Django compile
    the ordering, for a row that is unique anyway.)"""
    try:
        return queryset.get()
    except queryset.model.DoesNotExist:
        raise NotFound(message) from None


class StateConflict(ApplicationError):
    status_code = 409
    code = "conflict"


class TooManyRequests(ApplicationError):
    """A rate limit: ``extra["retry_after"]`` says in how many seconds to try again."""

    status_code = 429
    code = "rate_limited"


def checked_model(instance: Any, labels: dict[str, str], *, exclude: list[str]) -> None:
    """``full_clean`` with its problems as one ValidationFailed, each field named as the
    settings page names it."""
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(
            "; ".join(
                f"{labels.get(field, field)}: {' '.join(errors)}"
                for field, errors in exc.message_dict.items()
            )
        ) from exc
