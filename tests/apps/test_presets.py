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


def test_hr_copies_a_preset_into_a_new_one(acme, client):
    from django.urls import reverse

    client.force_login(acme.hr)
    url = reverse("presets", args=[acme.org.slug])
    assert "Copy into a new preset" in client.get(url).content.decode()
    made = client.post(url, {"preset": "corporate-executive"})
    assert made.url == reverse("preset-edit", args=[acme.org.slug, "corporate-executive-copy"])
    again = client.post(url, {"preset": "corporate-executive"})
    assert again.url.endswith("/corporate-executive-copy-2/")
    copy = preset_version_latest(
        organization=acme.org, preset=acme.preset("corporate-executive-copy")
    )
    assert copy.spec["name"].endswith("(copy)") and copy.number == 1


def test_the_editor_names_fields_as_the_form_does_and_keeps_colour_two(acme, client):
    from django.urls import reverse

    client.force_login(acme.hr)
    url = reverse("preset-edit", args=[acme.org.slug, "corporate-executive"])
    solid = spec()
    solid["backdrop"] = {**solid["backdrop"], "kind": "solid", "colors": ["#336699"]}
    brand_preset_update(organization=acme.org, actor=acme.hr, preset=acme.preset(), spec=solid)
    page = client.get(url).content.decode()
    # a solid backdrop has one colour: the second field starts as the first, not black
    assert 'name="backdrop_color_2" value="#336699"' in page
    preview = client.get(
        reverse("preset-preview", args=[acme.org.slug, "corporate-executive"]),
        {
            "name": "X",
            "attire": "suit",
            "backdrop_kind": "solid",
            "backdrop_color": "red",
            "key_direction": "left",
            "softness": 0.5,
            "color_temperature_k": 5200,
            "head_height_share": 0.4,
            "eye_line": 0.4,
            "retouch_strength": 0.2,
        },
    )
    assert preview.status_code == 400
    detail = preview.json()["detail"]
    assert "Backdrop colour: write a colour as # and six hexadecimal digits" in detail
    assert "backdrop.colors" not in detail


def test_the_preview_warns_when_the_checks_would_hold_every_headshot_back(acme, client):
    import json

    from django.urls import reverse

    client.force_login(acme.hr)
    url = reverse("preset-preview", args=[acme.org.slug, "corporate-executive"])
    fine = client.get(url)
    assert json.loads(fine["X-Preview-Warnings"]) == []
    assert client.get(url, HTTP_IF_NONE_MATCH=fine["ETag"]).status_code == 304
    spec = preset_version_latest(organization=acme.org, preset=acme.preset()).spec
    form = {
        "name": spec["name"],
        "attire": spec["attire"],
        "backdrop_kind": "solid",
        "backdrop_color": spec["backdrop"]["colors"][0],
        "key_direction": "left",
        "softness": 0.5,
        "color_temperature_k": 2800,
        "head_height_share": 0.4,
        "eye_line": 0.4,
        "retouch_strength": 0.1,
    }
    warm = client.get(url, form)
    (warning,) = json.loads(warm["X-Preview-Warnings"])
    assert warning.startswith("The skin tone changes too much")
    # saving it says so too
    saved = client.post(
        reverse("preset-edit", args=[acme.org.slug, "corporate-executive"]),
        {**form, "editor": "form"},
        follow=True,
    )
    assert "The skin tone changes too much" in saved.content.decode()
