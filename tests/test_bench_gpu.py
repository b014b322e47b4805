"""The GPU benchmark stays runnable: its SDXL configuration is the real one, and the
script runs end to end on tiny models (it measures on a CUDA machine only)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed (make install-torch adds it)")


def test_the_benchmark_builds_sdxl_at_its_published_size():
    from diffusers import AutoencoderKL, UNet2DConditionModel

    from bench.sdxl_models import SDXL_UNET, SDXL_VAE

    with torch.device("meta"):  # shapes only, no memory
        unet = UNet2DConditionModel(**SDXL_UNET)
        vae = AutoencoderKL(**SDXL_VAE)
    assert sum(p.numel() for p in unet.parameters()) == 2_567_463_684
    assert sum(p.numel() for p in vae.parameters()) == 83_653_863


def test_a_smoke_run_on_tiny_models_records_both_variants(tmp_path):
    from bench import gpu_sdxl

    results = tmp_path / "results.json"
    results.write_text(json.dumps({"studio_render": {"speedup": 1.5}}))
    record = gpu_sdxl.main(
        ["--tiny", "--device", "cpu", "--repeat", "1", "--results", str(results)]
    )
    assert record["status"] == "smoke run on tiny models" and record["batch"] == 2
    assert record["baseline_s_per_image"] > 0 and record["optimised_s_per_image"] > 0
    saved = json.loads(results.read_text())
    assert saved["gpu_sdxl"] == record and saved["studio_render"] == {"speedup": 1.5}


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="this machine has a GPU: the real run applies"
)
def test_without_a_gpu_it_says_so_and_measures_nothing(tmp_path, capsys):
    from bench import gpu_sdxl

    record = gpu_sdxl.main(["--results", str(tmp_path / "results.json")])
    assert record["status"] == "no GPU" and "baseline_s_per_image" not in record
    assert "no GPU" in capsys.readouterr().out


def test_the_lora_benchmark_runs_the_trainers_own_loop_on_tiny_models(tmp_path):
    pytest.importorskip("peft", reason="peft is not installed (make install-torch adds it)")
    from bench import gpu_lora

    results = tmp_path / "results.json"
    record = gpu_lora.main(["--tiny", "--device", "cpu", "--rank", "4", "--results", str(results)])
    assert record["status"] == "smoke run on tiny models"
    assert record["baseline_steps_per_s"] > 0 and record["trainer_steps_per_s"] > 0
    assert record["person_minutes"] > 0
    assert json.loads(results.read_text())["gpu_lora"] == record


def test_one_script_runs_every_gpu_measure_on_tiny_models(tmp_path):
    pytest.importorskip("peft", reason="peft is not installed (make install-torch adds it)")
    from bench import gpu

    results = tmp_path / "results.json"
    summary = gpu.main(["--tiny", "--device", "cpu", "--repeat", "1", "--results", str(results)])
    for name in ("identity_methods", "sdxl_faceid", "sdxl_keep_face", "lora_training"):
        assert summary[name]["status"] == "smoke run on tiny models", name
    assert "inpainting" in summary["sdxl_keep_face"]["what"]
    assert summary["sdxl_keep_face"]["optimised_s_per_image"] > 0
    saved = json.loads(results.read_text())
    assert saved["gpu"] == summary
    assert {"gpu_adapters", "gpu_sdxl", "gpu_sdxl_inpaint", "gpu_lora"} <= set(saved)


def test_each_identity_method_is_timed_beside_faceid_on_tiny_models(tmp_path):
    pytest.importorskip("peft", reason="peft is not installed (make install-torch adds it)")
    from bench import gpu_adapters

    record = gpu_adapters.main(
        ["--tiny", "--device", "cpu", "--repeat", "1", "--results", str(tmp_path / "r.json")]
    )
    assert set(record["s_per_image"]) == set(gpu_adapters.METHODS)
    assert all(value > 0 for value in record["s_per_image"].values())
    assert record["against_faceid"]["faceid"] == 1.0 and record["clip_vit_h_s_per_job"] > 0


def test_the_adapters_benchmark_builds_identitynet_and_clip_at_their_published_sizes():
    """The sizes the README's memory figures come from: IdentityNet (a ControlNet of
    SDXL's UNet) and CLIP ViT-H's vision tower, counted on the meta device."""
    from diffusers import ControlNetModel, UNet2DConditionModel
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from bench.gpu_adapters import CLIP_VIT_H
    from bench.sdxl_models import SDXL_UNET

    with torch.device("meta"):
        identitynet = ControlNetModel.from_unet(UNet2DConditionModel(**SDXL_UNET))
        clip = CLIPVisionModelWithProjection(CLIPVisionConfig(**CLIP_VIT_H))
    assert sum(p.numel() for p in identitynet.parameters()) == 1_251_014_160
    assert sum(p.numel() for p in clip.parameters()) == 632_076_800
