"""Tiny SDXL components with real diffusers / transformers classes and a fixed seed,
saved in diffusers' folder layout, and the identity adapters' checkpoints with their
published key names and file layouts, scaled down."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bench.sdxl_models import (
    TINY_UNET,
    TINY_VAE,
    faceid_adapter_state,
    faceid_plus_adapter_state,
    instantid_adapter_state,
    plus_face_adapter_state,
)

CLIP_DIM = 32  # the tiny image encoder's hidden size (CLIP ViT-H's is 1280)


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


def _unet(sdxl: Path):
    from diffusers import UNet2DConditionModel

    return UNet2DConditionModel.from_pretrained(str(sdxl), subfolder="unet")


def build_faceid_adapter(path: Path, unet_folder: Path, *, lora: bool = True) -> Path:
    """An IP-Adapter FaceID checkpoint (with its LoRA, as published, unless ``lora`` is
    False) shaped for the tiny UNet (random, seeded)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(faceid_adapter_state(_unet(unet_folder), seed=1, lora_rank=8 if lora else 0), path)
    return path


def build_image_encoder(folder: Path) -> Path:
    """A tiny CLIP vision tower with projection, in transformers' layout (CLIP ViT-H's
    place: ip-adapter/image_encoder/)."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(7)
    config = CLIPVisionConfig(
        hidden_size=CLIP_DIM,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        image_size=32,
        patch_size=8,
        projection_dim=16,
    )
    CLIPVisionModelWithProjection(config).save_pretrained(str(folder))
    return folder


def build_adapters(folder: Path, sdxl: Path) -> Path:
    """Every zero-shot method's files under ``folder`` in the published layout: the CLIP
    image encoder, IP-Adapter Plus Face (safetensors, keys prefixed ``image_proj.`` and
    ``ip_adapter.``), FaceID and FaceID Plus v2 (torch pickles with their LoRA), and
    InstantID's adapter and IdentityNet."""
    from safetensors.torch import save_file

    unet = _unet(sdxl)
    adapters = folder / "ip-adapter"
    build_image_encoder(adapters / "image_encoder")
    plus_face = plus_face_adapter_state(unet, seed=2, clip_dim=CLIP_DIM)
    save_file(
        {
            f"{section}.{key}": value
            for section, part in plus_face.items()
            for key, value in part.items()
        },
        str(adapters / "ip-adapter-plus-face_sdxl_vit-h.safetensors"),
    )
    build_faceid_adapter(adapters / "ip-adapter-faceid_sdxl.bin", sdxl)
    torch.save(
        faceid_plus_adapter_state(unet, seed=3, clip_dim=CLIP_DIM),
        adapters / "ip-adapter-faceid-plusv2_sdxl.bin",
    )
    (folder / "instantid").mkdir(parents=True, exist_ok=True)
    torch.save(instantid_adapter_state(unet, seed=4), folder / "instantid" / "ip-adapter.bin")
    build_controlnet(folder / "instantid" / "ControlNetModel", sdxl, seed=5)
    return folder


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
