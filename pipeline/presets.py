"""Brand presets: the company's style template, validated by pydantic."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

HexColor = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", description="#rrggbb")]

# Slots filled by the pipeline for every person; a preset may add its own.
PERSON_SLOTS = frozenset({"person", "attire", "backdrop", "lighting", "palette"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Backdrop(_Strict):
    kind: Literal["solid", "gradient", "vignette", "image"]
    colors: list[HexColor] = Field(min_length=1, max_length=2)
    image: str | None = None
    description: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _image_needs_path(self) -> Backdrop:
        if self.kind == "image" and not self.image:
            raise ValueError("a backdrop of kind 'image' needs an 'image' path")
        if self.image is not None:
            problem = backdrop_image_problem(self.image)
            if problem:
                raise ValueError(problem)
        if self.kind in {"gradient", "vignette"} and len(self.colors) != 2:
            raise ValueError(
                f"a '{self.kind}' backdrop needs two colours (centre/top, edge/bottom)"
            )
        return self


BACKDROP_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def backdrop_image_problem(name: str) -> str:
    """Why ``name`` is not a backdrop image inside the presets folder, or ""."""
    path = Path(name)
    if (
        len(name) > 200
        or path.is_absolute()
        or ".." in path.parts
        or path.suffix.lower() not in BACKDROP_IMAGE_SUFFIXES
    ):
        return (
            "the backdrop image must be a JPEG, PNG or WebP file named relative to the "
            "presets folder (for example backdrops/studio-grey.jpg)"
        )
    base = shipped_presets_dir().resolve()
    resolved = (base / path).resolve()
    if not resolved.is_relative_to(base) or not resolved.is_file():
        return f"the backdrop image {name} is not in the presets folder"
    return ""


class Lighting(_Strict):
    key_direction: Literal["left", "right", "front"]
    softness: float = Field(ge=0.0, le=1.0, description="1 is fully diffuse")
    color_temperature_k: int = Field(ge=2500, le=10000)
    description: str = Field(min_length=1, max_length=200)
    exposure: float = Field(
        0.0, ge=-1.0, le=1.0, description="brighter (+) or darker (-), in stops; 0 as shot"
    )


class Framing(_Strict):
    head_height_share: float = Field(ge=0.15, le=0.75, description="head height / image height")
    eye_line: float = Field(ge=0.2, le=0.6, description="eye line from the top, share of height")
    head_room: float = Field(ge=0.0, le=0.35, description="space above the head, share of height")

    @model_validator(mode="after")
    def _fits(self) -> Framing:
        # The eyes sit about 45% down the head: the head top must stay at or below head_room.
        head_top = self.eye_line - 0.45 * self.head_height_share
        if head_top < self.head_room - 0.05:
            raise ValueError(
                f"eye_line {self.eye_line} with head_height_share {self.head_height_share} puts the "
                f"top of the head at {head_top:.2f}, above the requested head_room {self.head_room}"
            )
        return self


class Retouch(_Strict):
    strength: float = Field(ge=0.0, le=1.0)
    cap: float = Field(ge=0.0, le=0.5, description="authenticity first: never above 0.5")

    @model_validator(mode="after")
    def _within_cap(self) -> Retouch:
        if self.strength > self.cap:
            raise ValueError(f"strength {self.strength} exceeds its cap {self.cap}")
        return self


SlotName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")]
SlotText = Annotated[str, Field(max_length=200)]


class Prompt(_Strict):
    template: str = Field(min_length=10, max_length=1000)
    negative: str = Field(max_length=1000)
    slots: dict[SlotName, SlotText] = Field(default_factory=dict, max_length=20)

    @model_validator(mode="after")
    def _slots_known(self) -> Prompt:
        known = PERSON_SLOTS | set(self.slots)
        for text, name in ((self.template, "template"), (self.negative, "negative")):
            for _, field_name, spec, conversion in string.Formatter().parse(text):
                if field_name is not None and (spec or conversion):
                    # {person:>100000000} would pad the prompt to hundreds of megabytes
                    raise ValueError(
                        f"{name}: a slot is written as {{{field_name}}} alone, without a "
                        "format or conversion"
                    )
                if field_name is not None and field_name not in known:
                    raise ValueError(
                        f"{name} uses the slot {{{field_name}}}, which is neither a person slot "
                        f"({', '.join(sorted(PERSON_SLOTS))}) nor declared under prompt.slots"
                    )
        return self


Scheduler = Literal["euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_karras", "ddim", "unipc"]
SCHEDULERS: tuple[str, ...] = get_args(Scheduler)
# How the person's likeness reaches generation (pipeline.backends.sdxl): their own LoRA,
# their real face kept, or a zero-shot adapter.
IdentityMethod = Literal["lora", "keep-face", "plus-face", "faceid", "faceid-plus-v2", "instantid"]
IDENTITY_METHODS: tuple[str, ...] = get_args(IdentityMethod)


class Style(_Strict):
    """Another look within the preset for generation (a different suit, backdrop or light);
    what it leaves out stays as the preset says."""

    name: str = Field(min_length=2, max_length=60, description="shown to people with the headshot")
    # plain words: braces would be read as the prompt's slots
    attire: str | None = Field(None, min_length=2, max_length=200, pattern=r"^[^{}]*$")
    backdrop: str | None = Field(
        None, min_length=2, max_length=200, pattern=r"^[^{}]*$", description="in words"
    )
    lighting: str | None = Field(
        None, min_length=2, max_length=200, pattern=r"^[^{}]*$", description="in words"
    )

    @model_validator(mode="after")
    def _changes_something(self) -> Style:
        if not (self.attire or self.backdrop or self.lighting):
            raise ValueError(
                f"the style {self.name!r} changes nothing: give its attire, backdrop or lighting"
            )
        return self


class Generation(_Strict):
    steps: int = Field(ge=1, le=150)
    guidance: float = Field(ge=0.0, le=30.0)
    # GPU workers make up to 100 per job; the studio renders its own looks (at most 12)
    variations: int = Field(ge=1, le=100)
    scheduler: Scheduler = Field("dpmpp_2m_karras", description="the diffusion sampler")
    identity_strength: float = Field(
        0.7, ge=0.0, le=1.5, description="weight of the identity conditioning"
    )
    spatial_control: float = Field(
        0.0,
        ge=0.0,
        le=1.5,
        description="weight of the pose ControlNet (head pose and framing from the best selfie); 0 is off",
    )
    depth_control: float = Field(
        0.0,
        ge=0.0,
        le=1.5,
        description="weight of the depth ControlNet (the head and shoulders' relief); 0 is off",
    )
    edge_control: float = Field(
        0.0,
        ge=0.0,
        le=1.5,
        description="weight of the edge ControlNet (the best selfie's face and hair lines); 0 is off",
    )
    identity_method: IdentityMethod | None = Field(
        None,
        description="how the person's likeness reaches generation; empty: the installation's "
        "default (one of the methods it offers)",
    )
    # the variations are shared out in turn between the preset's own look and these
    styles: list[Style] = Field(default_factory=list, max_length=8)

    @field_validator("styles")
    @classmethod
    def _unique_styles(cls, styles: list[Style]) -> list[Style]:
        names = [style.name.casefold() for style in styles]
        if len(set(names)) != len(names):
            raise ValueError("style names must be unique")
        return styles


class OutputSize(_Strict):
    name: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    width: int = Field(ge=64, le=4096)
    height: int = Field(ge=64, le=4096)
    format: Literal["jpeg", "png", "webp"] = "jpeg"


class BrandPreset(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9-]{2,60}$")
    name: str = Field(min_length=2, max_length=120)
    description: str = Field(max_length=500)
    backdrop: Backdrop
    lighting: Lighting
    attire: str = Field(min_length=2, max_length=200)
    palette: list[HexColor] = Field(min_length=1, max_length=8)
    framing: Framing
    retouch: Retouch
    prompt: Prompt
    generation: Generation
    outputs: list[OutputSize] = Field(min_length=1, max_length=10)

    def styled(self, style: Style) -> BrandPreset:
        """This preset in one of its generation styles."""
        return self.model_copy(
            update={
                "attire": style.attire or self.attire,
                "backdrop": self.backdrop.model_copy(
                    update={"description": style.backdrop or self.backdrop.description}
                ),
                "lighting": self.lighting.model_copy(
                    update={"description": style.lighting or self.lighting.description}
                ),
            }
        )

    @field_validator("outputs")
    @classmethod
    def _unique_names(cls, outputs: list[OutputSize]) -> list[OutputSize]:
        names = [o.name for o in outputs]
        if len(set(names)) != len(names):
            raise ValueError("output names must be unique")
        return outputs

    @property
    def primary_output(self) -> OutputSize:
        return max(self.outputs, key=lambda o: o.width * o.height)

    @classmethod
    def load(cls, path: str | Path) -> BrandPreset:
        return cls.from_mapping(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_mapping(cls, data: Any) -> BrandPreset:
        if not isinstance(data, dict):
            raise PresetInvalid(["(top level): a preset must be a mapping of fields"])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise PresetInvalid(explain(exc)) from exc


class PresetInvalid(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# pydantic's wording for a pattern, where the pattern has a plainer one
PATTERN_WORDS = {
    r"^#[0-9a-fA-F]{6}$": "write a colour as # and six hexadecimal digits, e.g. #1f2a44",
    r"^[a-z0-9-]{2,60}$": "use 2 to 60 lower-case letters, digits or hyphens",
    r"^[^{}]*$": "plain words, without braces",
}


def explain(exc: ValidationError) -> list[str]:
    """One line per problem, each naming its field path."""
    lines = []
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "string_pattern_mismatch":
            pattern = str((error.get("ctx") or {}).get("pattern", ""))
            message = PATTERN_WORDS.get(pattern, message)
        lines.append(f"{location}: {message}")
    return lines


def shipped_presets_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "brand_presets"


def load_shipped() -> dict[str, BrandPreset]:
    presets = {}
    for path in sorted(shipped_presets_dir().glob("*.yaml")):
        preset = BrandPreset.load(path)
        presets[preset.slug] = preset
    return presets


# What a person may ask of their next round, and how the preset changes for it.
ROUND_CHANGES = ("lighter", "darker", "closer", "further", "other_backdrop", "other_selfie")
EXPOSURE_STEP = 1 / 3  # stops
FRAMING_STEP = 1.15  # head height, times or divided by


def preset_for_round(preset: BrandPreset, changes: set[str] | list[str]) -> BrandPreset:
    """The preset as the next round uses it: lighter or darker by a third of a stop, the
    head closer or further by 15%, another of the palette's colours behind the person.
    ("other_selfie" changes which selfie is used, not the preset.)"""
    changes = set(changes)
    data = preset.model_dump(mode="json")
    lighting, framing, backdrop = data["lighting"], data["framing"], data["backdrop"]
    step = EXPOSURE_STEP * (("lighter" in changes) - ("darker" in changes))
    lighting["exposure"] = round(min(1.0, max(-1.0, lighting["exposure"] + step)), 3)
    share = framing["head_height_share"]
    if "closer" in changes:
        share = min(0.75, share * FRAMING_STEP)
    if "further" in changes:
        share = max(0.15, share / FRAMING_STEP)
    framing["head_height_share"] = round(share, 3)
    # the crown stays below the head room: the eyes move down as the head grows
    framing["eye_line"] = round(
        min(0.6, max(framing["eye_line"], framing["head_room"] - 0.05 + 0.45 * share)), 3
    )
    if "other_backdrop" in changes:
        others = [c for c in data["palette"] if c.lower() != backdrop["colors"][0].lower()]
        if others:
            backdrop["colors"] = [others[0], *backdrop["colors"][1:]]
            if backdrop["kind"] == "image":
                backdrop.update(kind="solid", image=None, colors=[others[0]])
        elif backdrop["kind"] != "image":
            backdrop["kind"] = "vignette" if backdrop["kind"] == "solid" else "solid"
            first = backdrop["colors"][0]
            backdrop["colors"] = [first, first] if backdrop["kind"] == "vignette" else [first]
    return BrandPreset.model_validate(data)
