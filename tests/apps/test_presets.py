from __future__ import annotations

import pytest

from apps.core.errors import PermissionDenied, StateConflict, ValidationFailed
from apps.generation.services import generation_job_create
from apps.presets.models import BrandPresetVersion
from apps.presets.selectors import preset_version_latest
from apps.presets.services import (
    brand_preset_create,
    brand_preset_update,
    brand_presets_install_shipped,
)
from pipeline.presets import load_shipped

pytestmark = pytest.mark.django_db


def spec(**changes):
    data = load_shipped()["corporate-executive"].model_dump(mode="json")
    data.update(changes)
    return data


def test_installing_shipped_presets_twice_changes_nothing(acme):
    before = BrandPresetVersion.objects.filter(organization=acme.org).count()
    brand_presets_install_shipped(organization=acme.org, actor=acme.hr)
    assert before == 4
    assert BrandPresetVersion.objects.filter(organization=acme.org).count() == 4


def test_invalid_preset_is_refused_with_its_fields(acme):
    with pytest.raises(ValidationFailed) as caught:
        brand_preset_create(
            organization=acme.org, actor=acme.hr, spec=spec(slug="ours", palette=["red"])
        )
    assert any(p.startswith("palette.0") for p in caught.value.extra["problems"])


def test_only_managers_edit_presets(acme):
    with pytest.raises(PermissionDenied):
        brand_preset_create(organization=acme.org, actor=acme.employee_user, spec=spec(slug="ours"))
    with pytest.raises(StateConflict):
        brand_preset_create(organization=acme.org, actor=acme.hr, spec=spec())


def test_unused_version_is_edited_in_place(acme):
    preset = acme.preset()
    version = brand_preset_update(
        organization=acme.org, actor=acme.hr, preset=preset, spec=spec(name="Executive, our way")
    )
    assert version.number == 1 and version.spec["name"] == "Executive, our way"


def test_version_used_by_a_job_never_changes(ready):
    preset = ready.preset()
    used = preset_version_latest(organization=ready.org, preset=preset)
    generation_job_create(
        organization=ready.org, actor=ready.employee_user, employee=ready.employee, preset=preset
    )
    used.refresh_from_db()
    assert used.is_locked
    frozen = dict(used.spec)
    new = brand_preset_update(
        organization=ready.org,
        actor=ready.hr,
        preset=preset,
        spec=spec(name="Executive, version two"),
    )
    used.refresh_from_db()
    assert new.number == 2 and used.spec == frozen


def test_slug_cannot_change(acme):
    with pytest.raises(ValidationFailed, match="keeps its slug"):
        brand_preset_update(
            organization=acme.org, actor=acme.hr, preset=acme.preset(), spec=spec(slug="other")
        )


def test_the_editor_and_the_style_picker_say_what_the_studio_uses(acme, client, settings):
    """With the studio, attire and the prompt are not used: the editor says so by those
    fields, and people choosing a style learn they keep their own clothes."""
    from django.urls import reverse

    client.force_login(acme.hr)
    page = client.get(
        reverse("preset-edit", args=[acme.org.slug, "corporate-executive"])
    ).content.decode()
    assert "keeps each person's own clothing and pose" in page
    assert "Attire and the prompt apply only where headshots are generated with diffusion" in page
    client.force_login(acme.employee_user)
    photos = client.get(reverse("photos", args=[acme.org.slug])).content.decode()
    assert "You keep your own clothes and pose" in photos
    settings.HEADSHOTS = {**settings.HEADSHOTS, "GENERATION_BACKEND": "diffusion"}
    client.force_login(acme.hr)
    page = client.get(
        reverse("preset-edit", args=[acme.org.slug, "corporate-executive"])
    ).content.decode()
    assert "apply only where headshots are generated with diffusion" not in page


def test_a_style_may_name_only_an_identity_method_the_workers_offer(acme, settings):
    settings.HEADSHOTS = {
        **settings.HEADSHOTS,
        "GENERATION_BACKEND": "diffusion",
        "IDENTITY_METHOD": "lora",
        "IDENTITY_METHODS": ("plus-face",),
    }
    generation = {**spec()["generation"], "identity_method": "instantid"}
    with pytest.raises(ValidationFailed) as caught:
        brand_preset_create(
            organization=acme.org, actor=acme.hr, spec=spec(slug="ours", generation=generation)
        )
    (problem,) = caught.value.extra["problems"]
    assert "does not offer 'instantid'" in problem and "lora, plus-face" in problem
    generation["identity_method"] = "plus-face"
    version = brand_preset_create(
        organization=acme.org, actor=acme.hr, spec=spec(slug="ours", generation=generation)
    )
    assert version.spec["generation"]["identity_method"] == "plus-face"
