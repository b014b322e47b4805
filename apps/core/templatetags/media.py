from __future__ import annotations

from typing import Any

from django import template

from apps.core.media import media_link

register = template.Library()


@register.simple_tag(takes_context=True)
def media_url(context: dict[str, Any], kind: str, pk: int, width: int | None = None) -> str:
    """{% media_url "headshot" headshot.pk 480 %}: a signed link for the page's viewer."""
    return media_link(kind=kind, pk=pk, user=context["request"].user, width=width)
