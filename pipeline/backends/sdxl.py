"""The diffusion backend: an SDXL-class pipeline with the person's identity from either
IP-Adapter FaceID conditioning ("faceid") or the person's own LoRA ("lora", trained by
``pipeline.backends.lora``), and optional ControlNets.

Weights come from the configured model directory, in diffusers' folder layout:

- ``MODEL_DIR/sdxl/``: model_index.json and its components;
- ``MODEL_DIR/ip-adapter/<file>``: IP-Adapter FaceID for SDXL (the "faceid" method only);
- ``MODEL_DIR/controlnet/keypoints/``: an InstantID-style facial keypoint ControlNet
  (when configured);
- ``MODEL_DIR/controlnet/pose/``: an OpenPose SDXL ControlNet (when configured).

Nothing is fetched from a hub: loading uses local files only. torch and diffusers are
imported only here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelMissing, PipelineError
from pipeline.provenance import TRAINED_ALGORITHMIC_MEDIA

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "Copy a diffusers-format SDXL model folder (model_index.json, unet/, vae/, text_encoder/, "
    "text_encoder_2/, tokenizer/, tokenizer_2/, scheduler/) to {sdxl}"
)
ADAPTER_HINT = ", and the IP-Adapter FaceID SDXL weights to {adapter}"
CONTROLNET_HINT = (
    "Copy a diffusers-format SDXL ControlNet (config.json and diffusion_pytorch_model.safetensors) "
    "to {folder}, or remove {name!r} from HEADSHOTS_CONTROLNETS."
)
CONTROLNETS = ("keypoints", "pose")
# How the person's identity reaches generation: an embedding ("faceid"), the person's own
# LoRA ("lora"), or their real face kept and the rest inpainted ("keep-face").
IDENTITY_METHODS = ("faceid", "lora", "keep-face")

# (diffusers class, extra config) per preset scheduler name.
SCHEDULER_CLASSES: dict[str, tuple[str, dict[str, Any]]] = {
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": False}),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler", {"use_karras_sigmas": True}),
    "ddim": ("DDIMScheduler", {}),
    "unipc": ("UniPCMultistepScheduler", {}),
}

# Working memory of one SDXL image in half precision at 1024 x 1024 with ControlNets
# (activations, VAE decode): a conservative estimate of 1.5 GiB, scaled by pixel count.
# A reserve stays free for the allocator's fragmentation. An out-of-memory error halves
# the batch; HEADSHOTS_DIFFUSION_BATCH fixes the size instead.
BYTES_PER_MEGAPIXEL = int(1.5 * 2**30 / 1.048576)
RESERVE_BYTES = 2 * 2**30
MAX_BATCH = 8


def batch_size_for(free_bytes: int, width: int, height: int, *, max_batch: int = MAX_BATCH) -> int:
    """How many images fit in ``free_bytes`` of GPU memory at once (at least one)."""
    per_image = BYTES_PER_MEGAPIXEL * width * height / 1e6
    return int(max(1, min(max_batch, (free_bytes - RESERVE_BYTES) // max(per_image, 1))))


def generation_size(width: int, height: int, native_side: int) -> tuple[int, int]:
    """The size to generate at: the output's aspect ratio with the long side at most the
    model's native resolution, in multiples of 64. Larger outputs are upscaled after."""
    scale = min(1.0, native_side / max(width, height))
    return (max(64, round(width * scale / 64) * 64), max(64, round(height * scale / 64) * 64))


class SDXLModel:
    digital_source_type = TRAINED_ALGORITHMIC_MEDIA

    def __init__(
        self,
        *,
        identity_method: str = "faceid",
        adapter_file: str = "ip-adapter-faceid_sdxl.bin",
        controlnets: tuple[str, ...] = (),
        device: str | None = None,
        compile_unet: bool = False,
        batch_size: int = 0,
        native_side: int = 1024,
    ) -> None:
        unknown = sorted(set(controlnets) - set(CONTROLNETS))
        if unknown:
            raise PipelineError(
                f"Unknown ControlNet {unknown}; choose from {list(CONTROLNETS)}.",
                code="backend_unknown",
            )
        if identity_method not in IDENTITY_METHODS:
            raise PipelineError(
                f"Unknown identity method {identity_method!r}; choose from {list(IDENTITY_METHODS)}.",
                code="backend_unknown",
            )
        self.identity_method = identity_method
        self.name = f"diffusion-sdxl-{identity_method}"
        self.adapter_file = adapter_file
        self.controlnets = tuple(controlnets)
        self.device = device
        self.compile_unet = compile_unet
        self.batch_size = batch_size  # 0: chosen from free GPU memory
        self.native_side = native_side
        self._pipe: Any = None
        self._base_scheduler: Any = None
        self._lock = threading.Lock()
        self.identity_dim: int | None = None
        self.precision = ""

    def paths(self, model_dir: Path) -> tuple[Path, Path]:
        folder = "sdxl-inpaint" if self.identity_method == "keep-face" else "sdxl"
        return Path(model_dir) / folder, Path(model_dir) / "ip-adapter" / self.adapter_file

    def controlnet_folder(self, model_dir: Path, name: str) -> Path:
        return Path(model_dir) / "controlnet" / name

    def load(self, model_dir: str | Path) -> SDXLModel:
        sdxl, adapter = self.paths(Path(model_dir))
        needed = [sdxl / "model_index.json"] + (
            [adapter] if self.identity_method == "faceid" else []
        )
        missing = [str(p) for p in needed if not p.is_file()]
        if missing:
            raise ModelMissing(
                "Diffusion model files are missing: "
                + ", ".join(missing)
                + ". "
                + INSTALL_HINT.format(sdxl=sdxl)
                + (ADAPTER_HINT.format(adapter=adapter) if self.identity_method == "faceid" else "")
                + "; check what their licences allow.",
                code="model_missing",
            )
        for name in self.controlnets:
            folder = self.controlnet_folder(Path(model_dir), name)
            if not (folder / "config.json").is_file():
                raise ModelMissing(
                    f"The {name} ControlNet is configured but {folder / 'config.json'} is missing. "
                    + CONTROLNET_HINT.format(folder=folder, name=name),
                    code="model_missing",
                )
        try:
            import torch
            from diffusers import (
                ControlNetModel,
                StableDiffusionXLControlNetInpaintPipeline,
                StableDiffusionXLControlNetPipeline,
                StableDiffusionXLInpaintPipeline,
                StableDiffusionXLPipeline,
            )
        except ImportError as exc:
            raise ModelMissing(
                f"The diffusion backend needs torch and diffusers ({exc}); install them on GPU workers.",
                code="model_missing",
            ) from exc
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        if device == "cuda":
            # bf16 keeps fp32's range (no NaNs from the SDXL VAE); fp16 on older GPUs.
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        else:
            dtype = torch.float32
        self.precision = str(dtype).removeprefix("torch.")
        if self.controlnets:
            models = [
                ControlNetModel.from_pretrained(
                    str(self.controlnet_folder(Path(model_dir), name)),
                    local_files_only=True,
                    dtype=dtype,
                )
                for name in self.controlnets
            ]
            controlled = (
                StableDiffusionXLControlNetInpaintPipeline
                if self.identity_method == "keep-face"
                else StableDiffusionXLControlNetPipeline
            )
            pipe = controlled.from_pretrained(
                str(sdxl),
                controlnet=models[0] if len(models) == 1 else models,
                local_files_only=True,
                dtype=dtype,
            )
        else:
            plain = (
                StableDiffusionXLInpaintPipeline
                if self.identity_method == "keep-face"
                else StableDiffusionXLPipeline
            )
            pipe = plain.from_pretrained(str(sdxl), local_files_only=True, dtype=dtype)
        if self.identity_method == "faceid":
            pipe.load_ip_adapter(
                str(adapter.parent),
                subfolder="",
                weight_name=adapter.name,
                image_encoder_folder=None,
            )
        pipe.set_progress_bar_config(disable=True)
        pipe.to(device)
        if device == "cuda":
            # SDPA is diffusers' default attention on torch 2; channels_last helps the convolutions.
            pipe.unet.to(memory_format=torch.channels_last)
            if self.compile_unet:
                pipe.unet = torch.compile(pipe.unet, mode="max-autotune", fullgraph=True)
        if self.identity_method == "faceid":
            projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
            self.identity_dim = int(projection.ff.net[0].proj.in_features)
        self._base_scheduler = pipe.scheduler
        self.device, self._pipe = device, pipe
        return self

    @property
    def pipe(self) -> Any:
        """The loaded diffusers pipeline (per-person training shares its parts)."""
        if self._pipe is None:
            raise RuntimeError("SDXLModel.load() must be called first")
        return self._pipe

    @property
    def lock(self) -> threading.Lock:
        """Held while the pipeline is in use (one job at a time changes its adapters)."""
        return self._lock

    def _scheduler(self, name: str) -> Any:
        import diffusers

        if name not in SCHEDULER_CLASSES:
            raise PipelineError(
                f"Unknown scheduler {name!r}; choose from {sorted(SCHEDULER_CLASSES)}.",
                code="preset_invalid",
            )
        class_name, extra = SCHEDULER_CLASSES[name]
        return getattr(diffusers, class_name).from_config(self._base_scheduler.config, **extra)

    def _batch_size(self, width: int, height: int) -> int:
        if self.batch_size:
            return self.batch_size
        if self.device != "cuda":
            return 1
        import torch

        free, _ = torch.cuda.mem_get_info()
        return batch_size_for(free, width, height)

    def __call__(
        self,
        *,
        prompt: str,
        negative_prompt: str,
        identity: np.ndarray | None,
        seeds: list[int],
        width: int,
        height: int,
        steps: int,
        guidance: float,
        scheduler: str = "dpmpp_2m_karras",
        identity_strength: float = 0.7,
        control: dict[str, tuple[np.ndarray, float]] | None = None,
        done: Callable[[int], None] | None = None,
        lora: bytes | None = None,
        source: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[np.ndarray]:
        """One image per seed, conditioned on the person (the "faceid" method: the identity
        embedding, a unit ArcFace vector; "lora": the person's LoRA weights) and on
        ``control``: a control image and its weight per configured ControlNet."""
        import torch

        if self._pipe is None:
            raise RuntimeError("SDXLModel.load() must be called first")
        if self.identity_method == "keep-face":
            if source is None:
                raise PipelineError(
                    "The face-preserving mode repaints round the person's framed selfie; none "
                    "was given.",
                    code="identity_mismatch",
                )
        elif self.identity_method == "lora":
            if lora is None:
                raise PipelineError(
                    "The LoRA method generates from the person's own trained model; none was given.",
                    code="identity_mismatch",
                )
        elif identity is None or identity.shape != (self.identity_dim,):
            raise PipelineError(
                f"Identity conditioning needs a {self.identity_dim}-d ArcFace embedding; this one has "
                f"{0 if identity is None else identity.shape[0]} dimensions. Use the insightface "
                "face backend with this generator.",
                code="identity_mismatch",
            )
        control = control or {}
        if set(control) != set(self.controlnets):
            raise PipelineError(
                f"Control images given for {sorted(control)}, but the configured ControlNets are "
                f"{list(self.controlnets)}.",
                code="control_mismatch",
            )
        extra: dict[str, Any] = {}
        if self.controlnets:
            from PIL import Image

            images = [Image.fromarray(control[name][0]) for name in self.controlnets]
            scales = [float(control[name][1]) for name in self.controlnets]
            extra["image"] = images[0] if len(images) == 1 else images
            extra["controlnet_conditioning_scale"] = scales[0] if len(scales) == 1 else scales
        dtype = self._pipe.unet.dtype
        if source is not None and self.identity_method == "keep-face":
            from PIL import Image

            if self.controlnets:  # the inpainting pipeline takes control images by this name
                extra["control_image"] = extra.pop("image")
            extra["image"] = Image.fromarray(source[0])
            extra["mask_image"] = Image.fromarray(source[1])
            extra["strength"] = 0.99  # the masked part is made anew; a trace of its colours stays
        if identity is not None and self.identity_method == "faceid":
            embedding = torch.from_numpy(identity.astype(np.float32)).reshape(1, 1, 1, -1)
            # Classifier-free guidance: an all-zero identity for the unconditional half.
            embeds = torch.cat([torch.zeros_like(embedding), embedding]).to(self.device, dtype)
            extra["ip_adapter_image_embeds"] = [embeds]
        with self._lock:  # one pipeline object per process: its scheduler state is shared
            self._pipe.scheduler = self._scheduler(scheduler)
            if self.identity_method == "faceid":
                self._pipe.set_ip_adapter_scale(identity_strength)
            elif self.identity_method == "lora":
                from safetensors.torch import load

                assert lora is not None  # checked above
                self._pipe.load_lora_weights(load(lora), adapter_name="person")
                self._pipe.set_adapters(["person"], adapter_weights=[identity_strength])
            try:
                return self._generate(
                    prompt, negative_prompt, seeds, width, height, steps, guidance, extra, done
                )
            finally:
                if self.identity_method == "lora":
                    self._pipe.delete_adapters("person")

    def _generate(
        self,
        prompt: str,
        negative_prompt: str,
        seeds: list[int],
        width: int,
        height: int,
        steps: int,
        guidance: float,
        extra: dict[str, Any],
        done: Callable[[int], None] | None,
    ) -> list[np.ndarray]:
        """The batches, under the caller's lock; an out-of-memory error halves the batch."""
        import torch

        batch = self._batch_size(width, height)
        images_out: list[np.ndarray] = []
        pending = list(seeds)
        while pending:
            chunk = pending[:batch]
            try:
                result = self._pipe(
                    prompt=prompt,
                    negative_prompt=negative_prompt,
                    num_inference_steps=steps,
                    guidance_scale=guidance,
                    width=width,
                    height=height,
                    num_images_per_prompt=len(chunk),
                    generator=[
                        torch.Generator(device=self.device).manual_seed(int(seed)) for seed in chunk
                    ],
                    output_type="np",
                    **extra,
                )
            except torch.OutOfMemoryError:
                if batch == 1:
                    raise
                # Too big for the memory free now: split the batch, never give up the job.
                torch.cuda.empty_cache()
                batch = max(1, batch // 2)
                logger.warning("out of GPU memory: batch size lowered to %d", batch)
                continue
            images_out.extend(
                (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8) for image in result.images
            )
            pending = pending[len(chunk) :]
            if done is not None:
                done(len(images_out))
        return images_out
