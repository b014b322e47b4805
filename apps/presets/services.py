from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_record
from apps.core.errors import StateConflict, ValidationFailed
from apps.organizations.models import MANAGER_ROLES, Organization
from apps.organizations.selectors import require_role
from apps.presets.models import BrandPreset, BrandPresetVersion
from pipeline.presets import BrandPreset as PresetSpec
from pipeline.presets import PresetInvalid, load_shipped


def offered_identity_methods() -> list[str]:
    """The identity methods this installation's GPU workers offer styles."""
    conf = settings.HEADSHOTS
    return sorted({conf["IDENTITY_METHOD"], *conf["IDENTITY_METHODS"]})


def preset_spec_validated(spec: dict[str, Any]) -> dict[str, Any]:
    """The preset as stored, or ValidationFailed listing every problem."""
    try:
        clean = PresetSpec.from_mapping(spec).model_dump(mode="json")
    except PresetInvalid as exc:
        raise ValidationFailed(
            "The preset is not valid: " + "; ".join(exc.problems), extra={"problems": exc.problems}
        ) from exc
    method = clean["generation"].get("identity_method")
    if method and settings.HEADSHOTS["GENERATION_BACKEND"] == "diffusion":
        offered = offered_identity_methods()
        if method not in offered:
            problem = (
                f"generation.identity_method: this installation does not offer {method!r}; "
                f"choose one of {', '.join(offered)}, or leave it empty for the default"
            )
            raise ValidationFailed(
                "The preset is not valid: " + problem, extra={"problems": [problem]}
            )
    return clean


@transaction.atomic
def brand_preset_create(
    *, organization: Organization, actor: User | None, spec: dict[str, Any]
) -> BrandPresetVersion:
    if actor is not None:
        require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    clean = preset_spec_validated(spec)
    if BrandPreset.objects.filter(organization=organization, slug=clean["slug"]).exists():
        raise StateConflict(
            f"A preset {clean['slug']!r} already exists; edit it to make a new version."
        )
    preset = BrandPreset.objects.create(
        organization=organization, slug=clean["slug"], name=clean["name"]
    )
    version = BrandPresetVersion.objects.create(
        organization=organization, preset=preset, number=1, spec=clean, created_by=actor
    )
    audit_record(
        organization=organization,
        actor=actor,
        action="preset.created",
        target=version,
        data={"slug": preset.slug, "version": 1},
    )
    return version


@transaction.atomic
def brand_preset_update(
    *,
    organization: Organization,
    actor: User | None,
    preset: BrandPreset,
    spec: dict[str, Any],
) -> BrandPresetVersion:
    """Edit a preset. The latest version is edited in place while no job has used it;
    once used it is locked and the edit becomes a new version."""
    if actor is not None:
        require_role(organization=organization, user=actor, roles=MANAGER_ROLES)
    if preset.organization_id != organization.pk:
        raise StateConflict("This preset belongs to another company.")
    clean = preset_spec_validated(spec)
    if clean["slug"] != preset.slug:
        raise ValidationFailed(
            f"slug: a preset keeps its slug ({preset.slug!r}); create a new preset instead."
        )
    latest = (
        BrandPresetVersion.objects.select_for_update()
        .filter(preset=preset)
        .order_by("-number")
        .first()
    )
    if latest is not None and latest.spec == clean:
        return latest
    if latest is not None and not latest.is_locked:
        updated = BrandPresetVersion.objects.filter(pk=latest.pk, locked_at__isnull=True).update(
            spec=clean, updated_at=timezone.now()
        )
        if updated == 1:
            latest.refresh_from_db()
            audit_record(
                organization=organization,
                actor=actor,
                action="preset.edited",
                target=latest,
                data={"slug": preset.slug, "version": latest.number},
            )
            return latest
    number = (latest.number if latest else 0) + 1
    version = BrandPresetVersion.objects.create(
        organization=organization, preset=preset, number=number, spec=clean, created_by=actor
    )
    preset.name = clean["name"]
    preset.save(update_fields=["name", "updated_at"])
    audit_record(
        organization=organization,
        actor=actor,
        action="preset.versioned",
        target=version,
        data={"slug": preset.slug, "version": number},
    )
    return version


def brand_preset_version_lock(*, version: BrandPresetVersion) -> None:
    """Called when a job starts using a version: from then on it never changes."""
    BrandPresetVersion.objects.filter(pk=version.pk, locked_at__isnull=True).update(
        locked_at=timezone.now()
    )


@transaction.atomic
def brand_presets_install_shipped(
    *, organization: Organization, actor: User | None
) -> list[BrandPresetVersion]:
    """Give a company the shipped presets; running it again changes nothing."""
    versions = []
    for slug, spec in load_shipped().items():
        preset = BrandPreset.objects.filter(organization=organization, slug=slug).first()
        data = spec.model_dump(mode="json")
        if preset is None:
            versions.append(brand_preset_create(organization=organization, actor=actor, spec=data))
        else:
            versions.append(
                brand_preset_update(
                    organization=organization, actor=actor, preset=preset, spec=data
                )
            )
    return versions


def brand_preset_duplicate(
    *, organization: Organization, actor: User, preset: BrandPreset
) -> BrandPresetVersion:
    """A new preset starting from ``preset``'s latest version: "<name> (copy)", with a
    free address ("<slug>-copy", "<slug>-copy-2", ...)."""
    latest = preset.versions.order_by("-number").first()
    if latest is None:
        raise StateConflict("This preset has no version to copy.")
    taken = set(
        BrandPreset.objects.filter(organization=organization).values_list("slug", flat=True)
    )
    base = f"{preset.slug[:54]}-copy"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    spec = {**latest.spec, "slug": slug, "name": f"{latest.spec['name']} (copy)"[:120]}
    return brand_preset_create(organization=organization, actor=actor, spec=spec)
