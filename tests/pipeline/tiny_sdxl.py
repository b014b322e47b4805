"""Tiny SDXL components with real diffusers / transformers classes and a fixed seed,
saved in diffusers' folder layout, plus a tiny IP-Adapter FaceID state dict."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bench.sdxl_models import TINY_UNET, TINY_VAE, faceid_adapter_state


def _tokenizer(folder: Path) -> None:
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for letter in letters:
        vocab[letter] = len(vocab)
        vocab[letter + "</w>"] = len(vocab)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "model_max_length": 77,
                "bos_token": "<|startoftext|>",
                "eos_token": "<|endoftext|>",
                "unk_token": "<|endoftext|>",
                "pad_token": "<|endoftext|>",
            }
        )
    )
    CLIPTokenizer.from_pretrained(str(folder))  # fails here if the files are wrong


def build_sdxl(folder: Path, *, inpainting: bool = False) -> Path:
    """Tiny SDXL in diffusers' layout at ``folder/sdxl`` (or, with ``inpainting``, an
    inpainting SDXL, its UNet taking the masked image too, at ``folder/sdxl-inpaint``)."""
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionXLInpaintPipeline,
        StableDiffusionXLPipeline,
        UNet2DConditionModel,
    )
    from transformers import (
        CLIPTextConfig,
        CLIPTextModel,
        CLIPTextModelWithProjection,
        CLIPTokenizer,
    )

    torch.manual_seed(0)
    # an inpainting UNet reads the noisy latents, the mask and the masked image's latents
    unet = UNet2DConditionModel(**{**TINY_UNET, "in_channels": 9 if inpainting else 4})
    vae = AutoencoderKL(**TINY_VAE)
    text = CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=1000,
        projection_dim=32,
        hidden_act="gelu",
    )
    _tokenizer(folder / "tokenizer-source")
    tokenizer = CLIPTokenizer.from_pretrained(str(folder / "tokenizer-source"))
    kind = StableDiffusionXLInpaintPipeline if inpainting else StableDiffusionXLPipeline
    pipe = kind(
        unet=unet,
        vae=vae,
        scheduler=EulerDiscreteScheduler(
            beta_schedule="scaled_linear",
            beta_start=0.00085,
            beta_end=0.012,
            timestep_spacing="leading",
            steps_offset=1,
        ),
        text_encoder=CLIPTextModel(text),
        text_encoder_2=CLIPTextModelWithProjection(text),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
    )
    name = "sdxl-inpaint" if inpainting else "sdxl"
    pipe.save_pretrained(str(folder / name))
    return folder / name


def build_faceid_adapter(path: Path, unet_folder: Path) -> Path:
    """An IP-Adapter FaceID checkpoint shaped for the tiny UNet (random, seeded)."""
    from diffusers import UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(str(unet_folder), subfolder="unet")
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(faceid_adapter_state(unet, seed=1), path)
    return path


def build_controlnet(folder: Path, sdxl: Path, *, seed: int) -> Path:
    """A ControlNet made from the tiny UNet (its weights, as diffusers does for training),
    with the zero convolutions given random values so the control image matters."""
    from diffusers import ControlNetModel, UNet2DConditionModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(str(sdxl), subfolder="unet")
    # The VAE halves the image once, so one downsampling step brings the control image
    # to the latent size.
    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8))
    with torch.no_grad():
        for name, parameter in controlnet.named_parameters():
            if "zero_conv" in name or "controlnet_" in name or "conv_out" in name:
                parameter.normal_(0.0, 0.3)
    controlnet.save_pretrained(str(folder))
    return folder
