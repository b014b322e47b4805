"""Every GPU measure in one run, for a machine lent for a few minutes: each zero-shot
identity method's generation beside FaceID's, SDXL generation with FaceID (baseline
beside the backend's settings), the face-preserving mode's inpainting, and per-person
LoRA training, each on models of the real sizes with random
weights. Writes each one's record and a summary ("gpu") into bench/results.json and
prints the summary. Aimed at under 8 minutes on one data-centre GPU.

python -m bench.gpu                          # on the GPU machine
python -m bench.gpu --tiny --device cpu      # the same code on tiny models (a smoke run)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench import gpu_adapters, gpu_lora, gpu_sdxl
from bench.run import RESULTS, save


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="tiny models: checks the script")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lora-steps", type=int, default=30, help="training steps timed")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    common = ["--device", args.device, "--results", str(args.results)]
    if args.tiny:
        common.append("--tiny")
    # the newest measures first: what is written survives a run cut short
    runs = {
        "identity_methods": lambda: gpu_adapters.main([*common, "--repeat", "1"]),
        "lora_training": lambda: gpu_lora.main([*common, "--steps", str(args.lora_steps)]),
        "sdxl_keep_face": lambda: gpu_sdxl.main(
            [*common, "--repeat", str(args.repeat), "--inpaint"]
        ),
        "sdxl_faceid": lambda: gpu_sdxl.main([*common, "--repeat", str(args.repeat)]),
    }
    summary: dict[str, Any] = {}
    started = time.perf_counter()
    for name, run in runs.items():
        began = time.perf_counter()
        record = run()
        summary[name] = {**record, "seconds": round(time.perf_counter() - began, 1)}
    summary["total_seconds"] = round(time.perf_counter() - started, 1)
    save("gpu", summary, args.results)
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
