"""The layers stay apart: pipeline/ never imports Django; the web process never imports torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_pipeline_source_has_no_django_import():
    offenders = []
    for path in (ROOT / "pipeline").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}"
                for n in names
                if n.split(".")[0] in {"django", "rest_framework", "apps"}
            ]
    assert offenders == []


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"DJANGO_SETTINGS_MODULE": "headshots_portal.settings.test", "PATH": "/usr/bin:/bin"},
    )
    return result.stdout.strip()


def test_importing_every_pipeline_module_loads_no_django():
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / "pipeline").rglob("*.py")
    )
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + ("print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))")
    )
    assert run_python(code) == "[]"


def test_web_process_never_imports_heavy_ml_libraries():
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "import headshots_portal.urls, apps.generation.services, apps.photos.services, apps.publishing.services\n"
        "heavy = {'torch', 'diffusers', 'insightface', 'onnxruntime', 'dlib'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    assert run_python(code) == "[]"
