"""A Python client generated from the OpenAPI schema by openapi-python-client (a tool
nobody on this project wrote), calling every list and detail operation against the live
test server: each answer must parse into the generated models."""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from apps.organizations.tokens import SCOPES, api_token_create

# The image operation answers PNG or JPEG, as the schema says; the generator reads only
# types it knows, so a client maps them to bytes (README: REST API).
CONFIG = """\
package_name_override: portal_client
post_hooks: []
content_type_overrides:
  image/png: application/octet-stream
  image/jpeg: application/octet-stream
"""


def generated_client(schema: bytes, where: Path) -> Path:
    tool = shutil.which("openapi-python-client", path=str(Path(sys.executable).parent))
    if tool is None:
        pytest.skip("openapi-python-client is not installed (make install)")
    (where / "schema.json").write_bytes(schema)
    (where / "config.yaml").write_text(CONFIG)
    done = subprocess.run(
        [
            tool,
            "generate",
            "--path",
            str(where / "schema.json"),
            "--config",
            str(where / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(where / "portal_client"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, done.stdout  # every operation made it in
    return where


@pytest.fixture
def client_package(approved, tmp_path, client):
    answer = client.get("/api/schema/?format=json")
    assert answer.status_code == 200
    json.loads(answer.content)
    root = generated_client(answer.content, tmp_path)
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module("portal_client")
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n.split(".")[0] == "portal_client"]:
            del sys.modules[name]


def test_a_generated_client_reads_every_list_and_detail(
    approved, client_package, live_server, run_jobs, settings
):
    from django.test import Client as DjangoClient

    from apps.webhooks.services import webhook_endpoint_create

    c, headshot = approved
    run_jobs()
    settings.HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = True
    endpoint, _ = webhook_endpoint_create(
        organization=c.org, actor=c.hr, url="http://127.0.0.1:9/", events=["job.finished"]
    )
    _, token = api_token_create(organization=c.org, actor=c.hr, name="gen", scopes=sorted(SCOPES))
    signed_in = DjangoClient()
    signed_in.force_login(c.employee_user)
    package = client_package
    as_token = package.AuthenticatedClient(base_url=live_server.url, token=token)
    as_person = package.Client(
        base_url=live_server.url, cookies={"sessionid": signed_in.cookies["sessionid"].value}
    )
    ids = {
        "employees": c.employee.pk,
        "headshots": headshot.pk,
        "jobs": headshot.job_id,
        "webhooks": endpoint.pk,
    }
    api = importlib.import_module("portal_client.api.api")
    called = {}
    for info in pkgutil.iter_modules(api.__path__):
        if info.name == "api_schema_retrieve" or not info.name.endswith(("_list", "_retrieve")):
            continue
        operation = importlib.import_module(f"portal_client.api.api.{info.name}")
        path = operation._get_kwargs(
            org=c.org.slug, **({"id": "1"} if "id" in _names(operation) else {})
        )["url"]
        arguments = {"org": c.org.slug, "client": as_person if "/me/" in path else as_token}
        if "id" in _names(operation):
            arguments["id"] = str(ids[path.split("/")[5]])
        if "limit" in _names(operation):
            arguments["limit"] = 2
        answer = operation.sync_detailed(**arguments)
        assert answer.status_code == 200, (info.name, answer.status_code, answer.content[:300])
        parsed = answer.parsed
        assert parsed is not None, info.name  # the answer is what the schema promised
        if info.name.endswith("_list"):
            assert isinstance(parsed.count, int) and parsed.count >= len(parsed.results)
            assert all(
                type(item).__module__.startswith("portal_client.models") for item in parsed.results
            )
        called[info.name] = parsed
    lists = [name for name in called if name.endswith("_list")]
    assert len(lists) == 9 and len(called) == 13, sorted(called)
    assert called["headshot_list"].results and called["my_photos_list"].results
    assert called["api_v1_organizations_headshots_retrieve"].id == headshot.pk
    image = called["api_v1_organizations_headshots_image_retrieve"].payload.read()
    assert image.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")), image[:8]


def _names(operation) -> set[str]:
    return set(inspect.signature(operation.sync_detailed).parameters)
