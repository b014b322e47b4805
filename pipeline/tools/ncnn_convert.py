"""Convert Real-ESRGAN's ncnn files (.param + .bin) into the official PyTorch state dict.

Done once by the model installer. The .param lists the Convolution layers in the
network's order; the .bin holds, per convolution, a 4-byte storage tag and the
weights (fp16 when tagged so, else fp32), then the fp32 bias.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

FP16_TAG = 0x01306B47
FP32_TAG = 0x00000000


class ConversionError(ValueError):
    pass


def rrdbnet_keys(num_block: int = 23) -> list[str]:
    names = ["conv_first"]
    for block in range(num_block):
        for rdb in (1, 2, 3):
            names.extend(f"body.{block}.rdb{rdb}.conv{conv}" for conv in range(1, 6))
    return [*names, "conv_body", "conv_up1", "conv_up2", "conv_hr", "conv_last"]


def _convolutions(param_text: str) -> list[tuple[int, int, int, int]]:
    """(out channels, kernel, has bias, weight count) of each Convolution, in order."""
    layers = []
    for line in param_text.splitlines()[2:]:
        parts = line.split()
        if not parts or parts[0] != "Convolution":
            continue
        options = dict(
            item.split("=", 1) for item in parts[4 + int(parts[2]) + int(parts[3]) :] if "=" in item
        )
        layers.append(
            (
                int(options["0"]),
                int(options.get("1", "1")),
                int(options.get("5", "0")),
                int(options["6"]),
            )
        )
    return layers


def convert(param_path: Path, bin_path: Path) -> dict[str, Any]:
    import torch

    layers = _convolutions(param_path.read_text())
    keys = rrdbnet_keys()
    if len(layers) != len(keys):
        raise ConversionError(
            f"{param_path.name} has {len(layers)} convolutions; RRDBNet x4plus has {len(keys)}."
        )
    data = bin_path.read_bytes()
    offset = 0
    state: dict[str, Any] = {}
    for key, (out_channels, kernel, has_bias, count) in zip(keys, layers, strict=True):
        (tag,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if tag == FP16_TAG:
            weights = np.frombuffer(data, dtype="<f2", count=count, offset=offset).astype(
                np.float32
            )
            offset += (count * 2 + 3) // 4 * 4  # fp16 data is padded to 4 bytes
        elif tag == FP32_TAG:
            weights = np.frombuffer(data, dtype="<f4", count=count, offset=offset).copy()
            offset += count * 4
        else:
            raise ConversionError(f"{key}: storage tag {tag:#x} is not fp16 or fp32.")
        in_channels = count // (out_channels * kernel * kernel)
        state[f"{key}.weight"] = torch.from_numpy(
            weights.reshape(out_channels, in_channels, kernel, kernel).copy()
        )
        if has_bias:
            bias = np.frombuffer(data, dtype="<f4", count=out_channels, offset=offset).copy()
            offset += out_channels * 4
            state[f"{key}.bias"] = torch.from_numpy(bias)
    if offset != len(data):
        raise ConversionError(
            f"{bin_path.name}: {len(data) - offset} bytes left after the last convolution."
        )
    return state


def state_digest(state: dict[str, Any]) -> str:
    """sha256 over the tensors (names, shapes, float32 values, in name order): the same
    weights give the same digest, whatever serializer wrote them."""
    import hashlib

    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach().to("cpu").float().contiguous()
        digest.update(key.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()
