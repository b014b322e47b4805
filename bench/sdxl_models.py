"""SDXL components with random weights, built from public configurations: what the GPU
benchmark times (the arithmetic does not depend on the weights' values) and what the
tests shrink to tiny sizes."""

from __future__ import annotations

from typing import Any

# stabilityai/stable-diffusion-xl-base-1.0, unet/config.json and vae/config.json.
SDXL_UNET: dict[str, Any] = {
    "act_fn": "silu",
    "addition_embed_type": "text_time",
    "addition_embed_type_num_heads": 64,
    "addition_time_embed_dim": 256,
    "attention_head_dim": [5, 10, 20],
    "block_out_channels": [320, 640, 1280],
    "cross_attention_dim": 2048,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "in_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 4,
    "projection_class_embeddings_input_dim": 2816,
    "sample_size": 128,
    "transformer_layers_per_block": [1, 2, 10],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "use_linear_projection": True,
}
SDXL_VAE: dict[str, Any] = {
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
}
# The same architecture shrunk until two steps run in a second on one CPU core.
TINY_UNET: dict[str, Any] = {
    "block_out_channels": [8, 16],
    "layers_per_block": 1,
    "sample_size": 8,
    "in_channels": 4,
    "out_channels": 4,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
    "attention_head_dim": [2, 4],
    "use_linear_projection": True,
    "addition_embed_type": "text_time",
    "addition_time_embed_dim": 8,
    "transformer_layers_per_block": [1, 1],
    "projection_class_embeddings_input_dim": 80,
    "cross_attention_dim": 64,
    "norm_num_groups": 4,
}
TINY_VAE: dict[str, Any] = {
    "block_out_channels": [8, 16],
    "in_channels": 3,
    "out_channels": 3,
    "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
    "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"],
    "latent_channels": 4,
    "norm_num_groups": 4,
    "sample_size": 32,
}


def _random(seed: int) -> Any:
    import torch

    generator = torch.Generator().manual_seed(seed)

    def random(*shape: int, scale: float) -> Any:
        return torch.randn(*shape, generator=generator) * scale

    return random


def _hidden_size(unet: Any, name: str) -> int:
    channels = list(unet.config.block_out_channels)
    if name.startswith("mid_block"):
        return int(channels[-1])
    if name.startswith("up_blocks"):
        return int(list(reversed(channels))[int(name[len("up_blocks.")])])
    return int(channels[int(name[len("down_blocks.")])])


def adapter_layers_state(unet: Any, random: Any, *, lora_rank: int = 0) -> dict[str, Any]:
    """The ``ip_adapter`` section in the published numbering: every attention processor
    of the UNet in order, the cross-attention ones (odd numbers) with ``to_k_ip`` and
    ``to_v_ip``; with ``lora_rank``, FaceID's LoRA on every processor's projections
    (``to_q_lora``, ``to_k_lora``, ``to_v_lora``, ``to_out_lora``, down and up)."""
    cross = unet.config.cross_attention_dim
    state = {}
    for key, name in enumerate(unet.attn_processors):
        hidden = _hidden_size(unet, name)
        self_attention = name.endswith("attn1.processor")
        if not self_attention:
            assert key % 2 == 1, "cross-attention processors take the odd numbers"
            state[f"{key}.to_k_ip.weight"] = random(hidden, cross, scale=0.5)
            state[f"{key}.to_v_ip.weight"] = random(hidden, cross, scale=0.5)
        if lora_rank:
            source = hidden if self_attention else cross
            for part, inputs in (
                ("to_q", hidden),
                ("to_k", source),
                ("to_v", source),
                ("to_out", hidden),
            ):
                state[f"{key}.{part}_lora.down.weight"] = random(lora_rank, inputs, scale=0.3)
                state[f"{key}.{part}_lora.up.weight"] = random(hidden, lora_rank, scale=0.3)
    return state


def resampler_state(
    random: Any,
    *,
    dim: int,
    embedding_dim: int,
    output_dim: int,
    queries: int = 0,
    depth: int = 4,
    dim_head: int = 64,
    ff_mult: int = 4,
) -> dict[str, Any]:
    """IP-Adapter's perceiver resampler in its published key names (``latents`` when it
    has learned queries, ``proj_in``, ``proj_out``, ``norm_out`` and per layer the
    attention's ``norm1``, ``norm2``, ``to_q``, ``to_kv``, ``to_out`` and the feed-forward
    ``1.0``, ``1.1``, ``1.3``); heads of 64 channels, as published."""
    import torch

    inner = dim // dim_head * dim_head
    state = {
        "proj_in.weight": random(dim, embedding_dim, scale=embedding_dim**-0.5),
        "proj_in.bias": torch.zeros(dim),
        "proj_out.weight": random(output_dim, dim, scale=dim**-0.5),
        "proj_out.bias": torch.zeros(output_dim),
        "norm_out.weight": torch.ones(output_dim),
        "norm_out.bias": torch.zeros(output_dim),
    }
    if queries:
        state["latents"] = random(1, queries, dim, scale=dim**-0.5)
    for layer in range(depth):
        prefix = f"layers.{layer}"
        for norm in ("0.norm1", "0.norm2", "1.0"):
            state[f"{prefix}.{norm}.weight"] = torch.ones(dim)
            state[f"{prefix}.{norm}.bias"] = torch.zeros(dim)
        state[f"{prefix}.0.to_q.weight"] = random(inner, dim, scale=dim**-0.5)
        state[f"{prefix}.0.to_kv.weight"] = random(inner * 2, dim, scale=dim**-0.5)
        state[f"{prefix}.0.to_out.weight"] = random(dim, inner, scale=inner**-0.5)
        state[f"{prefix}.1.1.weight"] = random(dim * ff_mult, dim, scale=dim**-0.5)
        state[f"{prefix}.1.3.weight"] = random(dim, dim * ff_mult, scale=(dim * ff_mult) ** -0.5)
    return state


def faceid_adapter_state(
    unet: Any, *, seed: int, id_dim: int = 512, tokens: int = 4, lora_rank: int = 8
) -> dict[str, Any]:
    """An IP-Adapter FaceID checkpoint as published (ip-adapter-faceid_sdxl.bin): the
    ``image_proj`` MLP from the ArcFace embedding to four tokens, and the ``ip_adapter``
    section with the LoRA the adapter was trained with; shaped for ``unet``, random."""
    import torch

    random = _random(seed)
    cross = unet.config.cross_attention_dim
    image_proj = {
        "proj.0.weight": random(id_dim * 2, id_dim, scale=0.02),
        "proj.0.bias": torch.zeros(id_dim * 2),
        "proj.2.weight": random(cross * tokens, id_dim * 2, scale=0.02),
        "proj.2.bias": torch.zeros(cross * tokens),
        "norm.weight": torch.ones(cross),
        "norm.bias": torch.zeros(cross),
    }
    return {
        "image_proj": image_proj,
        "ip_adapter": adapter_layers_state(unet, random, lora_rank=lora_rank),
    }


def faceid_plus_adapter_state(
    unet: Any, *, seed: int, clip_dim: int, id_dim: int = 512, lora_rank: int = 8
) -> dict[str, Any]:
    """IP-Adapter FaceID Plus v2 as published (ip-adapter-faceid-plusv2_sdxl.bin): the
    ArcFace MLP to four tokens (``proj``, ``norm``) refined by a perceiver resampler over
    the face's CLIP image features (``perceiver_resampler.*``), and its LoRA."""
    import torch

    random = _random(seed)
    cross = unet.config.cross_attention_dim
    image_proj = {
        "proj.0.weight": random(id_dim * 2, id_dim, scale=0.02),
        "proj.0.bias": torch.zeros(id_dim * 2),
        "proj.2.weight": random(cross * 4, id_dim * 2, scale=0.02),
        "proj.2.bias": torch.zeros(cross * 4),
        "norm.weight": torch.ones(cross),
        "norm.bias": torch.zeros(cross),
    }
    resampler = resampler_state(random, dim=cross, embedding_dim=clip_dim, output_dim=cross)
    image_proj |= {f"perceiver_resampler.{key}": value for key, value in resampler.items()}
    return {
        "image_proj": image_proj,
        "ip_adapter": adapter_layers_state(unet, random, lora_rank=lora_rank),
    }


def plus_face_adapter_state(
    unet: Any, *, seed: int, clip_dim: int, dim: int = 64, queries: int = 16
) -> dict[str, Any]:
    """IP-Adapter Plus Face as published (ip-adapter-plus-face_sdxl_vit-h): a perceiver
    resampler with learned queries over the face's CLIP image features."""
    random = _random(seed)
    cross = unet.config.cross_attention_dim
    return {
        "image_proj": resampler_state(
            random, dim=dim, embedding_dim=clip_dim, output_dim=cross, queries=queries
        ),
        "ip_adapter": adapter_layers_state(unet, random),
    }


def instantid_adapter_state(
    unet: Any, *, seed: int, id_dim: int = 512, dim: int = 64, queries: int = 16
) -> dict[str, Any]:
    """InstantID's ip-adapter.bin as published: a perceiver resampler from the ArcFace
    embedding to ``queries`` face tokens (for the UNet's adapter and for IdentityNet)."""
    random = _random(seed)
    cross = unet.config.cross_attention_dim
    return {
        "image_proj": resampler_state(
            random, dim=dim, embedding_dim=id_dim, output_dim=cross, queries=queries
        ),
        "ip_adapter": adapter_layers_state(unet, random),
    }


def timed(work: Any, device: str, repeat: int) -> float:
    """The median of ``repeat`` runs after one warm-up, in seconds."""
    import time

    import torch

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    with torch.inference_mode():
        work()
        sync()
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            work()
            sync()
            times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]
