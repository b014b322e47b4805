"""Production settings pass Django's deployment checks; every answer carries the
security headers."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy_with_no_warning(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HEADSHOTS_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "headshots_portal.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
        "DJANGO_ALLOWED_HOSTS": "headshots.example.com",
        "HEADSHOTS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "HEADSHOTS_VAR_DIR": str(tmp_path),
        "HEADSHOTS_CACHE_URL": "redis://127.0.0.1:6379/13",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]
    assert "no issues" in result.stdout
    env.pop("HEADSHOTS_ENCRYPTION_KEYS")
    refused = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "HEADSHOTS_ENCRYPTION_KEYS" in refused.stderr
    env["HEADSHOTS_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    env.pop("HEADSHOTS_CACHE_URL")
    no_cache = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert no_cache.returncode != 0 and "HEADSHOTS_CACHE_URL" in no_cache.stderr


def test_object_storage_needs_the_shared_key_and_a_bucket(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("HEADSHOTS_", "DJANGO_"))},
        "DJANGO_SETTINGS_MODULE": "headshots_portal.settings.base",
        "HEADSHOTS_VAR_DIR": str(tmp_path),
        "HEADSHOTS_STORAGE": "s3",
        "HEADSHOTS_S3_BUCKET": "private",
    }

    def check(**more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", "check"],
            cwd=ROOT,
            env={**env, **more},
            capture_output=True,
            text=True,
        )

    refused = check()
    assert refused.returncode != 0
    assert "needs HEADSHOTS_ENCRYPTION_KEYS, the same on every host" in refused.stderr
    key = Fernet.generate_key().decode()
    assert check(HEADSHOTS_ENCRYPTION_KEYS=key).returncode == 0
    env.pop("HEADSHOTS_S3_BUCKET")
    missing = check(HEADSHOTS_ENCRYPTION_KEYS=key)
    assert missing.returncode != 0 and "HEADSHOTS_S3_BUCKET" in missing.stderr


def test_security_headers_on_every_answer(client, db):
    response = client.get("/healthz")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self';" in policy and "cdn.jsdelivr.net" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=(self)" in response.headers["Permissions-Policy"]
    # the API docs page too: Swagger UI is served by the portal itself, its start-up
    # script a file of its own, so the page needs no exception to the policy
    docs = client.get("/api/docs/")
    assert docs.headers["Content-Security-Policy"] == policy
    page = docs.content.decode()
    assert "http://" not in page.replace("http://testserver", "") and "https://" not in page
    assert "<script>" not in page
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert len(sources) == 3 and all(s.startswith("/") for s in sources)
    for source in sources:
        assert client.get(source).status_code == 200
