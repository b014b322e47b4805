"""Real photos that ship inside registry packages, for the demo and the tests.

- ``astronaut.png`` from scikit-image (a NASA portrait, public domain).
- ``t1.jpg`` (a group of six people) and ``Tom_Hanks_54745.png`` from the
  insightface 2.1 wheel; the wheel is downloaded, checked against its sha256 and
  only the images are extracted: insightface itself is not installed.
- the real-photo corpus (``CORPUS``): photographs of people as they come, each with its
  source and licence, for the tests of what a person would reject in a headshot.

``python -m pipeline.tools.samples install DIR`` fetches what is missing.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

INSIGHTFACE_WHEEL_SHA256 = "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399"
INSIGHTFACE_IMAGES = {
    "t1.jpg": "47f682e945b659f93a9e490b9c9c4a2a864abe64dace9e1a2893845ddfd69489",
    "Tom_Hanks_54745.png": None,
}


class SampleMissing(RuntimeError):
    pass


def _package_data(package: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise SampleMissing(
            f"The package {package} is not installed; run `pip install -e .[samples]`."
        )
    path = Path(spec.origin).parent.joinpath(*parts)
    if not path.is_file():
        raise SampleMissing(f"{path} is missing from the installed {package} package.")
    return path


def astronaut() -> Path:
    return _package_data("skimage", "data", "astronaut.png")


# The astronaut's face as dlib's detector finds it (box, score, five landmarks), kept here
# so that the preset editor's preview renders it in the web process without loading a
# face model (tests/pipeline/test_faces.py checks it against the detector).
ASTRONAUT_FACE_BOX = (179.0, 83.0, 266.0, 170.0)
ASTRONAUT_FACE_SCORE = 1.53
ASTRONAUT_FACE_LANDMARKS = (
    (255.0, 104.0),
    (237.0, 105.0),
    (195.0, 101.0),
    (212.0, 103.0),
    (224.0, 135.0),
)


def cat() -> Path:
    """A photo with no face in it (scikit-image's chelsea.png)."""
    return _package_data("skimage", "data", "chelsea.png")


def group_photo(samples_dir: Path) -> Path:
    path = samples_dir / "t1.jpg"
    if not path.is_file():
        raise SampleMissing(
            f"{path} is missing; run `python -m pipeline.tools.samples install {samples_dir}`."
        )
    return path


@dataclass(frozen=True)
class CorpusPhoto:
    name: str
    shows: str  # what a headshot made from it must cope with
    source: str  # where it comes from, and its licence
    inside: str  # its path inside the package's archive
    sha256: str


@dataclass(frozen=True)
class CorpusPackage:
    requirement: str
    sha256: str  # of the archive pip downloads with these options
    pip_options: tuple[str, ...]
    photos: tuple[CorpusPhoto, ...]


_WHITE_HOUSE = (
    "face_recognition 1.3.0 source archive (MIT), its test photos; photographs of a U.S. "
    "President or Vice President in office by White House photographers, public domain as "
    "works of the U.S. federal government (the package itself states no licence for them)"
)
_TESTS = "face_recognition-1.3.0/tests/test_images/"
CORPUS = (
    CorpusPackage(
        requirement="face_recognition==1.3.0",
        sha256="5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec",
        pip_options=("--no-binary", ":all:"),
        photos=(
            CorpusPhoto(
                "obama.jpg",
                "a studio portrait: smiling, deep skin tone, dark hair on a bright background",
                _WHITE_HOUSE,
                _TESTS + "obama.jpg",
                "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
            ),
            CorpusPhoto(
                "obama2.jpg",
                "a press photo at a lectern: mid-speech, a microphone below the chin, "
                "another person at the edge, shoulders cut by the photo's sides",
                _WHITE_HOUSE,
                _TESTS + "obama2.jpg",
                "a7efcc907375274796f39646510704aa86672d59f6d5469d69af3c85590976a6",
            ),
            CorpusPhoto(
                "obama3.jpg",
                "a wide shot: a small face, a chandelier and bright lights behind the head",
                _WHITE_HOUSE,
                _TESTS + "obama3.jpg",
                "76ac6bf97c36dc2da0ad16a537d6a5ac1b10f48d49aac29a0cca9a17cdbc3ca3",
            ),
            CorpusPhoto(
                "obama_partial_face.jpg",
                "a crop through the face: half the head outside the photo",
                _WHITE_HOUSE,
                _TESTS + "obama_partial_face.jpg",
                "c2d1f09e7ef3042352b41e41286e6eb0522f64f88308be13886991b95db52117",
            ),
            CorpusPhoto(
                "obama_partial_face2.jpg",
                "a crop through the face, the other side",
                _WHITE_HOUSE,
                _TESTS + "obama_partial_face2.jpg",
                "9a812347f97633542b8cd9992de22def11b74f79d82056bc3ee830f13878e028",
            ),
            CorpusPhoto(
                "biden.jpg",
                "an official portrait down to the knees: white hair, a flag behind",
                _WHITE_HOUSE,
                _TESTS + "biden.jpg",
                "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
            ),
        ),
    ),
    CorpusPackage(
        # one exact wheel whatever the machine: only its sample photo is read
        requirement="matplotlib==3.9.2",
        sha256="8912ef7c2362f7193b5819d17dae8629b34a95c58603d781329712ada83f9447",
        pip_options=(
            "--only-binary",
            ":all:",
            "--platform",
            "manylinux2014_x86_64",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
        ),
        photos=(
            CorpusPhoto(
                "grace_hopper.jpg",
                "an older woman in uniform and cap, glasses, shoulders cut by the photo's sides",
                "matplotlib 3.9.2's sample data; Commodore Grace M. Hopper, U.S. Navy "
                "photograph (James S. Davis, 1984), public domain",
                "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
                "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130",
            ),
        ),
    ),
)


def corpus_photo(samples_dir: Path, name: str) -> Path:
    path = samples_dir / "corpus" / name
    if not path.is_file():
        raise SampleMissing(
            f"{path} is missing; run `python -m pipeline.tools.samples install {samples_dir}`."
        )
    return path


def install(samples_dir: Path) -> list[Path]:
    from pipeline.tools.wheels import extract_from_wheel

    installed = extract_from_wheel(
        requirement="insightface==2.1",
        wheel_sha256=INSIGHTFACE_WHEEL_SHA256,
        members={
            f"insightface/data/images/{name}": (samples_dir / name, digest)
            for name, digest in INSIGHTFACE_IMAGES.items()
        },
    )
    for package in CORPUS:
        installed += extract_from_wheel(
            requirement=package.requirement,
            wheel_sha256=package.sha256,
            members={
                photo.inside: (samples_dir / "corpus" / photo.name, photo.sha256)
                for photo in package.photos
            },
            pip_options=package.pip_options,
        )
    return installed


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "install":
        sys.exit("usage: python -m pipeline.tools.samples install DIR")
    for installed in install(Path(sys.argv[2])):
        print(installed)


def _edit(pixels: object, kind: str) -> object:
    import cv2
    import numpy as np

    image = np.asarray(pixels)
    height, width = image.shape[:2]
    if kind == "mirror":
        return image[:, ::-1].copy()
    if kind == "tilt":
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 7, 1.08)
        return cv2.warpAffine(image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    if kind == "warm":
        warm = image.astype(np.float32) * np.array([1.06, 1.0, 0.9], np.float32) * 0.92
        return np.clip(warm, 0, 255).astype(np.uint8)
    if kind == "closer":
        crop = image[30 : height - 130, 60 : width - 60]  # the whole head kept
        return cv2.resize(
            crop,
            (width, round(width * crop.shape[0] / crop.shape[1])),
            interpolation=cv2.INTER_CUBIC,
        )
    if kind == "blurred":
        return cv2.GaussianBlur(image, (0, 0), 2.2)
    if kind == "dark":
        return (image.astype(np.float32) * 0.25).astype(np.uint8)
    raise ValueError(kind)


def selfie_set(samples_dir: Path) -> list[tuple[str, bytes, str]]:
    """(file name, JPEG or PNG bytes, what it shows) for a demo employee's uploads.

    Five usable photos of one person (the public-domain portrait and real edits of
    it), two that fail a check, one with no face, one group photo, and one
    photo of somebody else that enrollment must flag.
    """
    import io

    import numpy as np
    from PIL import Image

    def jpeg(array: object) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(array)).save(buffer, "JPEG", quality=93)
        return buffer.getvalue()

    base = np.asarray(Image.open(astronaut()).convert("RGB"))
    photos = [("selfie-01.png", astronaut().read_bytes(), "usable")]
    for index, kind in enumerate(["mirror", "tilt", "warm", "closer"], start=2):
        photos.append((f"selfie-{index:02d}-{kind}.jpg", jpeg(_edit(base, kind)), "usable"))
    photos.append(("selfie-06-blurred.jpg", jpeg(_edit(base, "blurred")), "fails: blurred"))
    photos.append(("selfie-07-dark.jpg", jpeg(_edit(base, "dark")), "fails: too dark"))
    photos.append(("selfie-08-cat.png", cat().read_bytes(), "fails: no face"))
    group = group_photo(samples_dir)
    photos.append(("selfie-09-group.jpg", group.read_bytes(), "fails: several faces"))
    people = np.asarray(Image.open(group).convert("RGB"))
    someone_else = people[230:450, 1060:1290]  # one person of the group, alone
    photos.append(("selfie-10-someone-else.jpg", jpeg(someone_else), "flagged: someone else"))
    return photos
