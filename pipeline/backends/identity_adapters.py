"""The zero-shot identity methods of the diffusion backend, each loaded and fed as its
authors published it:

- ``plus-face``: IP-Adapter Plus Face for SDXL. The aligned face crop goes through the
  CLIP ViT-H image encoder; its penultimate hidden states go through the adapter's
  perceiver resampler into the UNet's cross-attention. Apache 2.0 weights and an MIT
  encoder: usable commercially.
- ``faceid``: IP-Adapter FaceID for SDXL. insightface's normalised ArcFace embedding goes
  through the adapter's MLP, with the LoRA the adapter was trained with (stored in the
  same checkpoint) applied to the UNet.
- ``faceid-plus-v2``: IP-Adapter FaceID Plus v2. The ArcFace tokens refined by a
  perceiver over the face crop's CLIP features, the identity tokens kept as a shortcut,
  and its LoRA.
- ``instantid``: InstantID. insightface's raw ArcFace embedding goes through its
  resampler into face tokens; the tokens reach the UNet's cross-attention through its
  adapter and are IdentityNet's (its ControlNet's) only conditioning in place of the
  text, with the five facial keypoints as the control image.

Files, in the published layouts, under the model directory:

- ``ip-adapter/``: the IP-Adapter checkpoints and ``image_encoder/`` (CLIP ViT-H-14);
- ``instantid/``: ``ip-adapter.bin`` and ``ControlNetModel/`` (IdentityNet).

torch and diffusers are imported only inside the functions that need them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import PipelineError


@dataclass(frozen=True)
class AdapterMethod:
    name: str
    checkpoint: str  # relative to the model directory
    image_encoder: bool  # needs CLIP ViT-H at ip-adapter/image_encoder/
    identitynet: bool  # InstantID's ControlNet at instantid/ControlNetModel/
    embedding: str  # "" (none), "normalised" or "raw" ArcFace embedding
    lora: bool  # the checkpoint carries the LoRA the adapter was trained with
    source: str  # where an operator gets the files

    def files(self, model_dir: Path) -> list[Path]:
        files = [model_dir / self.checkpoint]
        if self.image_encoder:
            files.append(model_dir / IMAGE_ENCODER / "config.json")
        if self.identitynet:
            files.append(model_dir / IDENTITYNET / "config.json")
        return files


IMAGE_ENCODER = "ip-adapter/image_encoder"
IDENTITYNET = "instantid/ControlNetModel"
METHODS = {
    method.name: method
    for method in (
        AdapterMethod(
            "plus-face",
            "ip-adapter/ip-adapter-plus-face_sdxl_vit-h.safetensors",
            image_encoder=True,
            identitynet=False,
            embedding="",
            lora=False,
            source="h94/IP-Adapter: sdxl_models/ip-adapter-plus-face_sdxl_vit-h.safetensors and "
            "models/image_encoder/",
        ),
        AdapterMethod(
            "faceid",
            "ip-adapter/ip-adapter-faceid_sdxl.bin",
            image_encoder=False,
            identitynet=False,
            embedding="normalised",
            lora=True,
            source="h94/IP-Adapter-FaceID: ip-adapter-faceid_sdxl.bin",
        ),
        AdapterMethod(
            "faceid-plus-v2",
            "ip-adapter/ip-adapter-faceid-plusv2_sdxl.bin",
            image_encoder=True,
            identitynet=False,
            embedding="normalised",
            lora=True,
            source="h94/IP-Adapter-FaceID: ip-adapter-faceid-plusv2_sdxl.bin, and h94/IP-Adapter: "
            "models/image_encoder/",
        ),
        AdapterMethod(
            "instantid",
            "instantid/ip-adapter.bin",
            image_encoder=False,
            identitynet=True,
            embedding="raw",
            lora=False,
            source="InstantX/InstantID: ip-adapter.bin and ControlNetModel/",
        ),
    )
}


def load_image_encoder(pipe: Any, model_dir: Path, dtype: Any) -> None:
    """CLIP ViT-H's vision tower on the pipeline, for the adapters that read the face."""
    from transformers import CLIPVisionModelWithProjection

    encoder = CLIPVisionModelWithProjection.from_pretrained(
        str(model_dir / IMAGE_ENCODER), local_files_only=True, dtype=dtype
    )
    pipe.register_modules(image_encoder=encoder)


def load_identitynet(model_dir: Path, dtype: Any) -> Any:
    from diffusers import ControlNetModel

    return ControlNetModel.from_pretrained(
        str(model_dir / IDENTITYNET), local_files_only=True, dtype=dtype
    )


def load_adapter(pipe: Any, method: AdapterMethod, model_dir: Path) -> None:
    """The method's checkpoint into the UNet (its LoRA too, where it has one); refuses a
    checkpoint that lacks the LoRA its method was trained with."""
    checkpoint = model_dir / method.checkpoint
    pipe.load_ip_adapter(
        str(checkpoint.parent), subfolder="", weight_name=checkpoint.name, image_encoder_folder=None
    )
    if method.lora and "faceid_0" not in getattr(pipe.unet, "peft_config", {}):
        raise PipelineError(
            f"{checkpoint} has no LoRA weights: the {method.name} adapter was trained with a "
            f"LoRA stored in its checkpoint, and works poorly without it. Install the "
            f"published file ({method.source}).",
            code="model_missing",
        )
    if method.name == "faceid-plus-v2":
        projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
        projection.shortcut = True  # v2 keeps the identity tokens beside the refined ones


def check_person(
    method: str,
    identity_dim: int | None,
    *,
    identity: np.ndarray | None,
    lora: bytes | None,
    source: tuple[np.ndarray, np.ndarray] | None,
) -> None:
    """Refuse a call that lacks what its identity method reads of the person."""
    if method == "keep-face":
        if source is None:
            raise PipelineError(
                "The face-preserving mode repaints round the person's framed selfie; none was "
                "given.",
                code="identity_mismatch",
            )
    elif method == "lora":
        if lora is None:
            raise PipelineError(
                "The LoRA method generates from the person's own trained model; none was given.",
                code="identity_mismatch",
            )
    elif identity_dim is not None and (identity is None or identity.shape != (identity_dim,)):
        raise PipelineError(
            f"Identity conditioning needs a {identity_dim}-d ArcFace embedding; this one has "
            f"{0 if identity is None else identity.shape[0]} dimensions. Use the insightface "
            "face backend with this generator.",
            code="identity_mismatch",
        )


def embedding_size(pipe: Any) -> int:
    """The length of the ArcFace embedding the loaded adapter reads."""
    projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
    for name in ("ff", "proj"):  # FaceID's MLP, FaceID Plus's MLP
        mlp = getattr(projection, name, None)
        if mlp is not None:
            return int(mlp.net[0].proj.in_features)
    return int(projection.proj_in.in_features)  # InstantID's resampler


class FaceTokens:
    """IdentityNet's conditioning: a forward pre-hook on the ControlNet that puts the face
    tokens where the pipeline passes the text embeddings, matched to the batch
    (unconditional tokens first under classifier-free guidance)."""

    def __init__(self, identitynet: Any) -> None:
        self.tokens: Any = None  # (2, tokens, channels): unconditional, conditional
        self.guided = True
        identitynet.register_forward_pre_hook(self._hook, with_kwargs=True)

    def _hook(self, module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        import torch

        if self.tokens is None:
            raise PipelineError("IdentityNet ran without face tokens.", code="identity_mismatch")
        text = kwargs["encoder_hidden_states"]
        batch = text.shape[0]
        tokens = self.tokens.to(text.device, text.dtype)
        if self.guided:
            half = batch // 2
            faces = torch.cat([tokens[:1].expand(half, -1, -1), tokens[1:].expand(half, -1, -1)])
        else:
            faces = tokens[1:].expand(batch, -1, -1)
        return args, {**kwargs, "encoder_hidden_states": faces}


def aligned_face(pixels: np.ndarray, points: np.ndarray, size: int = 224) -> np.ndarray:
    """The face aligned on the ArcFace template at ``size`` pixels (insightface's
    ``norm_crop``, which FaceID Plus was trained with), from its five keypoints."""
    import cv2

    from pipeline.backends.conditioning import TEMPLATE

    target = TEMPLATE * (size / 112.0)
    matrix, _ = cv2.estimateAffinePartial2D(
        np.asarray(points, dtype=np.float32), target.astype(np.float32), method=cv2.LMEDS
    )
    if matrix is None:
        raise PipelineError("The face's keypoints cannot be aligned.", code="identity_mismatch")
    return np.asarray(cv2.warpAffine(pixels, matrix, (size, size), borderValue=0.0))


def conditioning(
    pipe: Any,
    method: AdapterMethod,
    *,
    embedding: np.ndarray | None,
    face: np.ndarray | None,
    guided: bool,
    face_tokens: FaceTokens | None,
) -> Callable[[int], dict[str, Any]]:
    """What each batch of ``n`` images gets from the pipeline call for this method.

    ``embedding`` is the ArcFace embedding the method reads (normalised or raw, as it
    was trained); ``face`` the aligned face crop for the methods that read it with CLIP.
    """
    import torch

    device, dtype = pipe.unet.device, pipe.unet.dtype
    if method.embedding and embedding is None:
        raise PipelineError(
            f"The {method.name} method needs insightface's ArcFace embedding of the person.",
            code="identity_mismatch",
        )
    if method.image_encoder and face is None:
        raise PipelineError(
            f"The {method.name} method needs the person's face crop.", code="identity_mismatch"
        )
    clip: Any = None
    if method.image_encoder:
        from PIL import Image

        assert face is not None
        # the penultimate hidden states of the face and of a black image (unconditional)
        clip = pipe.prepare_ip_adapter_image_embeds([Image.fromarray(face)], None, device, 1, True)[
            0
        ].to(device, dtype)
    identity: Any = None
    if method.embedding:
        assert embedding is not None
        vector = torch.from_numpy(embedding.astype(np.float32)).reshape(1, 1, 1, -1)
        identity = torch.cat([torch.zeros_like(vector), vector]).to(device, dtype)
    if method.identitynet:
        assert face_tokens is not None and identity is not None
        projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
        with torch.no_grad():
            face_tokens.tokens = projection(identity[:, 0])
        face_tokens.guided = guided

    # without guidance the pipeline takes the conditional half alone
    keep = slice(None) if guided else slice(1, None)

    def per_batch(n: int) -> dict[str, Any]:
        if method.name == "plus-face":
            return {"ip_adapter_image_embeds": [clip[keep]]}
        if method.name == "faceid-plus-v2":
            # the projection reads the CLIP features from an attribute, one row per image
            projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
            rows = [half.expand(n, *clip.shape[1:]) for half in clip.chunk(2)]
            projection.clip_embeds = torch.cat(rows[keep])
        return {"ip_adapter_image_embeds": [identity[keep]]}

    return per_batch
