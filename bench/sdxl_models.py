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


def faceid_adapter_state(
    unet: Any, *, seed: int, id_dim: int = 512, tokens: int = 4
) -> dict[str, Any]:
    """An IP-Adapter FaceID checkpoint (``image_proj`` and ``ip_adapter`` sections, in the
    published layout) shaped for ``unet``, with random values."""
    import torch

    generator = torch.Generator().manual_seed(seed)

    def random(*shape: int, scale: float) -> Any:
        return torch.randn(*shape, generator=generator) * scale

    cross = unet.config.cross_attention_dim
    channels = list(unet.config.block_out_channels)
    image_proj = {
        "proj.0.weight": random(id_dim * 2, id_dim, scale=0.02),
        "proj.0.bias": torch.zeros(id_dim * 2),
        "proj.2.weight": random(cross * tokens, id_dim * 2, scale=0.02),
        "proj.2.bias": torch.zeros(cross * tokens),
        "norm.weight": torch.ones(cross),
        "norm.bias": torch.zeros(cross),
    }
    adapter = {}
    key = 1  # the published numbering: every cross-attention processor, odd indices
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name[len("up_blocks.")])]
        else:
            hidden = channels[int(name[len("down_blocks.")])]
        adapter[f"{key}.to_k_ip.weight"] = random(hidden, cross, scale=0.5)
        adapter[f"{key}.to_v_ip.weight"] = random(hidden, cross, scale=0.5)
        key += 2
    return {"image_proj": image_proj, "ip_adapter": adapter}
