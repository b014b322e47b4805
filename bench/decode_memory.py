"""Peak memory of a web process decoding big uploads at once.

python -m bench.decode_memory [--uploads 3] [--megapixels 49] [--budget-mb 400]

Three people send a 49 MP PNG (7000 x 7000, a real portrait enlarged) at the same
moment. Each side runs in a fresh process; its peak resident memory (VmHWM) above what
the process held once the uploads were in memory is recorded:

- baseline: the decode as it was before the budget (the full image decoded, a full-size
  copy to apply the orientation, the full-size RGB array, then the 2048 px copy), three
  at once;
- candidate: the portal's upload path: each upload's cost read from its header and
  reserved from the process's budget (HEADSHOTS_UPLOAD_DECODE_MEMORY_MB), decoded with
  the early reduction.

Writes bench/results.json["decode_memory"].
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _reset_peak() -> None:
    """Forget the peak so far (Linux: writing 5 to clear_refs resets VmHWM)."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _big_png(megapixels: int) -> bytes:
    import numpy as np
    from PIL import Image

    from pipeline.tools import samples

    side = int((megapixels * 1_000_000) ** 0.5)
    portrait = Image.open(samples.astronaut()).convert("RGB").resize((side, side), Image.BICUBIC)
    # a little grain, as a camera's: the PNG stays compressible but is no flat gradient
    grain = np.random.default_rng(1).integers(0, 3, (side, side, 1), dtype=np.uint8)
    pixels = np.clip(np.asarray(portrait, dtype=np.int16) + grain, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def _decode_as_before(data: bytes) -> bytes:
    """The steps of the decode before the budget and the early reduction."""
    import numpy as np
    from PIL import Image, ImageOps

    from pipeline.imaging import NORMALISED_MAX_SIDE, downscale, encode

    image = Image.open(io.BytesIO(data))
    image.load()
    pixels = np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(image).convert("RGB")))
    small, _ = downscale(pixels, NORMALISED_MAX_SIDE)
    return encode(small, quality=92)


def _side(kind: str, uploads: int, png: Path, budget_mb: int) -> dict[str, float]:
    """One side, in this (fresh) process."""
    from apps.photos.decode_budget import DecodeBudget
    from pipeline.imaging import (
        NORMALISED_MAX_SIDE,
        decode_memory_estimate,
        normalise_upload,
    )

    files = [png.read_bytes() for _ in range(uploads)]
    limit = 50_000_000
    budget = DecodeBudget(budget_mb * 1024 * 1024)

    def candidate(data: bytes) -> None:
        cost = decode_memory_estimate(data, max_pixels=limit, max_side=NORMALISED_MAX_SIDE)
        with budget.reserve(cost + len(data)):
            normalise_upload(data, max_bytes=limit, max_pixels=limit)

    work = candidate if kind == "candidate" else _decode_as_before
    _reset_peak()
    start_kib = _peak_kib()
    barrier = threading.Barrier(uploads)

    def one(data: bytes) -> None:
        barrier.wait()
        work(data)

    threads = [threading.Thread(target=one, args=(data,)) for data in files]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "peak_above_start_mb": round((_peak_kib() - start_kib) / 1024, 1),
        "seconds": round(time.perf_counter() - started, 2),
        "file_mb": round(len(files[0]) / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=3)
    parser.add_argument("--megapixels", type=int, default=49)
    parser.add_argument("--budget-mb", type=int, default=400)
    parser.add_argument("--side", choices=["baseline", "candidate"])
    parser.add_argument("--png", type=Path)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(_side(args.side, args.uploads, args.png, args.budget_mb)))
        return
    import tempfile

    png = Path(tempfile.mkdtemp(prefix="bench-decode-")) / "big.png"
    png.write_bytes(_big_png(args.megapixels))
    sides = {}
    for side in ("baseline", "candidate"):
        out = subprocess.run(  # noqa: S603 - this very script, in a fresh process
            [
                sys.executable,
                "-m",
                "bench.decode_memory",
                "--side",
                side,
                "--uploads",
                str(args.uploads),
                "--png",
                str(png),
                "--budget-mb",
                str(args.budget_mb),
            ],
            check=True,
            capture_output=True,
            text=True,
            cwd=HERE.parent,
        )
        sides[side] = json.loads(out.stdout.strip().splitlines()[-1])
    record = {
        "what": f"{args.uploads} concurrent {args.megapixels} MP PNG uploads decoded in one "
        f"process; budget {args.budget_mb} MB",
        **sides,
        "memory_ratio": round(
            sides["baseline"]["peak_above_start_mb"]
            / max(1.0, sides["candidate"]["peak_above_start_mb"]),
            2,
        ),
    }
    from bench.run import save

    save("decode_memory", record)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
