"""Diffusion on GPU: seconds per 1024 x 1024 SDXL image at 30 steps, with IP-Adapter FaceID
identity conditioning, without and with the optimisations the diffusion backend uses.

python -m bench.gpu_sdxl [--steps 30] [--size 1024] [--batch N] [--repeat 3] [--compile]
python -m bench.gpu_sdxl --inpaint                # the face-preserving mode's inpainting UNet
python -m bench.gpu_sdxl --tiny --device cpu      # the same code on tiny models (a smoke run)

The UNet and the VAE are built from SDXL's public configurations with random weights:
speed does not depend on the weights' values, and no download is needed. Measured: the
denoising loop (UNet with classifier-free guidance, i.e. a doubled batch, and the
identity tokens) and the VAE decode; the text encoders run once per prompt and are left
out. Variants, each beside the baseline in the same process:

- baseline: fp16, the classic attention processor, batch 1, contiguous memory;
- optimised: bf16, SDPA attention, channels_last, batch N (from free memory unless
  given), torch.compile of the UNet with --compile.

Without CUDA it prints "no GPU" and records that, measuring nothing.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench.run import RESULTS, save
from bench.sdxl_models import (
    SDXL_UNET,
    SDXL_VAE,
    TINY_UNET,
    TINY_VAE,
    faceid_adapter_state,
    timed,
)

TEXT_TOKENS = 77


def build(
    tiny: bool, device: str, dtype: Any, *, classic_attention: bool, inpaint: bool = False
) -> tuple[Any, Any]:
    """The UNet (with IP-Adapter FaceID, or an inpainting UNet reading the mask and the
    masked image too) and the VAE, random weights of the real shapes."""
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from diffusers.models.attention_processor import AttnProcessor

    torch.manual_seed(0)
    config = TINY_UNET if tiny else SDXL_UNET
    with torch.device(device):  # random weights drawn where they run: seconds, not minutes
        unet = UNet2DConditionModel(**{**config, "in_channels": 9 if inpaint else 4})
    if not inpaint:
        unet._load_ip_adapter_weights([faceid_adapter_state(unet, seed=1)], low_cpu_mem_usage=False)
    if classic_attention:
        # Keep the IP-Adapter processors on the cross-attention layers; self-attention
        # goes back to the pre-SDPA implementation.
        processors = {
            name: AttnProcessor() if name.endswith("attn1.processor") else processor
            for name, processor in unet.attn_processors.items()
        }
        unet.set_attn_processor(processors)
    with torch.device(device):
        vae = AutoencoderKL(**(TINY_VAE if tiny else SDXL_VAE))
    return unet.to(device, dtype).eval(), vae.to(device, dtype).eval()


def inputs(
    unet: Any, batch: int, size: int, vae_scale: int, device: str, dtype: Any
) -> dict[str, Any]:
    import torch

    latent = size // vae_scale
    config = unet.config
    doubled = 2 * batch  # classifier-free guidance: conditional and unconditional halves
    text_embeds = config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim
    extra: dict[str, Any] = {}
    if config.in_channels == 9:  # inpainting: the mask and the masked image's latents
        extra["masked"] = torch.randn(doubled, 5, latent, latent, device=device, dtype=dtype)
    else:
        identity = unet.encoder_hid_proj.image_projection_layers[0].ff.net[0].proj.in_features
        extra["image_embeds"] = [torch.randn(doubled, 1, 1, identity, device=device, dtype=dtype)]
    return {
        "masked": extra.get("masked"),
        "sample": torch.randn(doubled, 4, latent, latent, device=device, dtype=dtype),
        "encoder_hidden_states": torch.randn(
            doubled, TEXT_TOKENS, config.cross_attention_dim, device=device, dtype=dtype
        ),
        "added_cond_kwargs": {
            "text_embeds": torch.randn(doubled, text_embeds, device=device, dtype=dtype),
            "time_ids": torch.tensor(
                [[size, size, 0, 0, size, size]] * doubled, device=device, dtype=dtype
            ),
            **({"image_embeds": extra["image_embeds"]} if "image_embeds" in extra else {}),
        },
    }


def seconds_per_image(
    *,
    tiny: bool,
    device: str,
    dtype: Any,
    batch: int,
    size: int,
    steps: int,
    repeat: int,
    optimised: bool,
    compile_unet: bool,
    inpaint: bool = False,
) -> float:
    import torch

    unet, vae = build(tiny, device, dtype, classic_attention=not optimised, inpaint=inpaint)
    if optimised and device == "cuda":
        unet.to(memory_format=torch.channels_last)
        vae.to(memory_format=torch.channels_last)
    if compile_unet:
        unet = torch.compile(unet, mode="max-autotune", fullgraph=True)
    vae_scale = 2 ** (len(vae.config.block_out_channels) - 1)
    kwargs = inputs(unet, batch, size, vae_scale, device, dtype)

    masked = kwargs["masked"]

    def one_batch() -> None:
        sample = kwargs["sample"]
        for step in range(steps):
            timestep = torch.full((sample.shape[0],), 999 - step * (1000 // steps), device=device)
            model_input = sample if masked is None else torch.cat([sample, masked], dim=1)
            noise = unet(
                model_input,
                timestep,
                encoder_hidden_states=kwargs["encoder_hidden_states"],
                added_cond_kwargs=kwargs["added_cond_kwargs"],
            ).sample
            guided = noise[:batch] + 5.0 * (noise[batch:] - noise[:batch])
            sample = sample - 0.01 * guided.repeat(2, 1, 1, 1)
        vae.decode(sample[:batch] / vae.config.scaling_factor)

    median = timed(one_batch, device, repeat)  # after a warm-up: kernels, compilation
    if device == "cuda":
        torch.cuda.empty_cache()  # the models go with this frame; the next variant needs the memory
    return median / batch


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=0, help="0: from free GPU memory")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--compile", action="store_true", help="torch.compile the UNet (slow warm-up)"
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="tiny models: checks the script, measures nothing useful",
    )
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument(
        "--inpaint", action="store_true", help="the face-preserving mode's inpainting UNet"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import torch

    from pipeline.backends.sdxl import batch_size_for

    conditioning = "inpainting round the kept face" if args.inpaint else "FaceID"
    if args.device == "cuda" and not torch.cuda.is_available():
        record: dict[str, Any] = {
            "status": "no GPU",
            "what": f"SDXL 1024 px, 30 steps, {conditioning}",
        }
        print("no GPU: this benchmark needs CUDA; nothing was measured")
    else:
        size = 64 if args.tiny else args.size
        steps = 2 if args.tiny else args.steps
        batch = args.batch
        if not batch:
            batch = (
                batch_size_for(torch.cuda.mem_get_info()[0], size, size)
                if args.device == "cuda"
                else 2
            )
        half = torch.float16 if args.device == "cuda" else torch.float32
        fast = torch.bfloat16 if args.device == "cuda" else torch.float32
        common = {
            "tiny": args.tiny,
            "device": args.device,
            "size": size,
            "steps": steps,
            "repeat": args.repeat,
            "inpaint": args.inpaint,
        }
        baseline = seconds_per_image(
            dtype=half, batch=1, optimised=False, compile_unet=False, **common
        )
        if args.device == "cuda":
            torch.cuda.empty_cache()  # the baseline's models are gone: give their memory back
        optimised = seconds_per_image(
            dtype=fast, batch=batch, optimised=True, compile_unet=args.compile, **common
        )
        record = {
            "status": "measured" if not args.tiny else "smoke run on tiny models",
            "what": f"SDXL {size} px, {steps} steps, {conditioning}, CFG, VAE decode",
            "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
            "baseline_s_per_image": round(baseline, 4),
            "optimised_s_per_image": round(optimised, 4),
            "speedup": round(baseline / optimised, 2),
            "batch": batch,
            "compiled": args.compile,
        }
        print(
            f"per image: baseline {baseline:.3f} s ({str(half)[6:]}, batch 1), optimised "
            f"{optimised:.3f} s ({str(fast)[6:]}, batch {batch}{', compiled' if args.compile else ''}), "
            f"x{baseline / optimised:.2f}"
        )
    save("gpu_sdxl_inpaint" if args.inpaint else "gpu_sdxl", record, args.results)
    return record


if __name__ == "__main__":
    main()
