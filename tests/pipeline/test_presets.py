from __future__ import annotations

import copy

import pytest
import yaml
from django.core.management import CommandError, call_command

from pipeline.presets import BrandPreset, PresetInvalid, load_shipped, shipped_presets_dir

SHIPPED = {
    "corporate-executive",
    "creative-professional",
    "healthcare-professional",
    "legal-professional",
}


def test_ships_the_four_default_presets():
    presets = load_shipped()
    assert set(presets) == SHIPPED
    for preset in presets.values():
        assert 5000 <= preset.lighting.color_temperature_k <= 5600
        assert preset.retouch.strength <= preset.retouch.cap


@pytest.fixture
def corporate() -> dict:
    return yaml.safe_load((shipped_presets_dir() / "corporate-executive.yaml").read_text())


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["backdrop"].update(colors=["grey"]), "backdrop.colors.0"),
        (lambda d: d["retouch"].update(strength=0.4, cap=0.3), "retouch"),
        (lambda d: d["retouch"].update(strength=0.6, cap=0.6), "retouch.cap"),
        (
            lambda d: d["prompt"].update(template="portrait of {person} in {unknown_slot} style"),
            "prompt",
        ),
        (lambda d: d["framing"].update(eye_line=0.2, head_height_share=0.7), "framing"),
        (lambda d: d["lighting"].update(color_temperature_k=1200), "lighting.color_temperature_k"),
        (lambda d: d.update(outputs=[]), "outputs"),
        (lambda d: d.update(surprise=True), "surprise"),
        (lambda d: d["generation"].update(variations=101), "generation.variations"),
        (lambda d: d["generation"].update(styles=[{"name": "Same"}]), "generation.styles.0"),
        (
            lambda d: d["generation"].update(
                styles=[{"name": "Navy", "attire": "navy"}, {"name": "navy", "attire": "blue"}]
            ),
            "generation.styles",
        ),
        (
            lambda d: d["generation"].update(styles=[{"name": "Odd", "attire": "a {person}"}]),
            "generation.styles.0.attire",
        ),
        (lambda d: d["generation"].update(identity_method="magic"), "generation.identity_method"),
    ],
)
def test_explains_each_error_by_field(corporate, edit, field):
    data = copy.deepcopy(corporate)
    edit(data)
    with pytest.raises(PresetInvalid) as caught:
        BrandPreset.from_mapping(data)
    assert any(problem.startswith(field + ":") for problem in caught.value.problems), (
        caught.value.problems
    )


def test_unknown_slot_names_the_slot(corporate):
    corporate["prompt"]["template"] = "portrait of {person} wearing {hat}"
    with pytest.raises(PresetInvalid) as caught:
        BrandPreset.from_mapping(corporate)
    assert "{hat}" in str(caught.value)


def test_validate_command_accepts_shipped_files(capsys):
    call_command(
        "presets", "validate", *sorted(str(p) for p in shipped_presets_dir().glob("*.yaml"))
    )
    assert capsys.readouterr().out.count(": valid") == 4


def test_validate_command_lists_problems_and_fails(tmp_path, corporate, capsys):
    corporate["backdrop"].update(
        kind="gradient", colors=["#8a8f96"]
    )  # a gradient needs two colours
    corporate["palette"] = ["#12345"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(corporate))
    with pytest.raises(CommandError):
        call_command("presets", "validate", str(path))
    err = capsys.readouterr().err
    assert "palette.0:" in err and "backdrop:" in err and "two colours" in err


@pytest.mark.parametrize(
    "template",
    [
        "portrait of {person:>100000000} in a studio",  # pads the prompt to 100 MB
        "portrait of {person!r} in a studio",
        "portrait of {person.__class__} in a studio",
        "portrait of {0} in a studio",
    ],
)
def test_a_prompt_slot_cannot_grow_or_reach_into_objects(corporate, template):
    corporate["prompt"]["template"] = template
    with pytest.raises(PresetInvalid) as caught:
        BrandPreset.from_mapping(corporate)
    assert any(p.startswith("prompt:") for p in caught.value.problems)


def test_a_preset_has_few_short_slots(corporate):
    corporate["prompt"]["slots"] = {"mood": "x" * 5000}
    with pytest.raises(PresetInvalid):
        BrandPreset.from_mapping(corporate)
    corporate["prompt"]["slots"] = {f"s{n}": "calm" for n in range(50)}
    with pytest.raises(PresetInvalid):
        BrandPreset.from_mapping(corporate)


@pytest.mark.parametrize(
    "image",
    [
        "/etc/passwd.png",
        "../../etc/hosts.jpg",
        "backdrops/../../../var/secret.png",
        "backdrops/missing.jpg",
        "corporate-executive.yaml",
    ],
)
def test_a_backdrop_image_lives_inside_the_presets_folder(corporate, image):
    corporate["backdrop"].update(kind="image", image=image)
    with pytest.raises(PresetInvalid) as caught:
        BrandPreset.from_mapping(corporate)
    assert any(p.startswith("backdrop:") for p in caught.value.problems), caught.value.problems


def test_a_preset_may_ask_for_a_hundred_variations_in_several_styles(corporate):
    corporate["generation"].update(
        variations=100,
        identity_method="plus-face",
        styles=[
            {"name": "Navy suit", "attire": "a navy suit"},
            {"name": "City", "backdrop": "a city"},
        ],
    )
    preset = BrandPreset.from_mapping(corporate)
    styled = preset.styled(preset.generation.styles[1])
    assert styled.backdrop.description == "a city" and styled.attire == preset.attire
    assert styled.backdrop.colors == preset.backdrop.colors


def test_a_round_can_be_lighter_closer_or_on_another_background():
    import numpy as np

    from pipeline.backends.finish import grade
    from pipeline.presets import ROUND_CHANGES, preset_for_round

    for preset in load_shipped().values():
        plain = preset_for_round(preset, [])
        assert plain == preset  # nothing asked: nothing changes
        lighter = preset_for_round(preset, ["lighter"])
        darker = preset_for_round(preset, ["darker"])
        grey = np.full((4, 4, 3), 100.0, np.float32)
        assert grade(grey, lighter).mean() > grade(grey, preset).mean() > grade(grey, darker).mean()
        closer = preset_for_round(preset, ["closer"])
        further = preset_for_round(preset, ["further"])
        share = preset.framing.head_height_share
        assert further.framing.head_height_share < share < closer.framing.head_height_share
        other = preset_for_round(preset, ["other_backdrop"])
        assert (other.backdrop.kind, other.backdrop.colors) != (
            preset.backdrop.kind,
            preset.backdrop.colors,
        )
        # asked again and again, it stays a valid preset
        many = preset
        for _ in range(8):
            many = preset_for_round(many, list(ROUND_CHANGES))
        assert -1.0 <= many.lighting.exposure <= 1.0
