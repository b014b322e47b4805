"""The layers stay apart, and the rooms stay small.

- pipeline/ never imports Django; the portal reaches the pipeline only through its public
  surface; the web process never loads a face model or an ML library;
- no module of apps/ imports another in a circle (imports inside functions count too:
  they must not be a way around a cycle); core depends on no app, and organizations on
  no feature app (those reach it through hooks);
- no module is longer than ~400 lines without a reason written here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# What the portal may import from the pipeline: the one door (the orchestrator and what
# it hands out), the errors, the presets, the intake of uploads and the images the
# portal resizes itself, provenance, the checks' thresholds, and the install tooling.
PIPELINE_PUBLIC = {
    "pipeline.orchestrator",
    "pipeline.errors",
    "pipeline.presets",
    "pipeline.imaging",
    "pipeline.provenance",
    "pipeline.checks",
    "pipeline.tools.manifest",
    "pipeline.tools.samples",
    "pipeline.tools.wheels",
    "pipeline.tools.ncnn_convert",
}
HEAVY = {"torch", "diffusers", "insightface", "onnxruntime", "dlib", "ai_edge_litert", "c2pa"}
FEATURE_APPS = {"photos", "generation", "publishing", "presets", "webhooks", "people", "demo"}
MAX_LINES = 420
LONGER_FOR_A_REASON = {
    "bench/web.py": "one benchmark: a gunicorn, a load generator and its report, read top down",
    "pipeline/backends/studio_renderer.py": "the renderer's five steps share their state",
}


def _modules(folder: str) -> dict[str, Path]:
    found = {}
    for path in (ROOT / folder).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def _imports(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(module, names) of every import that runs (not those under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    skipped = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]


def test_pipeline_source_has_no_django_import():
    offenders = [
        f"{path.relative_to(ROOT)}: {module}"
        for path in _modules("pipeline").values()
        for module, _ in _imports(path)
        if module.split(".")[0] in {"django", "rest_framework", "apps"}
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
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in sorted(_modules("pipeline")))
        + "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    assert run_python(code) == "[]"


def test_the_portal_imports_only_the_pipelines_public_surface():
    pipeline_modules = set(_modules("pipeline"))
    offenders = []
    for folder in ("apps", "headshots_portal"):
        for path in _modules(folder).values():
            for module, names in _imports(path):
                if module.split(".")[0] != "pipeline":
                    continue
                # `from pipeline.tools import samples` imports the module pipeline.tools.samples
                targets = [
                    f"{module}.{n}" if f"{module}.{n}" in pipeline_modules else module
                    for n in names or [""]
                ]
                offenders += [
                    f"{path.relative_to(ROOT)}: {t}" for t in targets if t not in PIPELINE_PUBLIC
                ]
    assert offenders == []


def test_the_web_process_loads_no_model_nor_ml_library():
    """Every app and every page imported, a preset preview and a card preview rendered, as
    the web process does them: no face model, no ML runtime is loaded for it."""
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from django.urls import get_resolver\n"
        "get_resolver().url_patterns\n"
        "import headshots_portal.urls, headshots_portal.page_urls, headshots_portal.api_urls\n"
        "from pipeline.orchestrator import preview_jpeg\n"
        "from pipeline.presets import load_shipped\n"
        "for preset in load_shipped().values():\n"
        "    assert preview_jpeg(preset)[:2] == b'\\xff\\xd8'\n"
        "from apps.publishing.cards import card_preview_png\n"
        "assert card_preview_png(company='Acme', brand={}, size='us')[:4] == b'\\x89PNG'\n"
        f"heavy = {sorted(HEAVY)!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    assert run_python(code) == "[]"


def _graph() -> dict[str, set[str]]:
    modules = _modules("apps")
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, names in _imports(path):
            for target in [module, *(f"{module}.{n}" for n in names)]:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in edges:
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_another_in_a_circle():
    assert _cycles(_graph()) == []


def test_the_layers_point_one_way():
    wrong = []
    for module, targets in _graph().items():
        app = (module.split(".") + [""])[1]
        for target in targets:
            other = (target.split(".") + [""])[1]
            if app == "core" and other != "core":
                wrong.append(f"{module} -> {target} (core depends on no app)")
            if app == "organizations" and other in FEATURE_APPS:
                wrong.append(f"{module} -> {target} (organizations reaches features by hooks)")
    assert wrong == []


def test_modules_stay_small_enough_to_read_in_one_sitting():
    long = []
    for folder in ("apps", "pipeline", "headshots_portal", "bench"):
        for path in _modules(folder).values():
            name = str(path.relative_to(ROOT))
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES and name not in LONGER_FOR_A_REASON:
                long.append(f"{name}: {lines} lines")
    assert long == []
