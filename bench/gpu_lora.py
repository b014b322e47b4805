"""Per-person LoRA training on GPU: steps per second and peak memory for the training loop
the diffusion backend runs (pipeline.backends.lora: LoraTrainer.fit), on SDXL's UNet at
its published size, and what that means per person at the configured number of steps.

python -m bench.gpu_lora [--size 1024] [--rank 16] [--steps 30] [--person-steps 800]
python -m bench.gpu_lora --tiny --device cpu      # the same code on tiny models (a smoke run)

The UNet is built from SDXL's public configuration with random weights (speed does not
depend on the weights' values; nothing is downloaded); the images and the caption come in
encoded (random latents and text embeddings of the real shapes): the VAE and the text
encoders run once per person, outside the loop. Two variants, each in the same process:

- baseline: the UNet in float32;
- trainer: the UNet in bf16 (as the worker holds it for generation), the LoRA in float32.

Without CUDA it prints "no GPU" and records that, measuring nothing.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.run import RESULTS, save
from bench.sdxl_models import SDXL_UNET, TINY_UNET

TEXT_TOKENS = 77


def steps_per_second(
    *, tiny: bool, device: str, dtype: Any, size: int, rank: int, steps: int
) -> tuple[float, float]:
    """(training steps per second, peak GPU memory in GiB; 0 on the CPU)."""
    import torch
    from diffusers import DDPMScheduler, UNet2DConditionModel

    from pipeline.backends.lora import LoraSettings, LoraTrainer

    torch.manual_seed(0)
    with torch.device(device):  # random weights drawn where they run: seconds, not minutes
        unet = UNet2DConditionModel(**(TINY_UNET if tiny else SDXL_UNET))
    unet = unet.to(device, dtype)
    config = unet.config
    latent = size // 8 if not tiny else size // 2
    latents = torch.randn(4, config.in_channels, latent, latent, device=device, dtype=dtype)
    embeds = torch.randn(1, TEXT_TOKENS, config.cross_attention_dim, device=device, dtype=dtype)
    pooled_size = config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim
    pooled = torch.randn(1, pooled_size, device=device, dtype=dtype)
    time_ids = torch.tensor([[size, size, 0, 0, size, size]], device=device, dtype=dtype)
    trainer = LoraTrainer.on_unet(unet, DDPMScheduler(), device)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    settings = LoraSettings(rank=rank, alpha=rank, steps=2, resolution=size)
    trainer.fit(latents, (embeds, pooled, time_ids), settings)  # warm-up: kernels, allocator
    if device == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    trainer.fit(latents, (embeds, pooled, time_ids), replace(settings, steps=steps))
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else 0.0
    del trainer, unet, latents
    if device == "cuda":
        torch.cuda.empty_cache()
    return steps / seconds, peak


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--steps", type=int, default=30, help="steps timed per variant")
    parser.add_argument("--person-steps", type=int, default=800, help="steps per person")
    parser.add_argument("--tiny", action="store_true", help="tiny models: checks the script")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        record: dict[str, Any] = {"status": "no GPU", "what": "SDXL LoRA training, 1024 px"}
        print("no GPU: this benchmark needs CUDA; nothing was measured")
    else:
        size = 64 if args.tiny else args.size
        steps = 3 if args.tiny else args.steps
        fast = torch.bfloat16 if args.device == "cuda" else torch.float32
        common = {"tiny": args.tiny, "device": args.device, "size": size, "rank": args.rank}
        base_rate, base_peak = steps_per_second(dtype=torch.float32, steps=steps, **common)
        rate, peak = steps_per_second(dtype=fast, steps=steps, **common)
        record = {
            "status": "measured" if not args.tiny else "smoke run on tiny models",
            "what": f"SDXL UNet LoRA rank {args.rank} training at {size} px, batch 1",
            "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
            "baseline_steps_per_s": round(base_rate, 3),
            "baseline_peak_gib": round(base_peak, 2),
            "trainer_steps_per_s": round(rate, 3),
            "trainer_peak_gib": round(peak, 2),
            "speedup": round(rate / base_rate, 2),
            "person_steps": args.person_steps,
            "person_minutes": round(args.person_steps / rate / 60, 2),
        }
        print(
            f"LoRA training: baseline {base_rate:.2f} steps/s (float32, peak {base_peak:.1f} GiB), "
            f"trainer {rate:.2f} steps/s ({str(fast)[6:]}, peak {peak:.1f} GiB), "
            f"{args.person_steps} steps per person: {args.person_steps / rate / 60:.1f} min"
        )
    save("gpu_lora", record, args.results)
    return record


if __name__ == "__main__":
    main()
