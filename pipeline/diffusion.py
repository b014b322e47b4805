"""The diffusion backend: an SDXL-class pipeline with IP-Adapter FaceID identity conditioning.

Weights come from the configured model directory, in diffusers' folder layout:
``MODEL_DIR/sdxl/`` (model_index.json and its components) and
``MODEL_DIR/ip-adapter/<file>`` (IP-Adapter FaceID for SDXL). Nothing is fetched from
a hub: loading uses local files only. torch and diffusers are imported only here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelMissing, PipelineError
from pipeline.provenance import TRAINED_ALGORITHMIC_MEDIA

INSTALL_HINT = (
    "Copy a diffusers-format SDXL model folder (model_index.json, unet/, vae/, text_encoder/, "
    "text_encoder_2/, tokenizer/, tokenizer_2/, scheduler/) to {sdxl}, and the IP-Adapter FaceID "
    "SDXL weights to {adapter}; check what their licences allow."
)


class DiffusionBackend:
    name = "diffusion-sdxl-faceid"
    digital_source_type = TRAINED_ALGORITHMIC_MEDIA

    def __init__(
        self,
        *,
        adapter_file: str = "ip-adapter-faceid_sdxl.bin",
        identity_strength: float = 0.7,
        device: str | None = None,
        compile_unet: bool = False,
    ) -> None:
        self.adapter_file = adapter_file
        self.identity_strength = identity_strength
        self.device = device
        self.compile_unet = compile_unet
        self._pipe: Any = None
        self.identity_dim: int | None = None

    def paths(self, model_dir: Path) -> tuple[Path, Path]:
        return Path(model_dir) / "sdxl", Path(model_dir) / "ip-adapter" / self.adapter_file

    def load(self, model_dir: str | Path) -> DiffusionBackend:
        sdxl, adapter = self.paths(Path(model_dir))
        missing = [str(p) for p in (sdxl / "model_index.json", adapter) if not p.is_file()]
        if missing:
            raise ModelMissing(
                "Diffusion model files are missing: "
                + ", ".join(missing)
                + ". "
                + INSTALL_HINT.format(sdxl=sdxl, adapter=adapter),
                code="model_missing",
            )
        try:
            import torch
            from diffusers import StableDiffusionXLPipeline
        except ImportError as exc:
            raise ModelMissing(
                f"The diffusion backend needs torch and diffusers ({exc}); install them on GPU workers.",
                code="model_missing",
            ) from exc
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = torch.float16 if device == "cuda" else torch.float32
        pipe = StableDiffusionXLPipeline.from_pretrained(
            str(sdxl), local_files_only=True, dtype=dtype
        )
        pipe.load_ip_adapter(
            str(adapter.parent), subfolder="", weight_name=adapter.name, image_encoder_folder=None
        )
        pipe.set_ip_adapter_scale(self.identity_strength)
        pipe.set_progress_bar_config(disable=True)
        pipe.to(device)
        if device == "cuda":
            # SDPA is diffusers' default attention on torch 2; channels_last helps the convolutions.
            pipe.unet.to(memory_format=torch.channels_last)
            if self.compile_unet:
                pipe.unet = torch.compile(pipe.unet, mode="max-autotune", fullgraph=True)
        projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
        self.identity_dim = int(projection.ff.net[0].proj.in_features)
        self.device, self._pipe = device, pipe
        return self

    def __call__(
        self,
        *,
        prompt: str,
        negative_prompt: str,
        identity: np.ndarray,
        seeds: list[int],
        width: int,
        height: int,
        steps: int,
        guidance: float,
    ) -> list[np.ndarray]:
        """One image per seed, conditioned on the identity embedding (unit ArcFace vector)."""
        import torch

        if self._pipe is None:
            raise RuntimeError("DiffusionBackend.load() must be called first")
        if identity.shape != (self.identity_dim,):
            raise PipelineError(
                f"Identity conditioning needs a {self.identity_dim}-d ArcFace embedding; this one has "
                f"{identity.shape[0]} dimensions. Use the insightface face backend with this generator.",
                code="identity_mismatch",
            )
        dtype = self._pipe.unet.dtype
        embedding = torch.from_numpy(identity.astype(np.float32)).reshape(1, 1, 1, -1)
        # Classifier-free guidance: an all-zero identity for the unconditional half.
        embeds = torch.cat([torch.zeros_like(embedding), embedding]).to(self.device, dtype)
        images = []
        for seed in seeds:
            generator = torch.Generator(device=self.device).manual_seed(int(seed))
            result = self._pipe(
                prompt=prompt,
                negative_prompt=negative_prompt,
                ip_adapter_image_embeds=[embeds],
                num_inference_steps=steps,
                guidance_scale=guidance,
                width=width,
                height=height,
                generator=generator,
                output_type="np",
            )
            images.append((np.clip(result.images[0], 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8))
        return images
