"""Run each benchmark beside its baseline and write bench/results.json.

python -m bench.run [NAME ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results.json"
SAMPLES = Path(__file__).resolve().parent.parent / "var" / "samples"
MODELS = Path(__file__).resolve().parent.parent / "var" / "models"


@dataclass
class Pair:
    name: str
    what: str
    candidate: Callable[[], object]
    baseline: Callable[[], object]
    items: int = 1  # how many items (photos, images) one call processes
    # what else the pair measures, once (quality beside speed)
    measure: Callable[[], dict[str, float]] | None = None


def save(name: str, record: object, path: Path = RESULTS) -> None:
    """Put one benchmark's record into the results file, keeping the others'."""
    results = json.loads(path.read_text()) if path.is_file() else {}
    results[name] = record
    path.write_text(json.dumps(results, indent=2) + "\n")


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up: caches, lazy imports, model loading
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def twelve_megapixel_jpegs() -> list[bytes]:
    """4000 x 3000 JPEGs of a real portrait (the package-shipped astronaut) in four framings,
    the face from 7% to 20% of the frame height: enlarged, then sharpened as a phone
    camera does, so that every one is a usable selfie."""
    import io

    import cv2
    from PIL import Image

    from pipeline.tools import samples

    portrait = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    photos = []
    for enlarge in (2.5, 3.5, 4.5, 5.5):
        side = round(512 * enlarge)
        big = cv2.resize(portrait, (side, side), interpolation=cv2.INTER_CUBIC)
        soft = cv2.GaussianBlur(big, (0, 0), enlarge / 2)
        big = cv2.addWeighted(big, 1.0 + enlarge / 2, soft, -enlarge / 2, 0)
        top, left = max(0, (3000 - side) // 2), (4000 - side) // 2
        canvas = np.full((3000, 4000, 3), (96, 100, 108), np.uint8)
        canvas[top : top + min(side, 3000), left : left + side] = big[: min(side, 3000)]
        buffer = io.BytesIO()
        Image.fromarray(canvas).save(buffer, "JPEG", quality=90)
        photos.append(buffer.getvalue())
    return photos


def intake_pair() -> Pair:
    from PIL import Image, ImageOps

    from pipeline.checks import PhotoChecker
    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.imaging import normalise_upload
    from pipeline.orchestrator import HeadshotPipeline, PipelineConfig

    photos = twelve_megapixel_jpegs()
    pipeline = HeadshotPipeline.from_config(PipelineConfig(min_usable_photos=1, model_dir=MODELS))
    full_size = DlibFaceAnalyzer(detect_max_side=100_000).load()
    naive_checker = PhotoChecker(full_size)

    def candidate() -> object:
        for data in photos:
            normalised, _ = normalise_upload(data, max_bytes=50_000_000, max_pixels=50_000_000)
            analysis = pipeline.check_photo(normalised)
            assert analysis.embedding is not None, analysis.report.as_dict()
        return analysis

    def baseline() -> object:
        import io

        for data in photos:
            image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
            pixels = np.asarray(image.convert("RGB"))
            report = naive_checker(pixels)
            assert report.face is not None
            embedding = full_size.embed(pixels, report.face)  # the same work as the candidate
        return embedding

    return Pair(
        "intake_12mp",
        "decode, detect, landmarks, embedding and checks of four 12 MP JPEGs (face 7-20% of the height)",
        candidate,
        baseline,
        items=4,
    )


def studio_pair() -> Pair:
    from PIL import Image

    from pipeline.backends.segmentation import SelfieSegmenter
    from pipeline.backends.studio_renderer import StudioRenderer
    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.presets import load_shipped
    from pipeline.tools import samples

    pixels = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    face = DlibFaceAnalyzer().load().detect(pixels)[0]
    preset = load_shipped()["corporate-executive"]
    with_model = StudioRenderer(preset, segmenter=SelfieSegmenter().load(MODELS))
    grabcut = StudioRenderer(preset)
    return Pair(
        "studio_render",
        "one 1024 x 1280 studio headshot (corporate-executive): MediaPipe segmentation against GrabCut",
        lambda: with_model(pixels, face, seed=1),
        lambda: grabcut(pixels, face, seed=1),
    )


def studio_job_pair() -> Pair:
    """A job's twelve looks from three selfies: each selfie prepared once (balance, matte,
    retouch) and every look only framed, lit and composited, against preparing the selfie
    again for every candidate."""
    from PIL import Image

    from pipeline.backends.segmentation import SelfieSegmenter
    from pipeline.backends.studio_looks import plan
    from pipeline.backends.studio_renderer import StudioRenderer
    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.faces.mesh import FaceMesh
    from pipeline.presets import load_shipped
    from pipeline.tools import samples

    pixels = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    face = DlibFaceAnalyzer().load().detect(pixels)[0]
    preset = load_shipped()["corporate-executive"]
    renderer = StudioRenderer(
        preset, segmenter=SelfieSegmenter().load(MODELS), mesh=FaceMesh().load(MODELS)
    )
    looks = plan(preset, 12)

    def candidate() -> object:
        prepared = [renderer.prepare(pixels, face, seed=s) for s in range(3)]
        return [renderer.render(prepared[i % 3], seed=i, look=look) for i, look in enumerate(looks)]

    def baseline() -> object:
        return [renderer(pixels, face, seed=i, look=look) for i, look in enumerate(looks)]

    return Pair(
        "studio_job_12",
        "twelve 1024 x 1280 looks from three selfies: selfies prepared once, against a full render per look",
        candidate,
        baseline,
        items=12,
    )


def print_pair() -> Pair:
    """The print version of one 1024 x 1280 headshot (2048 x 2560): Real-ESRGAN x4, tiled on
    the CPU, on the headshot at half size, against a Lanczos enlargement. Quality beside
    speed: a real portrait reduced to half size, enlarged back both ways and compared with
    the original (PSNR, and the share of its fine detail each brings back)."""
    import cv2
    from PIL import Image

    from pipeline.backends.segmentation import SelfieSegmenter
    from pipeline.backends.studio_renderer import StudioRenderer
    from pipeline.backends.upscale import RealESRGANUpscaler, print_pixels
    from pipeline.faces import DlibFaceAnalyzer
    from pipeline.presets import load_shipped
    from pipeline.tools import manifest, samples

    manifest.install(manifest.find("realesrgan-x4plus"), MODELS)
    upscaler = RealESRGANUpscaler().load(MODELS)
    portrait = np.asarray(Image.open(samples.astronaut()).convert("RGB"))
    face = DlibFaceAnalyzer().load().detect(portrait)[0]
    preset = load_shipped()["corporate-executive"]
    headshot = StudioRenderer(preset, segmenter=SelfieSegmenter().load(MODELS))(
        portrait, face, seed=1
    ).pixels

    def measure() -> dict[str, float]:
        truth = portrait
        half = cv2.resize(truth, (256, 256), interpolation=cv2.INTER_AREA)

        def detail(image: np.ndarray) -> float:
            return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())

        def psnr(image: np.ndarray) -> float:
            error = np.mean((image.astype(np.float64) - truth.astype(np.float64)) ** 2)
            return float(10 * np.log10(255.0**2 / max(error, 1e-9)))

        model, plain = print_pixels(half, upscaler), print_pixels(half, None)
        return {
            "psnr_db_candidate": round(psnr(model), 2),
            "psnr_db_baseline": round(psnr(plain), 2),
            "detail_share_candidate": round(detail(model) / detail(truth), 3),
            "detail_share_baseline": round(detail(plain) / detail(truth), 3),
        }

    return Pair(
        "print_2048",
        "the print version of one 1024 x 1280 headshot (2048 x 2560): Real-ESRGAN x4 tiled on "
        "the CPU on the half-size headshot, against a Lanczos enlargement",
        lambda: print_pixels(headshot, upscaler),
        lambda: print_pixels(headshot, None),
        measure=measure,
    )


def cards_pair() -> Pair:
    import io
    import os

    import django
    from PIL import Image

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "headshots_portal.settings.base")
    django.setup()
    from apps.publishing.cards import CardPerson, render_card_pdf, render_cards_pdf
    from pipeline.tools import samples

    buffer = io.BytesIO()
    Image.open(samples.astronaut()).convert("RGB").resize((600, 600)).save(buffer, "JPEG")
    photo = buffer.getvalue()
    people = [
        (CardPerson(f"Person {i}", "Engineer", "R&D", f"p{i}@acme.example", "+1 555 0100"), photo)
        for i in range(100)
    ]
    return Pair(
        "cards_100",
        "100 business cards (front and back) as one PDF, against 100 PDFs of one card each",
        lambda: render_cards_pdf(people=people, company="Acme"),
        lambda: [render_card_pdf(person=p, company="Acme", photo_jpeg=j) for p, j in people],
        items=100,
    )


BENCHMARKS: dict[str, Callable[[], Pair]] = {
    "intake_12mp": intake_pair,
    "studio_render": studio_pair,
    "studio_job_12": studio_job_pair,
    "cards_100": cards_pair,
    "print_2048": print_pair,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help=f"some of: {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    results["machine"] = {
        "python": platform.python_version(),
        "processor": platform.processor() or platform.machine(),
    }
    for name in args.names or list(BENCHMARKS):
        pair = BENCHMARKS[name]()
        candidate = median_seconds(pair.candidate, args.repeat)
        baseline = median_seconds(pair.baseline, args.repeat)
        per_candidate, per_baseline = candidate / pair.items, baseline / pair.items
        results[name] = {
            "what": pair.what,
            "candidate_s_per_item": round(per_candidate, 4),
            "baseline_s_per_item": round(per_baseline, 4),
            "speedup": round(baseline / candidate, 2),
            "items": pair.items,
            "repeat": args.repeat,
            **(pair.measure() if pair.measure is not None else {}),
        }
        print(
            f"{name:<16} per item: candidate {per_candidate:6.3f} s, baseline {per_baseline:6.3f} s,"
            f" speedup x{baseline / candidate:.2f}"
        )
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
