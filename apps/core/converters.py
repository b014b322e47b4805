"""Path converters: an id is a positive integer that fits a database's bigint, so an
absurd number in an address is a 404, not an overflow deep in the database driver."""

from __future__ import annotations


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


def register() -> None:
    """Make <id:...> usable in path(); every URL module that uses it calls this first."""
    from django.urls import register_converter
    from django.urls.converters import get_converters

    if "id" not in get_converters():
        register_converter(IdConverter, "id")
