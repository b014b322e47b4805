"""From a brand preset and a person to the prompt and negative prompt.

What the person has is kept: glasses, facial hair, skin tone and age are never
asked away. The final prompt is stored with each candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.presets import BrandPreset

# Whatever the preset says, a headshot must not change who the person is.
IDENTITY_NEGATIVES = (
    "different skin tone, lightened skin, darkened skin, changed age, different face shape"
)
# Words that would take away something the person has: in the negative prompt, any
# mention of it; in the positive one, asking for its absence.
_NEGATIVE_REMOVERS = {
    "glasses": re.compile(r"\b(glasses|eyeglasses|spectacles|eyewear)\b", re.IGNORECASE),
    "facial_hair": re.compile(r"\b(beard|stubble|moustache|mustache|facial hair)\b", re.IGNORECASE),
}
_POSITIVE_REMOVERS = {
    "glasses": re.compile(
        r"\b(no|without) (glasses|eyeglasses|spectacles|eyewear)\b", re.IGNORECASE
    ),
    "facial_hair": re.compile(r"\b(clean[- ]shaven|no beard|without a beard)\b", re.IGNORECASE),
}


class PromptError(ValueError):
    pass


@dataclass(frozen=True)
class Prompt:
    positive: str
    negative: str


def describe(attributes: dict[str, object]) -> str:
    parts = ["the person"]
    if attributes.get("skin_tone"):
        parts.append(f"with their own {attributes['skin_tone']} skin tone")
    if attributes.get("hair_color"):
        parts.append(f"{attributes['hair_color']} hair")
    if attributes.get("glasses"):
        parts.append("wearing their glasses")
    if attributes.get("facial_hair"):
        parts.append("with their facial hair")
    return ", ".join(parts)


def _strip(pattern: re.Pattern[str], text: str) -> str:
    cleaned = pattern.sub("", text)
    return re.sub(r"\s*,\s*(,\s*)+", ", ", cleaned).strip(" ,")


def build_prompt(preset: BrandPreset, attributes: dict[str, object]) -> Prompt:
    lighting = preset.lighting
    slots = {
        "person": describe(attributes),
        "attire": preset.attire,
        "backdrop": preset.backdrop.description,
        "lighting": f"{lighting.description}, {lighting.color_temperature_k} K",
        "palette": ", ".join(preset.palette),
        **preset.prompt.slots,
    }
    try:
        positive = preset.prompt.template.format(**slots)
        negative = preset.prompt.negative.format(**slots)
    except (KeyError, IndexError, ValueError) as exc:
        raise PromptError(f"the preset's prompt cannot be filled: {exc}") from exc
    for attribute in ("glasses", "facial_hair"):
        if attributes.get(attribute):
            negative = _strip(_NEGATIVE_REMOVERS[attribute], negative)
            positive = _strip(_POSITIVE_REMOVERS[attribute], positive)
    negative = ", ".join(part for part in (negative, IDENTITY_NEGATIVES) if part)
    if "{" in positive or "}" in positive:
        raise PromptError("the prompt still has an unfilled slot")
    return Prompt(positive=" ".join(positive.split()), negative=" ".join(negative.split()))
