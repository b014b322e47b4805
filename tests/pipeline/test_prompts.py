from __future__ import annotations

import pytest

from pipeline.presets import BrandPreset, Prompt, load_shipped
from pipeline.prompts import IDENTITY_NEGATIVES, PromptError, build_prompt

PERSON = {
    "skin_tone": "intermediate",
    "hair_color": "black",
    "glasses": False,
    "facial_hair": False,
}


def preset_with(template: str, negative: str) -> BrandPreset:
    data = load_shipped()["corporate-executive"].model_dump(mode="json")
    data["prompt"] = {"template": template, "negative": negative, "slots": {}}
    return BrandPreset.from_mapping(data)


def test_fills_every_slot_from_the_preset_and_the_person():
    prompt = build_prompt(load_shipped()["healthcare-professional"], PERSON)
    assert "{" not in prompt.positive and "}" not in prompt.positive
    assert "white coat" in prompt.positive and "5600 K" in prompt.positive
    assert "intermediate skin tone" in prompt.positive and "black hair" in prompt.positive
    assert prompt.negative.endswith(IDENTITY_NEGATIVES)


def test_never_asks_glasses_or_facial_hair_away():
    preset = preset_with(
        "clean-shaven portrait of {person} without glasses, {attire}",
        "glasses, beard, stubble, blurry",
    )
    kept = build_prompt(preset, {**PERSON, "glasses": True, "facial_hair": True})
    for word in ("glasses", "beard", "stubble"):
        assert word not in kept.negative
    assert "blurry" in kept.negative
    assert "clean-shaven" not in kept.positive and "without glasses" not in kept.positive
    assert "wearing their glasses" in kept.positive and "with their facial hair" in kept.positive
    plain = build_prompt(preset, PERSON)
    assert "glasses" in plain.negative and "clean-shaven" in plain.positive


def test_identity_is_protected_whatever_the_preset_says():
    prompt = build_prompt(preset_with("portrait of {person}, {attire}", ""), PERSON)
    assert prompt.negative == IDENTITY_NEGATIVES


def test_a_slot_nobody_fills_is_refused():
    preset = load_shipped()["corporate-executive"]
    unchecked = Prompt.model_construct(template="portrait of {nobody}", negative="", slots={})
    with pytest.raises(PromptError, match="cannot be filled"):
        build_prompt(preset.model_copy(update={"prompt": unchecked}), PERSON)
