"""A real OpenID Connect provider on loopback (the npm oidc-provider package, installed
by make test with npm ci), started for the tests that sign in through it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent / "oidc_provider"
# The operator provides the client secret in the company's own variable (tenant_secrets).
SECRET_ENV = "HEADSHOTS_OIDC_SECRET__ACME"
ACCOUNTS = {
    "ana": {
        "email": "ana@acme.example",
        "email_verified": True,
        "name": "Ana García",
        "groups": ["Staff"],
    },
    "hana": {
        "email": "hana@acme.example",
        "email_verified": True,
        "name": "Hana Sato",
        "groups": ["HR-Admins"],
    },
    "mallory": {
        "email": "mallory@globex.example",
        "email_verified": True,
        "name": "Mallory",
        "groups": [],
    },
    "unverified": {"email": "uv@acme.example", "email_verified": False, "name": "Unverified"},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def oidc_provider(live_server, monkeypatch):
    """(issuer, client id) of a provider whose one client redirects to Acme's callback."""
    node = shutil.which("node")
    if node is None or not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("node or the test OIDC provider is not installed (make test runs npm ci)")
    port = _free_port()
    secret = "client-secret-for-the-tests"
    monkeypatch.setenv(SECRET_ENV, secret)
    process = subprocess.Popen(  # noqa: S603 - our own test server
        [node, str(HERE / "server.mjs")],
        cwd=HERE,
        env={
            **os.environ,
            "PORT": str(port),
            "CLIENT_ID": "headshots",
            "CLIENT_SECRET": secret,
            "REDIRECT_URI": f"{live_server.url}/sso/acme/callback/",
            "ACCOUNTS": json.dumps(ACCOUNTS),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = process.stdout.readline()
        while line and "READY" not in line:
            line = process.stdout.readline()
        if "READY" not in line:
            raise RuntimeError("the test OIDC provider did not start")
        yield f"http://127.0.0.1:{port}", "headshots"
    finally:
        process.terminate()
        process.wait(10)
