from __future__ import annotations

from django.db.models import QuerySet

from apps.core.errors import NotFound, found
from apps.organizations.models import Organization
from apps.presets.models import BrandPreset, BrandPresetVersion
from pipeline.presets import BrandPreset as PresetSpec


def preset_list(*, organization: Organization) -> QuerySet[BrandPreset]:
    return BrandPreset.objects.filter(organization=organization, archived=False).order_by("name")


def preset_get(*, organization: Organization, slug: str) -> BrandPreset:
    # a slug from a form is any text: only one that could be a slug is looked up
    fits = 0 < len(slug) <= 80 and all(c.isascii() and (c.isalnum() or c in "-_") for c in slug)
    preset = (
        BrandPreset.objects.filter(organization=organization, slug=slug).first() if fits else None
    )
    if preset is None:
        raise NotFound(f"No brand preset {slug!r} in this company.")
    return preset


def preset_version_latest(*, organization: Organization, preset: BrandPreset) -> BrandPresetVersion:
    version = (
        BrandPresetVersion.objects.filter(organization=organization, preset=preset)
        .order_by("-number")
        .first()
    )
    if version is None:
        raise NotFound(f"Brand preset {preset.slug!r} has no version.")
    return version


def preset_version_get(*, organization: Organization, pk: int) -> BrandPresetVersion:
    return found(BrandPresetVersion.objects.filter(organization=organization, pk=pk))


def preset_version_spec(version: BrandPresetVersion) -> PresetSpec:
    return PresetSpec.from_mapping(version.spec)
