"""The real-photo corpus through the checks and the studio: for each photograph (source and
licence in pipeline/tools/samples.py), its verdict, its warnings, and how many of a
twelve-look job made from it alone could be offered (and why the others could not).
Writes bench/results.json ("real_photos") and prints the table the README shows.

python -m bench.real_photos
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from bench.run import MODELS, SAMPLES, save


def main() -> None:
    from PIL import Image

    from pipeline.backends.base import GenerationRequest, Selfie
    from pipeline.backends.segmentation import SelfieSegmenter
    from pipeline.backends.studio import StudioBackend
    from pipeline.checks import PhotoChecker
    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.faces.blazeface import BlazeFaceDetector
    from pipeline.faces.mesh import FaceMesh
    from pipeline.identity import Enrollment
    from pipeline.presets import load_shipped
    from pipeline.prompts import build_prompt
    from pipeline.records import selfie_quality
    from pipeline.tools import manifest, samples

    for name in ("mediapipe-face-detection", "mediapipe-face-landmark"):
        manifest.install(manifest.find(name), MODELS)
    samples.install(SAMPLES)
    mesh = FaceMesh().load(MODELS)
    finder = DlibFaceAnalyzer(detector=BlazeFaceDetector().load(MODELS), mesh=mesh).load()
    checker = PhotoChecker(finder)
    backend = StudioBackend(segmenter=SelfieSegmenter().load(MODELS), mesh=mesh, candidates=12)
    preset = load_shipped()["corporate-executive"]
    rows = []
    for package in samples.CORPUS:
        for photo in package.photos:
            path = samples.corpus_photo(SAMPLES, photo.name)
            pixels = np.asarray(Image.open(path).convert("RGB"))
            report = checker(pixels)
            row: dict[str, object] = {
                "photo": photo.name,
                "shows": photo.shows,
                "usable": report.usable,
                "refused_by": [c.code for c in report.checks if c.status == "fail"],
                "warned_by": [c.code for c in report.checks if c.status == "warn"],
            }
            if report.usable and report.face is not None:
                selfie = Selfie(photo.name, pixels, report.face, selfie_quality(report))
                request = GenerationRequest(
                    preset=preset,
                    preset_version=1,
                    prompt=build_prompt(preset, {}),
                    selfies=[selfie],
                    enrollment=Enrollment(np.zeros(128), [photo.name], [], np.ones((1, 1)), []),
                    base_seed=1,
                )
                result = backend(request, lambda percent, stage: None)
                framings = Counter(
                    c.info["look"]["framing"]  # type: ignore[index]
                    for c in result.candidates
                    if not c.problem
                )
                row.update(
                    offered=sum(framings.values()),
                    framings=dict(framings),
                    not_offered=dict(Counter(c.problem for c in result.candidates if c.problem)),
                )
            rows.append(row)
    save("real_photos", {"what": __doc__.splitlines()[0], "photos": rows})
    print("| photo | what it shows | verdict | warnings | offered of 12 (framings) |")
    print("| --- | --- | --- | --- | --- |")
    for row in rows:
        verdict = "usable" if row["usable"] else "refused: " + ", ".join(row["refused_by"])  # type: ignore[arg-type]
        framings = ", ".join(f"{n} {f}" for f, n in row.get("framings", {}).items())  # type: ignore[attr-defined]
        offered = f"{row['offered']} ({framings})" if "offered" in row else "none made"
        print(
            f"| {row['photo']} | {row['shows']} | {verdict} | "
            f"{', '.join(row['warned_by']) or 'none'} | {offered} |"  # type: ignore[arg-type]
        )


if __name__ == "__main__":
    main()
