"""Verdict parity along the skin-tone ladder: the public-domain portrait re-toned across the
ten Monk Skin Tone levels (pipeline/tools/skin_ladder.py), each level found, checked,
embedded and rendered as the portal does. Writes bench/results.json ("skin_ladder") and
prints the table the README shows.

python -m bench.skin_ladder
"""

from __future__ import annotations

import numpy as np

from bench.run import MODELS, save


def main() -> None:
    from PIL import Image

    from pipeline.backends.segmentation import SelfieSegmenter
    from pipeline.backends.studio_renderer import StudioRenderer, measure_skin
    from pipeline.checks import PhotoChecker
    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.faces.analysis import cosine
    from pipeline.faces.blazeface import BlazeFaceDetector
    from pipeline.faces.mesh import FaceMesh
    from pipeline.presets import load_shipped
    from pipeline.tools import manifest, samples
    from pipeline.tools.skin_ladder import ladder

    for name in ("mediapipe-face-detection", "mediapipe-face-landmark"):
        manifest.install(manifest.find(name), MODELS)
    mesh = FaceMesh().load(MODELS)
    segmenter = SelfieSegmenter().load(MODELS)
    hog = DlibFaceAnalyzer().load()
    finder = DlibFaceAnalyzer(detector=BlazeFaceDetector().load(MODELS), mesh=mesh).load()
    checker = PhotoChecker(finder)
    renderer = StudioRenderer(load_shipped()["corporate-executive"], segmenter=segmenter, mesh=mesh)
    portrait = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    face = hog.detect(portrait)[0]
    reference = finder.embed(portrait, face)
    rows = []
    for rung in ladder(portrait, mesh(portrait, face), segmenter(portrait)):
        report = checker(rung.pixels)
        found = report.face
        row: dict[str, object] = {
            "level": rung.level,
            "hog_finds_the_face": bool(hog.detect(rung.pixels)),
            "face_found": found is not None,
            "usable": report.usable,
            "refused_by": [c.code for c in report.checks if c.status == "fail"],
            "warned_by": [c.code for c in report.checks if c.status == "warn"],
        }
        if found is not None:
            exposure = next(c for c in report.checks if c.code == "exposure")
            rendered = renderer(rung.pixels, found, seed=1)
            out_faces = finder.detect(rendered.pixels)
            before = measure_skin(rung.pixels, found)
            after = measure_skin(rendered.pixels, out_faces[0]) if out_faces else None
            row.update(
                {
                    "exposure_reference": exposure.value,
                    "identity_to_original": round(
                        cosine(reference, finder.embed(rung.pixels, found)), 3
                    ),
                    "render_identity": None
                    if not out_faces
                    else round(
                        cosine(
                            finder.embed(rung.pixels, found),
                            finder.embed(rendered.pixels, out_faces[0]),
                        ),
                        3,
                    ),
                    "render_delta_e": None
                    if after is None
                    else round(float(np.linalg.norm(after - before)), 1),
                    "render_delta_l": None
                    if after is None
                    else round(float(after[0] - before[0]), 1),
                    "headshot_offered": not rendered.problem,
                }
            )
        rows.append(row)
    save("skin_ladder", {"what": __doc__.splitlines()[0], "levels": rows})
    columns = [
        "Monk level",
        "HOG alone finds the face",
        "found",
        "usable",
        "warnings",
        "exposure reference",
        "identity to the untouched portrait",
        "headshot to its selfie",
        "render ΔE / ΔL*",
        "headshot offered",
    ]
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))
    for row in rows:
        print(
            f"| {row['level']} | {'yes' if row['hog_finds_the_face'] else 'no'} | "
            f"{'yes' if row['face_found'] else 'no'} | {'yes' if row['usable'] else 'no'} | "
            f"{', '.join(row['warned_by']) or 'none'} | "  # type: ignore[arg-type]
            f"{row.get('exposure_reference', '')} | {row.get('identity_to_original', '')} | "
            f"{row.get('render_identity', '')} | "
            f"{row.get('render_delta_e', '')} / {row.get('render_delta_l', '')} | "
            f"{'yes' if row.get('headshot_offered') else 'no'} |"
        )


if __name__ == "__main__":
    main()
