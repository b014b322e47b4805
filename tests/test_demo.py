"""`manage.py demo` on a fresh database: the whole journey, twice, with nothing duplicated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_demo_runs_the_journey_and_is_idempotent(tmp_path, samples_dir, installed_models):
    env = {
        "HEADSHOTS_MODEL_DIR": str(installed_models),
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "RABBITMQ_URL"}
        },
        "DJANGO_SETTINGS_MODULE": "headshots_portal.settings.base",
        "HEADSHOTS_VAR_DIR": str(tmp_path / "var"),
        # the Real-ESRGAN print takes minutes on a CPU core: tested on its own
        "HEADSHOTS_PRINT_UPSCALER": "lanczos",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    out = tmp_path / "out"
    reports = []
    for _ in range(2):
        result = subprocess.run(
            [*manage, "demo", "--out", str(out), "--samples", str(samples_dir)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        reports.append(json.loads((out / "report.json").read_text()))
    first, second = reports
    assert first["ok"] and [s["status"] for s in first["steps"]] == ["succeeded"] * 12
    assert second["ok"] and second["counts"] == first["counts"]
    assert first["counts"] == {
        "companies": 1,
        "employees": 1,
        "photos": 10,
        "jobs": 1,
        "headshots": 10,
        "publications": 2,
    }
    checks = {
        p["file"]: p["status"]
        for p in next(s for s in first["steps"] if s["step"] == "checks")["detail"]["photos"]
    }
    assert checks["selfie-08-cat.png"] == "unusable" and checks["selfie-09-group.jpg"] == "unusable"
    generation = next(s for s in first["steps"] if s["step"] == "generation")["detail"]
    assert (
        generation["backend"] == "studio-looks-v2"
        and len(generation["enrollment"]["outliers"]) == 1
    )
    assert next(s for s in second["steps"] if s["step"] == "generation")["detail"]["reused"] is True
    printed = next(s for s in first["steps"] if s["step"] == "print")["detail"]
    assert printed["state"] == "ready" and printed["upscaler"] == "lanczos"
    assert (printed["width"], printed["height"]) == (2048, 2560)
    assert (out / "business-card.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "contact-sheet.png").stat().st_size > 10_000
    assert len(list((out / "headshots").glob("*.jpg"))) == 10
    # eight or more distinct candidates a person can choose between
    assert generation["accepted"] >= 8 and len(generation["looks"]) == generation["candidates"]
