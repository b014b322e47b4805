"""HR's brand preset editor: the main visual settings as a form, the whole preset as YAML
for the rest, a live preview, and the list of versions."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import yaml
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from apps.core.errors import ApplicationError, ValidationFailed
from apps.organizations.models import MANAGER_ROLES
from apps.presets.models import BrandPresetVersion
from apps.presets.selectors import preset_get, preset_list, preset_version_latest
from apps.presets.services import (
    brand_preset_duplicate,
    brand_preset_update,
    preset_spec_validated,
)
from apps.web.pages import CompanyRequest, company_page, refused
from pipeline.orchestrator import HONOURED, PRESET_PARTS, preview
from pipeline.presets import BrandPreset as PresetSpec

# form field -> where it lives in the preset
FIELDS: dict[str, tuple[str | int, ...]] = {
    "name": ("name",),
    "description": ("description",),
    "attire": ("attire",),
    "backdrop_kind": ("backdrop", "kind"),
    "backdrop_color": ("backdrop", "colors", 0),
    "backdrop_color_2": ("backdrop", "colors", 1),
    "key_direction": ("lighting", "key_direction"),
    "softness": ("lighting", "softness"),
    "color_temperature_k": ("lighting", "color_temperature_k"),
    "head_height_share": ("framing", "head_height_share"),
    "eye_line": ("framing", "eye_line"),
    "retouch_strength": ("retouch", "strength"),
}


class PresetForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    attire = forms.CharField(max_length=200)
    backdrop_kind = forms.ChoiceField(
        choices=[("solid", "Solid"), ("gradient", "Gradient"), ("vignette", "Vignette")]
    )
    backdrop_color = forms.CharField(
        label="Backdrop colour", widget=forms.TextInput(attrs={"type": "color"})
    )
    backdrop_color_2 = forms.CharField(
        label="Second backdrop colour",
        required=False,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text="The edge or bottom colour of a gradient or vignette.",
    )
    key_direction = forms.ChoiceField(
        choices=[
            ("left", "From the left"),
            ("right", "From the right"),
            ("front", "From the front"),
        ]
    )
    softness = forms.FloatField(
        min_value=0, max_value=1, widget=forms.NumberInput(attrs={"step": "0.05"})
    )
    color_temperature_k = forms.IntegerField(
        min_value=2500, max_value=10000, label="Colour temperature (K)"
    )
    head_height_share = forms.FloatField(
        min_value=0.15,
        max_value=0.75,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text="Head height as a share of the picture's height.",
    )
    eye_line = forms.FloatField(
        min_value=0.2,
        max_value=0.6,
        widget=forms.NumberInput(attrs={"step": "0.01"}),
        help_text="Eye line from the top, as a share of the height.",
    )
    retouch_strength = forms.FloatField(
        min_value=0,
        max_value=1,
        widget=forms.NumberInput(attrs={"step": "0.05"}),
        help_text="Capped by the preset's own limit: authenticity first.",
    )


def _get(spec: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    value: Any = spec
    for key in path:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return ""
    return value


def spec_with(spec: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The preset with the form's values put in their places."""
    changed = copy.deepcopy(spec)
    for name, path in FIELDS.items():
        if name not in values or name.startswith("backdrop_color"):
            continue
        target: Any = changed  # nested mappings and lists of the preset
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = values[name]
    if "backdrop_color" in values:
        colours = [values["backdrop_color"]]
        if changed["backdrop"]["kind"] in {"gradient", "vignette"}:
            colours.append(values.get("backdrop_color_2") or values["backdrop_color"])
        changed["backdrop"]["colors"] = colours
    return changed


@company_page(roles=MANAGER_ROLES)
def preset_index(request: CompanyRequest) -> HttpResponse:
    org = request.organization
    if request.method == "POST":
        try:
            source = preset_get(organization=org, slug=request.POST.get("preset", ""))
            version = brand_preset_duplicate(organization=org, actor=request.user, preset=source)
        except ApplicationError as exc:
            return refused(request, exc, "presets")
        messages.success(request, f"Made {version.spec['name']}: change it here.")
        return redirect("preset-edit", org.slug, version.preset.slug)
    presets = [
        (preset, preset_version_latest(organization=org, preset=preset))
        for preset in preset_list(organization=org)
    ]
    return render(request, "portal/presets.html", {"presets": presets})


@company_page(roles=MANAGER_ROLES)
def preset_edit(request: CompanyRequest, slug: str) -> HttpResponse:
    org = request.organization
    preset = preset_get(organization=org, slug=slug)
    latest = preset_version_latest(organization=org, preset=preset)
    initial = {name: _get(latest.spec, path) for name, path in FIELDS.items()}
    # a solid backdrop has one colour: the second starts as the first, not as black
    initial["backdrop_color_2"] = initial["backdrop_color_2"] or initial["backdrop_color"]
    form = PresetForm(
        request.POST if request.POST.get("editor") == "form" else None, initial=initial
    )
    _say_what_is_used(form)
    yaml_text = yaml.safe_dump(latest.spec, sort_keys=False, allow_unicode=True)
    if request.method == "POST":
        try:
            if request.POST.get("editor") == "yaml":
                yaml_text = request.POST.get("spec", "")
                spec = _parse_yaml(yaml_text)
            elif form.is_valid():
                spec = spec_with(latest.spec, form.cleaned_data)
            else:
                spec = None
            if spec is not None:
                version = brand_preset_update(
                    organization=org, actor=request.user, preset=preset, spec=spec
                )
                messages.success(request, f"Saved as version {version.number}.")
                for warning in preview(PresetSpec.from_mapping(version.spec))[1]:
                    messages.warning(request, warning)
                return redirect("preset-edit", org.slug, preset.slug)
        except ApplicationError as exc:
            message = _in_words(exc, form)
            if request.POST.get("editor") == "form":
                form.add_error(None, message)
            else:
                messages.error(request, message)
    versions = BrandPresetVersion.objects.filter(preset=preset).order_by("-number")
    return render(
        request,
        "portal/preset_edit.html",
        {
            "preset": preset,
            "form": form,
            "yaml_text": yaml_text,
            "versions": versions,
            "latest": latest,
            "unused": unused_parts(),
        },
    )


PART_WORDS = {"attire": "attire", "prompt": "the prompt"}


def unused_parts() -> list[str]:
    """The parts of a preset the portal's generation backend does not use, in words."""
    used = HONOURED[settings.HEADSHOTS["GENERATION_BACKEND"]]
    return [PART_WORDS.get(part, part) for part in PRESET_PARTS if part not in used]


def _say_what_is_used(form: PresetForm) -> None:
    """Each field whose part of the preset the active backend ignores says so."""
    used = HONOURED[settings.HEADSHOTS["GENERATION_BACKEND"]]
    for name, path in FIELDS.items():
        part = str(path[0])
        if part in PRESET_PARTS and part not in used:
            field = form.fields[name]
            field.help_text = (
                (f"{field.help_text} " if field.help_text else "")
                + "Not used here: the studio keeps each person's own clothing; only generation with diffusion dresses people."
            )


def _parse_yaml(text: str) -> dict[str, Any]:
    if len(text) > 20_000:
        raise ValidationFailed("The preset is too long (20,000 characters at most).")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValidationFailed(f"This is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("The preset must be a mapping of fields.")
    return data


@company_page(roles=MANAGER_ROLES)
def preset_preview(request: CompanyRequest, slug: str) -> HttpResponse:
    """The preview image of the preset with the form's (unsaved) values from the query."""
    org = request.organization
    preset = preset_get(organization=org, slug=slug)
    latest = preset_version_latest(organization=org, preset=preset)
    form = PresetForm(request.GET) if request.GET else None
    spec = latest.spec
    if form is not None:
        if not form.is_valid():
            return JsonResponse({"detail": _form_errors(form)}, status=400)
        spec = spec_with(latest.spec, form.cleaned_data)
    try:
        clean = preset_spec_validated(spec)
    except ValidationFailed as exc:
        return JsonResponse({"detail": _in_words(exc, form or PresetForm())}, status=400)
    # The studio renderer with the sample's known face and GrabCut: no model is loaded in
    # the web process for it (tests/test_layering.py). The browser asks again each time
    # (a saved preset keeps its address); an unchanged preset answers 304 unrendered.
    tag = '"' + hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:32] + '"'
    if request.headers.get("If-None-Match") == tag:
        response = HttpResponse(status=304)
    else:
        jpeg, warnings = preview(PresetSpec.from_mapping(clean))
        response = HttpResponse(jpeg, content_type="image/jpeg")
        # what the acceptance checks would say of headshots in this style (ASCII JSON)
        response["X-Preview-Warnings"] = json.dumps(warnings)
    response["ETag"] = tag
    response["Cache-Control"] = "private, no-cache"
    return response


def _form_errors(form: forms.Form) -> str:
    return "; ".join(
        f"{form[field].label if field in form.fields else 'The preset'}: "
        f"{' '.join(str(e) for e in errors)}"
        for field, errors in form.errors.items()
    )


def _in_words(exc: ApplicationError, form: forms.Form) -> str:
    """A refused preset's problems with the form's names for the fields it shows
    ("Backdrop colour" rather than backdrop.colors.0)."""
    problems = exc.extra.get("problems")
    if not isinstance(problems, list) or not problems:
        return exc.message
    labels = {
        ".".join(str(part) for part in path): str(form[name].label) for name, path in FIELDS.items()
    }
    worded = []
    for problem in problems:
        where, _, what = str(problem).partition(": ")
        worded.append(f"{labels[where]}: {what}" if where in labels and what else str(problem))
    return "The preset is not valid: " + "; ".join(worded)
