"""The zero-shot identity methods, each loaded through the production loader from tiny
checkpoints that carry the published key names and file layouts, with every network
socket refused; hooks show that each method's conditioning reaches the layers it should."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from pipeline.errors import PipelineError

pytest.importorskip("diffusers", reason="diffusers is not installed (make install adds it)")
pytest.importorskip(
    "torch", reason="torch is not installed (make install-torch adds the CPU build)"
)
import torch  # noqa: E402

from pipeline.backends.identity_adapters import METHODS, aligned_face  # noqa: E402
from pipeline.backends.sdxl import SDXLModel  # noqa: E402
from pipeline.presets import IDENTITY_METHODS as PRESET_METHODS  # noqa: E402
from tests.pipeline.tiny_sdxl import (  # noqa: E402
    CLIP_DIM,
    build_adapters,
    build_faceid_adapter,
    build_sdxl,
)

CROSS = 64  # the tiny UNet's cross-attention width


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("adapter-models")
    return build_adapters(folder, build_sdxl(folder))


@pytest.fixture(scope="module")
def models(model_dir):
    loaded: dict[str, SDXLModel] = {}

    def get(method: str) -> SDXLModel:
        if method not in loaded:
            loaded[method] = SDXLModel(identity_method=method, batch_size=1).load(model_dir)
        return loaded[method]

    return get


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).normal(size=512)
    return vector / np.linalg.norm(vector)


def face_crop(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (224, 224, 3), dtype=np.uint8)


KEYPOINTS = np.zeros((64, 64, 3), dtype=np.uint8)
KEYPOINTS[20:28, 18:26] = (255, 0, 0)
KEYPOINTS[20:28, 38:46] = (0, 255, 0)


def generate(model: SDXLModel, *, who: int = 0, face: int = 0, keypoints=KEYPOINTS, seed=5):
    identity = unit(who) * (23.0 if model.identity_method == "instantid" else 1.0)
    return model(
        prompt="portrait of a person",
        negative_prompt="blurry",
        identity=identity if METHODS[model.identity_method].embedding else None,
        face=face_crop(face),
        seeds=[seed],
        width=64,
        height=64,
        steps=2,
        guidance=5.0,
        scheduler="euler",
        identity_strength=1.0,
        control={"keypoints": (keypoints, 1.0)} if model.control_names else None,
    )[0]


def differs(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


class Hooks:
    """What reached the projection, the adapter's key projections, the image encoder,
    the adapter's LoRA and IdentityNet during one generation."""

    def __init__(self, model: SDXLModel) -> None:
        self.seen: dict[str, list] = defaultdict(list)
        self.handles = []
        pipe = model.pipe
        unet = pipe.unet
        projection = unet.encoder_hid_proj.image_projection_layers[0]
        self._out("projection", projection)
        for name, module in unet.named_modules():
            if name.endswith("to_k_ip.0"):
                self._in("to_k_ip", module)
            if name.endswith("lora_A.faceid_0"):
                self._in("lora", module)
        if getattr(pipe, "image_encoder", None) is not None:
            self._in("image_encoder", pipe.image_encoder)
        controlnet = getattr(pipe, "controlnet", None)
        if controlnet is not None:
            self.handles.append(
                controlnet.register_forward_pre_hook(self._identitynet, with_kwargs=True)
            )

    def _in(self, key, module):
        def hook(module, args, kwargs):
            value = args[0] if args else next(iter(kwargs.values()))
            self.seen[key].append(value.detach().clone())

        self.handles.append(module.register_forward_pre_hook(hook, with_kwargs=True))

    def _out(self, key, module):
        self.handles.append(
            module.register_forward_hook(lambda m, i, o: self.seen[key].append(o.detach().clone()))
        )

    def _identitynet(self, module, args, kwargs):
        self.seen["identitynet"].append(kwargs["encoder_hidden_states"].detach().clone())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for handle in self.handles:
            handle.remove()


def test_the_presets_and_settings_offer_the_methods_the_backend_loads():
    from headshots_portal.settings.base import IDENTITY_METHODS as SETTINGS_METHODS
    from pipeline.backends.sdxl import IDENTITY_METHODS

    assert set(PRESET_METHODS) == set(IDENTITY_METHODS) == set(SETTINGS_METHODS)


@pytest.mark.parametrize(
    ("method", "projection", "tokens"),
    [
        ("plus-face", "IPAdapterPlusImageProjection", 16),
        ("faceid", "IPAdapterFaceIDImageProjection", 4),
        ("faceid-plus-v2", "IPAdapterFaceIDPlusImageProjection", 4),
        ("instantid", "IPAdapterPlusImageProjection", 16),
    ],
)
def test_each_method_loads_its_published_checkpoint_and_conditions_the_unet(
    no_network, models, method, projection, tokens
):
    model = models(method)
    spec = METHODS[method]
    layer = model.pipe.unet.encoder_hid_proj.image_projection_layers[0]
    assert type(layer).__name__ == projection
    assert ("faceid_0" in getattr(model.pipe.unet, "peft_config", {})) == spec.lora
    with Hooks(model) as hooks:
        generate(model)
    # every step's cross-attention read the projected tokens: two steps, unconditional
    # and conditional halves
    keys = hooks.seen["to_k_ip"]  # (halves, images per prompt, tokens, channels)
    assert keys and all(tuple(k.shape) == (2, 1, tokens, CROSS) for k in keys)
    projected = hooks.seen["projection"][-1]
    assert torch.allclose(keys[-1].float(), projected.reshape(2, 1, tokens, CROSS).float())
    assert not torch.allclose(keys[-1][0], keys[-1][1])  # the person is in one half only
    if spec.image_encoder:  # the face went through CLIP, and a black image for the other half
        pixels = hooks.seen["image_encoder"]
        assert len(pixels) == 2 and pixels[0].shape[-1] == 32
    else:
        assert "image_encoder" not in hooks.seen
    assert bool(hooks.seen["lora"]) == spec.lora


def test_the_faceid_adapters_lora_changes_the_image(no_network, models):
    model = models("faceid")
    with_lora = generate(model)
    model.pipe.set_adapters(["faceid_0"], adapter_weights=[0.0])
    try:
        without = generate(model)
    finally:
        model.pipe.set_adapters(["faceid_0"], adapter_weights=[1.0])
    assert differs(with_lora, without) > 0.5


@pytest.mark.parametrize("method", ["faceid", "faceid-plus-v2", "instantid"])
def test_the_embedding_steers_the_methods_that_read_it(no_network, models, method):
    model = models(method)
    assert differs(generate(model, who=0), generate(model, who=0)) == 0
    assert differs(generate(model, who=0), generate(model, who=1)) > 0.5


@pytest.mark.parametrize("method", ["plus-face", "faceid-plus-v2"])
def test_the_face_crop_steers_the_methods_that_read_it_with_clip(no_network, models, method):
    model = models(method)
    assert differs(generate(model, face=0), generate(model, face=1)) > 0.5


def test_faceid_plus_v2_keeps_the_identity_tokens_and_reads_clip_per_image(no_network, models):
    model = models("faceid-plus-v2")
    layer = model.pipe.unet.encoder_hid_proj.image_projection_layers[0]
    assert layer.shortcut is True
    generate(model)
    assert tuple(layer.clip_embeds.shape[:2]) == (2, 1) and layer.clip_embeds.shape[-1] == CLIP_DIM


def test_identitynet_reads_the_face_tokens_not_the_text(no_network, models):
    model = models("instantid")
    with Hooks(model) as hooks:
        generate(model)
    read = hooks.seen["identitynet"]
    projected = hooks.seen["projection"][-1].reshape(2, 16, CROSS)
    assert read and all(tokens.shape == (2, 16, CROSS) for tokens in read)  # text has 77
    assert torch.allclose(read[-1].float(), projected.float())
    # the keypoint drawing steers IdentityNet
    moved = np.roll(KEYPOINTS, 12, axis=0)
    assert differs(generate(model), generate(model, keypoints=moved)) > 0.5


def test_a_faceid_checkpoint_without_its_lora_is_refused(no_network, model_dir, tmp_path):
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "sdxl").symlink_to(model_dir / "sdxl")
    build_faceid_adapter(
        folder / "ip-adapter" / "ip-adapter-faceid_sdxl.bin", model_dir / "sdxl", lora=False
    )
    with pytest.raises(PipelineError, match="has no LoRA weights.*h94/IP-Adapter-FaceID"):
        SDXLModel(identity_method="faceid").load(folder)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_missing_adapter_files_are_named_with_where_to_get_them(method, model_dir, tmp_path):
    from pipeline.errors import ModelMissing

    (tmp_path / "sdxl").symlink_to(model_dir / "sdxl")
    with pytest.raises(ModelMissing) as caught:
        SDXLModel(identity_method=method).load(tmp_path)
    message = str(caught.value)
    assert str(tmp_path / METHODS[method].checkpoint) in message
    assert METHODS[method].source in message


def test_the_keypoint_controlnet_is_identitynet_and_needs_instantid():
    with pytest.raises(PipelineError, match="HEADSHOTS_IDENTITY_METHOD=instantid"):
        SDXLModel(identity_method="lora", controlnets=("keypoints",))


def test_the_face_crop_is_aligned_on_the_arcface_template():
    from pipeline.backends.conditioning import TEMPLATE

    image = np.zeros((400, 400, 3), dtype=np.uint8)
    points = TEMPLATE * 1.5 + [100, 80]  # the template, larger and moved
    for x, y in points:
        image[int(y) - 2 : int(y) + 3, int(x) - 2 : int(x) + 3] = 255
    crop = aligned_face(image, points, 224)
    assert crop.shape == (224, 224, 3)
    for x, y in TEMPLATE * 2:  # each keypoint lands where FaceID Plus's crops have it
        assert crop[int(round(y)), int(round(x))].max() > 200
