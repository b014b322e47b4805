"""Per-person fine-tuning: a small LoRA on SDXL's UNet, trained DreamBooth-style from the
person's own usable selfies, so that generation knows the person without any identity
model whose licence forbids commercial use.

The selfies are cropped head-and-shoulders with the eyes level (``training_images``),
captioned with a rare token bound to the person plus what was measured of them
(``caption``), and the UNet's attention projections learn low-rank updates (peft) by the
usual noise-prediction loss. The result is a safetensors blob in diffusers' LoRA layout:
biometric-derived data, which its keeper stores encrypted and deletes with the selfies.

torch, diffusers and peft are imported only inside the functions: the web process never
loads them.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.errors import ModelMissing, PipelineError

if TYPE_CHECKING:
    from pipeline.config import PipelineConfig

# The attention projections the LoRA updates (what DreamBooth-LoRA for SDXL trains).
TARGET_MODULES = ("to_q", "to_k", "to_v", "to_out.0")


@dataclass(frozen=True)
class LoraSettings:
    """How the person's model is trained; the defaults are the usual SDXL DreamBooth-LoRA
    recipe for 10-20 photos (about 10 minutes on one data-centre GPU at 1024 px)."""

    rank: int = 16
    alpha: int = 16
    steps: int = 800
    learning_rate: float = 1e-4
    resolution: int = 1024
    batch_size: int = 1
    seed: int = 0
    trigger: str = "ohwx"  # a rare word the person's look binds to
    # from selfies to training squares: the face box's height as this share of the square
    face_share: float = 0.35
    warmup_share: float = 0.05  # of the steps, the learning rate rising from zero

    def digest(self) -> str:
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


@dataclass
class TrainedLora:
    """A person's LoRA as stored: safetensors bytes (diffusers' layout) and how it came
    to be."""

    weights: bytes
    settings: LoraSettings
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    images: int = 0

    def describe(self) -> dict[str, object]:
        return {
            "rank": self.settings.rank,
            "steps": self.settings.steps,
            "resolution": self.settings.resolution,
            "images": self.images,
            "seconds": round(self.seconds, 1),
            "loss_first": round(self.losses[0], 5) if self.losses else None,
            "loss_last": round(float(np.mean(self.losses[-10:])), 5) if self.losses else None,
        }


def settings_from(config: PipelineConfig) -> LoraSettings:
    """The training the configuration asks for."""
    return LoraSettings(
        rank=config.lora_rank,
        alpha=config.lora_rank,
        steps=config.lora_steps,
        learning_rate=config.lora_learning_rate,
        resolution=config.lora_resolution,
    )


def model_key(photo_keys: Sequence[str], settings: LoraSettings, base: str) -> str:
    """What a person's LoRA was made from: the photos, the training and the base model. A
    stored LoRA with the same key is reused; any change trains a new one."""
    text = "|".join([*sorted(photo_keys), settings.digest(), base])
    return hashlib.sha256(text.encode()).hexdigest()


def person_model_key(config: PipelineConfig, photo_keys: Sequence[str]) -> str | None:
    """The key of the person's LoRA under this configuration (None: no LoRA is used)."""
    if (config.generation_backend, config.identity_method) != ("diffusion", "lora"):
        return None
    if config.model_dir is None:
        return None
    base = base_fingerprint(Path(config.model_dir) / "sdxl")
    return model_key(photo_keys, settings_from(config), base)


def base_fingerprint(sdxl_folder: Path) -> str:
    """Which SDXL a LoRA was trained on (its folder's index, its UNet's configuration and
    weight-file sizes): a LoRA is only reused on the model it was made for."""
    digest = hashlib.sha256()
    folder = Path(sdxl_folder)
    for part in (folder / "model_index.json", folder / "unet" / "config.json"):
        digest.update(part.read_bytes() if part.is_file() else b"-")
    for weights in sorted((folder / "unet").glob("*.safetensors")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def caption(settings: LoraSettings, attributes: dict[str, object]) -> str:
    """What every training image says: the person's bound word and what was measured of
    them, in the words the generation prompt uses (so the prompt can vary the rest:
    attire, light, backdrop)."""
    from pipeline.prompts import describe

    return f"a photo of {settings.trigger} person" + describe(attributes).removeprefix("the person")


def training_images(
    selfies: Sequence[tuple[np.ndarray, tuple[np.ndarray, np.ndarray], float]],
    settings: LoraSettings,
) -> list[np.ndarray]:
    """Squares of ``settings.resolution`` round each selfie's face, eyes level, the face
    box ``face_share`` of the height, the eyes a little above the middle (as a headshot
    frames them). Each item: (RGB pixels, (left eye, right eye), face-box height)."""
    import cv2

    size = settings.resolution
    squares = []
    for pixels, (left, right), face_height in selfies:
        centre = (np.asarray(left) + np.asarray(right)) / 2.0
        angle = math.degrees(math.atan2(right[1] - left[1], right[0] - left[0]))
        scale = settings.face_share * size / max(face_height, 1.0)
        matrix = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), angle, scale)
        matrix[0, 2] += size / 2.0 - centre[0]
        matrix[1, 2] += size * 0.42 - centre[1]
        squares.append(
            cv2.warpAffine(
                pixels,
                matrix,
                (size, size),
                flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
                borderMode=cv2.BORDER_REFLECT_101,
            )
        )
    return squares


class LoraTrainer:
    """Trains a LoRA per person on SDXL's parts: loaded from a local diffusers folder
    (``load``), or those of the generation pipeline already in memory (``sharing``: a GPU
    worker holds one copy of SDXL, trains on it, then generates with it)."""

    def __init__(self, sdxl_folder: Path | None = None, *, device: str | None = None) -> None:
        self.sdxl_folder = Path(sdxl_folder) if sdxl_folder is not None else None
        self.device = device
        self._parts: dict[str, Any] | None = None

    @classmethod
    def sharing(cls, pipe: Any, device: str) -> LoraTrainer:
        """A trainer on an already loaded SDXL pipeline; its base weights stay untouched."""
        from diffusers import DDPMScheduler

        trainer = cls(device=device)
        for part in (pipe.unet, pipe.vae, pipe.text_encoder, pipe.text_encoder_2):
            part.requires_grad_(False)
        trainer._parts = {"pipe": pipe, "noise": DDPMScheduler.from_config(pipe.scheduler.config)}
        return trainer

    def load(self) -> LoraTrainer:
        if self.sdxl_folder is None or not (self.sdxl_folder / "model_index.json").is_file():
            raise ModelMissing(
                f"Per-person training needs an SDXL model folder at {self.sdxl_folder} "
                "(model_index.json, unet/, vae/, text_encoder/, text_encoder_2/, tokenizer/, "
                "tokenizer_2/, scheduler/).",
                code="model_missing",
            )
        try:
            import peft  # noqa: F401 - checked here, used through diffusers
            import torch
            from diffusers import StableDiffusionXLPipeline
        except ImportError as exc:
            raise ModelMissing(
                f"Per-person training needs torch, diffusers and peft ({exc}); install them "
                "on GPU workers (pip install -e .[diffusion]).",
                code="model_missing",
            ) from exc
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        pipe = StableDiffusionXLPipeline.from_pretrained(
            str(self.sdxl_folder), local_files_only=True, dtype=torch.float32
        )
        pipe.to(device)
        shared = LoraTrainer.sharing(pipe, device)
        self.device, self._parts = device, shared._parts
        return self

    def train(
        self,
        images: list[np.ndarray],
        text: str,
        settings: LoraSettings,
        progress: Callable[[float], None] | None = None,
    ) -> TrainedLora:
        """Train a fresh LoRA on ``images`` (RGB squares) captioned ``text``; ``progress``
        hears the share done. The base weights are left as they were."""
        if self._parts is None:
            raise RuntimeError("LoraTrainer.load() must be called first")
        if not images:
            raise PipelineError("No usable selfie to train on.", code="no_selfie")
        started = time.perf_counter()
        latents = self._latents(images)
        encoded = self._text(text, settings.resolution)
        weights, losses = self.fit(latents, encoded, settings, progress)
        return TrainedLora(
            weights=weights,
            settings=settings,
            losses=losses,
            seconds=time.perf_counter() - started,
            images=len(images),
        )

    @classmethod
    def on_unet(cls, unet: Any, noise_schedule: Any, device: str) -> LoraTrainer:
        """A trainer on a UNet alone, fed encoded images and text (the GPU benchmark)."""
        from types import SimpleNamespace

        trainer = cls(device=device)
        unet.requires_grad_(False)
        trainer._parts = {"pipe": SimpleNamespace(unet=unet), "noise": noise_schedule}
        return trainer

    def fit(
        self,
        latents: Any,
        text: tuple[Any, Any, Any],
        settings: LoraSettings,
        progress: Callable[[float], None] | None = None,
    ) -> tuple[bytes, list[float]]:
        """The training loop on encoded images (``latents``) and the encoded caption
        (embeddings, pooled embedding, SDXL's time ids): the LoRA's safetensors bytes
        and the loss at every step."""
        import torch
        from diffusers.training_utils import cast_training_params
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft import LoraConfig
        from peft.utils import get_peft_model_state_dict
        from safetensors.torch import save

        assert self._parts is not None
        unet = self._parts["pipe"].unet
        embeds, pooled, time_ids = text
        generator = torch.Generator(device="cpu").manual_seed(settings.seed)
        unet.add_adapter(
            LoraConfig(
                r=settings.rank,
                lora_alpha=settings.alpha,
                init_lora_weights="gaussian",
                target_modules=list(TARGET_MODULES),
            ),
            adapter_name="person",
        )
        try:
            # the LoRA learns in float32 whatever the base's precision (bf16 on a GPU)
            cast_training_params(unet, dtype=torch.float32)
            trainable = [p for p in unet.parameters() if p.requires_grad]
            optimiser = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=1e-2)
            warmup = max(1, round(settings.steps * settings.warmup_share))
            schedule = torch.optim.lr_scheduler.LambdaLR(
                optimiser, lambda step: min(1.0, (step + 1) / warmup)
            )
            losses: list[float] = []
            unet.train()
            for step in range(settings.steps):
                pick = torch.randint(0, len(latents), (settings.batch_size,), generator=generator)
                loss = self._loss(latents[pick], embeds, pooled, time_ids, generator)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(trainable, 1.0)
                optimiser.step()
                schedule.step()
                losses.append(float(loss.detach()))
                if progress is not None:
                    progress((step + 1) / settings.steps)
            unet.eval()
            state = convert_state_dict_to_diffusers(
                get_peft_model_state_dict(unet, adapter_name="person")
            )
            weights = save(
                {f"unet.{k}": v.detach().to("cpu").contiguous() for k, v in state.items()}
            )
        finally:
            unet.delete_adapters("person")
        return weights, losses

    def loss_on(
        self,
        images: list[np.ndarray],
        text: str,
        settings: LoraSettings,
        *,
        seed: int,
        lora: bytes | None = None,
    ) -> float:
        """The noise-prediction loss on fixed noise and timesteps (``seed``), with the base
        UNet or with a trained LoRA: how well a model fits these images."""
        import torch
        from safetensors.torch import load

        assert self._parts is not None
        pipe = self._parts["pipe"]
        latents = self._latents(images)
        embeds, pooled, time_ids = self._text(text, settings.resolution)
        if lora is not None:
            pipe.load_lora_weights(load(lora), adapter_name="measured")
        try:
            generator = torch.Generator(device="cpu").manual_seed(seed)
            with torch.no_grad():
                values = [
                    float(self._loss(latents[i : i + 1], embeds, pooled, time_ids, generator))
                    for i in range(len(latents))
                    for _ in range(4)
                ]
        finally:
            if lora is not None:
                pipe.delete_adapters("measured")
        return float(np.mean(values))

    # -- parts of the step ------------------------------------------------------------------
    def _latents(self, images: list[np.ndarray]) -> Any:
        import torch

        assert self._parts is not None
        vae = self._parts["pipe"].vae
        batch = torch.from_numpy(np.stack(images).astype(np.float32) / 127.5 - 1.0)
        batch = batch.permute(0, 3, 1, 2).to(self.device)
        with torch.no_grad():
            mean = vae.encode(batch).latent_dist.mean
        return mean * vae.config.scaling_factor

    def _text(self, text: str, resolution: int) -> tuple[Any, Any, Any]:
        import torch

        assert self._parts is not None
        pipe = self._parts["pipe"]
        with torch.no_grad():
            embeds, _, pooled, _ = pipe.encode_prompt(
                text, device=self.device, num_images_per_prompt=1, do_classifier_free_guidance=False
            )
        size = (resolution, resolution)
        time_ids = torch.tensor([[*size, 0, 0, *size]], dtype=embeds.dtype, device=self.device)
        return embeds, pooled, time_ids

    def _loss(self, latents: Any, embeds: Any, pooled: Any, time_ids: Any, generator: Any) -> Any:
        import torch

        assert self._parts is not None
        unet, noise_schedule = self._parts["pipe"].unet, self._parts["noise"]
        count = latents.shape[0]
        noise = torch.randn(latents.shape, generator=generator).to(latents.device, latents.dtype)
        steps = torch.randint(
            0, noise_schedule.config.num_train_timesteps, (count,), generator=generator
        ).to(latents.device)
        # everything the UNet reads in its own precision (bf16 on a GPU worker): the
        # schedule's arithmetic would otherwise hand it float32
        dtype = unet.dtype
        noisy = noise_schedule.add_noise(latents, noise, steps).to(dtype)
        predicted = unet(
            noisy,
            steps,
            encoder_hidden_states=embeds.expand(count, -1, -1).to(dtype),
            added_cond_kwargs={
                "text_embeds": pooled.expand(count, -1).to(dtype),
                "time_ids": time_ids.expand(count, -1).to(dtype),
            },
        ).sample
        if noise_schedule.config.prediction_type == "v_prediction":
            target = noise_schedule.get_velocity(latents, noise, steps)
        else:
            target = noise
        return torch.nn.functional.mse_loss(predicted.float(), target.float())
