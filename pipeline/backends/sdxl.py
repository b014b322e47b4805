"""The diffusion backend: an SDXL-class pipeline with the person's identity from the
person's own LoRA ("lora", trained by ``pipeline.backends.lora``), their real face kept
("keep-face"), or one of the zero-shot adapters as published ("plus-face", "faceid",
"faceid-plus-v2", "instantid": ``pipeline.backends.identity_adapters``), and optional
ControlNets.

Weights come from the configured model directory, in diffusers' folder layout:

- ``MODEL_DIR/sdxl/``: model_index.json and its components (``sdxl-inpaint/`` for
  "keep-face");
- ``MODEL_DIR/ip-adapter/`` and ``MODEL_DIR/instantid/``: the adapters' files;
- ``MODEL_DIR/controlnet/<name>/``: an SDXL ControlNet per configured name.

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

from pipeline.backends.identity_adapters import (
    METHODS,
    FaceTokens,
    check_person,
    conditioning,
    embedding_size,
    load_adapter,
    load_identitynet,
    load_image_encoder,
)
from pipeline.errors import ModelMissing, PipelineError
from pipeline.provenance import TRAINED_ALGORITHMIC_MEDIA

logger = logging.getLogger(__name__)

INSTALL_HINT = (
    "Copy a diffusers-format SDXL model folder (model_index.json, unet/, vae/, text_encoder/, "
    "text_encoder_2/, tokenizer/, tokenizer_2/, scheduler/) to {sdxl}"
)
ADAPTER_HINT = ", and the {method} method's files ({source}) to {folder}"
CONTROLNET_HINT = (
    "Copy a diffusers-format SDXL ControlNet (config.json and diffusion_pytorch_model.safetensors) "
    "to {folder}, or remove {name!r} from HEADSHOTS_CONTROLNETS."
)
CONTROLNETS = ("pose", "depth", "edge")
# How the person's identity reaches generation: the person's own LoRA ("lora"), their
# real face kept and the rest inpainted ("keep-face"), or a zero-shot adapter.
IDENTITY_METHODS = ("lora", "keep-face", *METHODS)

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
        controlnets: tuple[str, ...] = (),
        device: str | None = None,
        compile_unet: bool = False,
        batch_size: int = 0,
        native_side: int = 1024,
    ) -> None:
        if "keypoints" in controlnets:
            raise PipelineError(
                "The facial keypoint ControlNet is InstantID's IdentityNet, which reads the face "
                "tokens rather than the text: set HEADSHOTS_IDENTITY_METHOD=instantid and remove "
                "'keypoints' from HEADSHOTS_CONTROLNETS.",
                code="backend_unknown",
            )
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
        self.adapter = METHODS.get(identity_method)
        self.controlnets = tuple(controlnets)
        # the control images a call takes: InstantID's keypoints first, then the configured
        self.control_names = (
            ("keypoints",) if self.adapter and self.adapter.identitynet else ()
        ) + self.controlnets
        self._face_tokens: FaceTokens | None = None
        self.device = device
        self.compile_unet = compile_unet
        self.batch_size = batch_size  # 0: chosen from free GPU memory
        self.native_side = native_side
        self._pipe: Any = None
        self._base_scheduler: Any = None
        self._lock = threading.Lock()
        self.identity_dim: int | None = None
        self.precision = ""

    def base_folder(self, model_dir: Path) -> Path:
        return Path(model_dir) / ("sdxl-inpaint" if self.identity_method == "keep-face" else "sdxl")

    def controlnet_folder(self, model_dir: Path, name: str) -> Path:
        return Path(model_dir) / "controlnet" / name

    def check_files(self, model_dir: str | Path) -> None:
        """Refuse, naming each missing file and how to install it, before anything loads."""
        model_dir = Path(model_dir)
        sdxl, adapter = self.base_folder(model_dir), self.adapter
        needed = [sdxl / "model_index.json"] + (adapter.files(model_dir) if adapter else [])
        missing = [str(p) for p in needed if not p.is_file()]
        if missing:
            raise ModelMissing(
                "Diffusion model files are missing: "
                + ", ".join(missing)
                + ". "
                + INSTALL_HINT.format(sdxl=sdxl)
                + (
                    ADAPTER_HINT.format(
                        method=adapter.name, source=adapter.source, folder=model_dir
                    )
                    if adapter
                    else ""
                )
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

    def load(self, model_dir: str | Path) -> SDXLModel:
        model_dir = Path(model_dir)
        self.check_files(model_dir)
        sdxl, adapter = self.base_folder(model_dir), self.adapter
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
        models = [
            ControlNetModel.from_pretrained(
                str(self.controlnet_folder(model_dir, name)), local_files_only=True, dtype=dtype
            )
            for name in self.controlnets
        ]
        if adapter and adapter.identitynet:
            models.insert(0, load_identitynet(model_dir, dtype))
            self._face_tokens = FaceTokens(models[0])
        if models:
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
        if adapter:
            if adapter.image_encoder:
                load_image_encoder(pipe, model_dir, dtype)
            load_adapter(pipe, adapter, model_dir)
        pipe.set_progress_bar_config(disable=True)
        pipe.to(device)
        if device == "cuda":
            # SDPA is diffusers' default attention on torch 2; channels_last helps the convolutions.
            pipe.unet.to(memory_format=torch.channels_last)
            if self.compile_unet:
                pipe.unet = torch.compile(pipe.unet, mode="max-autotune", fullgraph=True)
        if adapter and adapter.embedding:
            self.identity_dim = embedding_size(pipe)
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
        face: np.ndarray | None = None,
    ) -> list[np.ndarray]:
        """One image per seed, conditioned on the person and on ``control``: a control
        image and its weight per name in ``control_names``.

        The person comes as the method reads them: ``identity``, the ArcFace embedding
        (normalised, or raw for "instantid"); ``face``, their aligned face crop (the
        adapters that read it with CLIP); ``lora``, their LoRA weights; ``source``, the
        framed selfie and where to repaint ("keep-face")."""
        if self._pipe is None:
            raise RuntimeError("SDXLModel.load() must be called first")
        check_person(
            self.identity_method, self.identity_dim, identity=identity, lora=lora, source=source
        )
        control = control or {}
        if set(control) != set(self.control_names):
            raise PipelineError(
                f"Control images given for {sorted(control)}, but the ControlNets loaded are "
                f"{list(self.control_names)}.",
                code="control_mismatch",
            )
        extra: dict[str, Any] = {}
        if self.control_names:
            from PIL import Image

            images = [Image.fromarray(control[name][0]) for name in self.control_names]
            scales = [float(control[name][1]) for name in self.control_names]
            extra["image"] = images[0] if len(images) == 1 else images
            extra["controlnet_conditioning_scale"] = scales[0] if len(scales) == 1 else scales
        if source is not None and self.identity_method == "keep-face":
            from PIL import Image

            if self.control_names:  # the inpainting pipeline takes control images by this name
                extra["control_image"] = extra.pop("image")
            extra["image"] = Image.fromarray(source[0])
            extra["mask_image"] = Image.fromarray(source[1])
            extra["strength"] = 0.99  # the masked part is made anew; a trace of its colours stays
        per_batch = None
        with self._lock:  # one pipeline object per process: its scheduler state is shared
            self._pipe.scheduler = self._scheduler(scheduler)
            if self.adapter is not None:
                # the unconditional half gets an all-zero identity and a black face
                per_batch = conditioning(
                    self._pipe,
                    self.adapter,
                    embedding=identity,
                    face=face,
                    guided=guidance > 1.0,
                    face_tokens=self._face_tokens,
                )
                self._pipe.set_ip_adapter_scale(identity_strength)
            elif self.identity_method == "lora":
                from safetensors.torch import load

                assert lora is not None  # checked above
                self._pipe.load_lora_weights(load(lora), adapter_name="person")
                self._pipe.set_adapters(["person"], adapter_weights=[identity_strength])
            try:
                return self._generate(
                    prompt,
                    negative_prompt,
                    seeds,
                    (width, height),
                    steps,
                    guidance,
                    extra,
                    done,
                    per_batch,
                )
            finally:
                if self.identity_method == "lora":
                    self._pipe.delete_adapters("person")

    def _generate(
        self,
        prompt: str,
        negative_prompt: str,
        seeds: list[int],
        size: tuple[int, int],
        steps: int,
        guidance: float,
        extra: dict[str, Any],
        done: Callable[[int], None] | None,
        per_batch: Callable[[int], dict[str, Any]] | None,
    ) -> list[np.ndarray]:
        """The batches, under the caller's lock; an out-of-memory error halves the batch."""
        import torch

        width, height = size
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
                    **(per_batch(len(chunk)) if per_batch else {}),
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
