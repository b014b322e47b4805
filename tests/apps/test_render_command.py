from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from pipeline.provenance import COMPOSITE_SYNTHETIC, read_digital_source_type

USED = [
    "selfie-01.png",
    "selfie-02-mirror.jpg",
    "selfie-05-closer.jpg",
    "selfie-10-someone-else.jpg",
    "selfie-08-cat.png",
]


@pytest.fixture
def folder(tmp_path, selfies):
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in USED:
        (photos / name).write_bytes(selfies[name])
    (photos / "notes.txt").write_text("not a photo")
    return photos


def render(preset: str, photos, out, *, as_json: bool = False) -> str:
    stdout = io.StringIO()
    flags = ["--json"] if as_json else []
    call_command(
        "headshots",
        "render",
        "--preset",
        preset,
        "--photos",
        str(photos),
        "--out",
        str(out),
        *flags,
        stdout=stdout,
    )
    return stdout.getvalue()


def test_renders_candidates_with_scores_sizes_and_provenance(folder, tmp_path):
    out = tmp_path / "out"
    document = json.loads(render("corporate-executive", folder, out, as_json=True))
    assert document == json.loads((out / "candidates.json").read_text())
    assert document["outliers"] == ["selfie-10-someone-else.jpg"]
    assert {r["file"] for r in document["refused"]} == {"selfie-08-cat.png", "notes.txt"}
    candidates = document["candidates"]
    assert len(candidates) == 4 and [
        c["seed"] for c in sorted(candidates, key=lambda c: c["seed"])
    ] == [1, 2, 3, 4]
    for candidate in candidates:
        assert candidate["backend"] == "studio-looks-v2"
        assert {
            "identity",
            "sharpness",
            "exposure",
            "framing",
            "skin_delta_e",
            "glasses_kept",
        } <= set(candidate["scores"])
        assert isinstance(candidate["accepted"], bool) and (
            candidate["accepted"] or candidate["reason"]
        )
        image = Image.open(out / candidate["file"])
        assert image.size == (1024, 1280) and not image.getexif()
        assert read_digital_source_type(image.info["xmp"]) == COMPOSITE_SYNTHETIC
        assert Image.open(out / candidate["files"][1]).size == (1024, 1024)
    assert any(c["accepted"] for c in candidates)


def test_explains_a_wrong_preset_or_folder(folder, tmp_path):
    with pytest.raises(CommandError, match="No shipped preset 'boardroom'"):
        render("boardroom", folder, tmp_path)
    with pytest.raises(CommandError, match="is not a folder"):
        render("corporate-executive", tmp_path / "nope", tmp_path)


def test_too_few_usable_photos_is_a_clear_error(tmp_path, selfies):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "one.png").write_bytes(selfies["selfie-01.png"])
    with pytest.raises(CommandError, match="we need at least"):
        render("corporate-executive", photos, tmp_path / "out")


def test_the_command_line_and_the_worker_share_one_run(
    folder, tmp_path, ready, run_jobs, monkeypatch
):
    """Nothing re-states the order of the stages: both call HeadshotPipeline.run."""
    from pipeline.orchestrator import HeadshotPipeline
    from tests.apps.factories import start_job

    calls: list[str] = []
    original = HeadshotPipeline.run

    def recorded(self, **kwargs):
        calls.append(kwargs["preset"].slug)
        return original(self, **kwargs)

    monkeypatch.setattr(HeadshotPipeline, "run", recorded)
    render("legal-professional", folder, tmp_path / "out")
    start_job(ready)
    run_jobs()
    assert calls == ["legal-professional", "corporate-executive"]
