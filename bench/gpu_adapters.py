"""The zero-shot identity methods on GPU: seconds per 1024 x 1024 SDXL image at 30 steps
with each method's conditioning, beside FaceID's (the baseline, measured before on its
own) in the same process.

python -m bench.gpu_adapters [--steps 30] [--size 1024] [--batch N] [--repeat 2]
python -m bench.gpu_adapters --tiny --device cpu    # the same code on tiny models

Random weights of the real shapes, built on the device (speed does not depend on the
weights' values; nothing is downloaded):

- faceid: the adapter's four tokens in every cross-attention (the baseline);
- faceid-lora: the same with the LoRA FaceID was trained with (rank 128 on every
  attention projection, unmerged, as the backend applies it);
- plus-face: a perceiver resampler's 16 tokens from CLIP ViT-H's 257 hidden states;
- faceid-plus-v2: the ArcFace tokens refined over CLIP's hidden states, with its LoRA;
- instantid: the resampler's 16 face tokens in the UNet, and IdentityNet (a ControlNet
  of the UNet's size) run at every step on the keypoint image with the face tokens.

Measured: the denoising loop with classifier-free guidance (a doubled batch) and the VAE
decode, in bf16 with SDPA and channels_last; separately, CLIP ViT-H reading the face
crop once per job. Without CUDA it prints "no GPU" and records that.
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
    faceid_plus_adapter_state,
    instantid_adapter_state,
    plus_face_adapter_state,
    timed,
)

METHODS = ("faceid", "faceid-lora", "plus-face", "faceid-plus-v2", "instantid")
TEXT_TOKENS = 77
# CLIP ViT-H-14 at 224 px (h94/IP-Adapter models/image_encoder/config.json)
CLIP_VIT_H = {
    "hidden_size": 1280,
    "intermediate_size": 5120,
    "num_attention_heads": 16,
    "num_hidden_layers": 32,
    "patch_size": 14,
    "image_size": 224,
    "projection_dim": 1024,
}
CLIP_TINY = {**CLIP_VIT_H, "hidden_size": 32, "intermediate_size": 37, "num_attention_heads": 4}
CLIP_TINY |= {"num_hidden_layers": 2, "patch_size": 8, "image_size": 32, "projection_dim": 16}
LORA_RANK = 128  # FaceID's published LoRA


def clip_tokens(clip: dict[str, int]) -> int:
    return (clip["image_size"] // clip["patch_size"]) ** 2 + 1


def build(method: str, tiny: bool, device: str, dtype: Any) -> tuple[Any, Any, Any]:
    """The UNet with the method's adapter (and LoRA), IdentityNet for InstantID, the VAE."""
    import torch
    from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

    torch.manual_seed(0)
    clip = (CLIP_TINY if tiny else CLIP_VIT_H)["hidden_size"]
    width = 64 if tiny else 1280  # the resamplers' inner width (IP-Adapter Plus, InstantID)
    with torch.device(device):
        unet = UNet2DConditionModel(**(TINY_UNET if tiny else SDXL_UNET))
        vae = AutoencoderKL(**(TINY_VAE if tiny else SDXL_VAE))
        states = {
            "faceid": lambda: faceid_adapter_state(unet, seed=1, lora_rank=0),
            "faceid-lora": lambda: faceid_adapter_state(unet, seed=1, lora_rank=0),
            "plus-face": lambda: plus_face_adapter_state(unet, seed=2, clip_dim=clip, dim=width),
            "faceid-plus-v2": lambda: faceid_plus_adapter_state(
                unet, seed=3, clip_dim=clip, lora_rank=0
            ),
            "instantid": lambda: instantid_adapter_state(unet, seed=4, dim=width),
        }
        state = states[method]()
        # the tiny VAE halves the image once: one downsampling step for the control image
        embedding = {"conditioning_embedding_out_channels": (4, 8)} if tiny else {}
        identitynet = (
            ControlNetModel.from_unet(unet, **embedding) if method == "instantid" else None
        )
    unet._load_ip_adapter_weights([state], low_cpu_mem_usage=False)
    if method in ("faceid-lora", "faceid-plus-v2"):
        from peft import LoraConfig

        targets = ["to_q", "to_k", "to_v", "to_out.0"]
        unet.add_adapter(
            LoraConfig(r=LORA_RANK, lora_alpha=LORA_RANK, target_modules=targets),
            adapter_name="faceid_0",
        )
    if method == "faceid-plus-v2":
        unet.encoder_hid_proj.image_projection_layers[0].shortcut = True
    unet = unet.to(device, dtype).eval()
    if identitynet is not None:
        identitynet = identitynet.to(device, dtype).eval()
    return unet, identitynet, vae.to(device, dtype).eval()


def seconds_per_image(
    method: str, *, tiny: bool, device: str, dtype: Any, batch: int, size: int, steps: int,
    repeat: int,
) -> float:  # fmt: skip
    import torch

    unet, identitynet, vae = build(method, tiny, device, dtype)
    if device == "cuda":
        for model in (unet, identitynet, vae):
            if model is not None:
                model.to(memory_format=torch.channels_last)
    config = unet.config
    doubled = 2 * batch
    latent = size // 2 ** (len(vae.config.block_out_channels) - 1)
    clip = CLIP_TINY if tiny else CLIP_VIT_H

    def randn(*shape: int) -> Any:
        return torch.randn(*shape, device=device, dtype=dtype)

    text_embeds = config.projection_class_embeddings_input_dim - 6 * config.addition_time_embed_dim
    added = {
        "text_embeds": randn(doubled, text_embeds),
        "time_ids": torch.tensor([[size, size, 0, 0, size, size]] * doubled, device=device).to(
            dtype
        ),
    }
    projection = unet.encoder_hid_proj.image_projection_layers[0]
    if method == "plus-face":
        image_embeds = randn(doubled, 1, clip_tokens(clip), clip["hidden_size"])
    else:
        image_embeds = randn(doubled, 1, 1, 512)
    if method == "faceid-plus-v2":
        projection.clip_embeds = randn(doubled, 1, clip_tokens(clip), clip["hidden_size"])
    text = randn(doubled, TEXT_TOKENS, config.cross_attention_dim)
    keypoints = randn(doubled, 3, size, size)

    def one_batch() -> None:
        sample = randn(doubled, 4, latent, latent)
        tokens = projection(image_embeds[:, 0]) if identitynet is not None else None
        for step in range(steps):
            timestep = torch.full((doubled,), 999 - step * (1000 // steps), device=device)
            residuals: dict[str, Any] = {}
            if identitynet is not None:
                down, middle = identitynet(
                    sample, timestep, encoder_hidden_states=tokens, controlnet_cond=keypoints,
                    added_cond_kwargs=added, return_dict=False,
                )  # fmt: skip
                residuals = {
                    "down_block_additional_residuals": down,
                    "mid_block_additional_residual": middle,
                }
            noise = unet(
                sample, timestep, encoder_hidden_states=text,
                added_cond_kwargs={**added, "image_embeds": [image_embeds]}, **residuals,
            ).sample  # fmt: skip
            guided = noise[:batch] + 5.0 * (noise[batch:] - noise[:batch])
            sample = sample - 0.01 * guided.repeat(2, 1, 1, 1)
        vae.decode(sample[:batch] / vae.config.scaling_factor)

    return timed(one_batch, device, repeat) / batch


def clip_seconds(tiny: bool, device: str, dtype: Any, repeat: int) -> float:
    """CLIP ViT-H reading the face crop and a black image (once per job)."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    clip = CLIP_TINY if tiny else CLIP_VIT_H
    with torch.device(device):
        encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(**clip))
    encoder = encoder.to(device, dtype).eval()
    pixels = torch.randn(2, 3, clip["image_size"], clip["image_size"], device=device, dtype=dtype)
    return timed(lambda: encoder(pixels, output_hidden_states=True), device, repeat)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=0, help="0: from free GPU memory")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="tiny models: checks the script")
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    import torch

    from pipeline.backends.sdxl import batch_size_for

    record: dict[str, Any]
    if args.device == "cuda" and not torch.cuda.is_available():
        record = {"status": "no GPU", "what": "SDXL 1024 px, 30 steps, each identity method"}
        print("no GPU: this benchmark needs CUDA; nothing was measured")
    else:
        size = 64 if args.tiny else args.size
        steps = 2 if args.tiny else args.steps
        batch = args.batch or (
            batch_size_for(torch.cuda.mem_get_info()[0], size, size) if args.device == "cuda" else 1
        )
        dtype = torch.bfloat16 if args.device == "cuda" else torch.float32
        common = {"tiny": args.tiny, "device": args.device, "dtype": dtype, "batch": batch}
        common |= {"size": size, "steps": steps, "repeat": args.repeat}
        per_image = {}
        for method in METHODS:
            per_image[method] = seconds_per_image(method, **common)
            if args.device == "cuda":
                torch.cuda.empty_cache()  # the method's models are gone: the next needs room
        baseline = per_image["faceid"]
        record = {
            "status": "measured" if not args.tiny else "smoke run on tiny models",
            "what": f"SDXL {size} px, {steps} steps, CFG, VAE decode, bf16, batch {batch}",
            "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
            "s_per_image": {method: round(value, 4) for method, value in per_image.items()},
            "against_faceid": {
                method: round(value / baseline, 2) for method, value in per_image.items()
            },
            "clip_vit_h_s_per_job": round(clip_seconds(args.tiny, args.device, dtype, 3), 4),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 1)
            if args.device == "cuda"
            else None,
        }
        for method, value in per_image.items():
            print(f"{method}: {value:.3f} s per image (x{value / baseline:.2f} FaceID's)")
    save("gpu_adapters", record, args.results)
    return record


if __name__ == "__main__":
    main()
