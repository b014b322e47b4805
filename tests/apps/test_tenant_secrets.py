"""A company can never make the portal send a secret that is not its own.

The attack this guards against: HR of one company names a server variable
(DJANGO_SECRET_KEY, the encryption keys, another company's directory password) as the
source of its directory password, points the directory address at a server they run, and
presses "Test connection". A fake LDAP server on loopback records every byte it receives.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from apps.core.errors import ValidationFailed
from apps.organizations.tenant_secrets import operator_variable, tenant_secret
from apps.publishing.directory_sync import directory_connection_save

BIND_DN = "cn=portal,dc=acme,dc=example"
BASE_DN = "ou=people,dc=acme,dc=example"


class Listener:
    """A TCP server on loopback that records what clients send, then hangs up."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            conn.settimeout(0.5)
            try:
                while chunk := conn.recv(65536):
                    self.received += chunk
            except (TimeoutError, OSError):
                pass
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self.thread.join(timeout=2)


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


def _form(port: int, **extra: str) -> dict[str, str]:
    return {
        "enabled": "on",
        "uri": f"ldap://127.0.0.1:{port}",
        "bind_dn": BIND_DN,
        "base_dn": BASE_DN,
        "user_filter": "(objectClass=inetOrgPerson)",
        "match_attribute": "mail",
        "match_field": "email",
        "photo_attribute": "jpegPhoto",
        "max_bytes": "100000",
        "max_side": "648",
        **extra,
    }


def _server_secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The server's environment, with the secrets an attacker wants in it."""
    planted = {
        "DJANGO_SECRET_KEY": "django-signing-key-of-the-server-0123456789",
        "HEADSHOTS_ENCRYPTION_KEYS": "encryption-keys-of-the-server-abcdefghij",
        operator_variable("ldap", "globex"): "globex-directory-password-xyz",
        operator_variable("oidc", "globex"): "globex-oidc-client-secret-xyz",
        "DJANGO_EMAIL_HOST_PASSWORD": "smtp-password-of-the-server-42",
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    return {name: value for name, value in os.environ.items() if len(value) >= 8}


def test_no_server_variable_reaches_a_server_a_tenant_points_at(
    acme, globex, client, listener, monkeypatch
):
    from django.core.cache import cache

    secrets = _server_secrets(monkeypatch)
    client.force_login(acme.hr)
    settings_url = reverse("directory-settings", args=[acme.org.slug])
    test_url = reverse("directory-test", args=[acme.org.slug])
    for name in secrets:
        # Through the service: a setting that names a variable is refused outright.
        with pytest.raises(ValidationFailed, match="do not exist"):
            directory_connection_save(
                organization=acme.org,
                actor=acme.hr,
                values={"uri": f"ldap://127.0.0.1:{listener.port}", "bind_secret_env": name},
            )
        # Through the page: the name goes nowhere, and the test connection sends no secret.
        for field in ("bind_secret_env", "bind_password_sealed", "client_secret_env"):
            client.post(settings_url, _form(listener.port, **{field: name}))
        cache.clear()  # the test-connection limit would otherwise stop the attempts early
        answer = client.post(test_url, follow=True).content.decode()
        assert "No directory password is set" in answer
    # A password typed with a variable's name in shell syntax is taken literally.
    client.post(settings_url, _form(listener.port, bind_password="${DJANGO_SECRET_KEY}"))
    client.post(test_url)
    listener.close()
    sent = bytes(listener.received)
    assert b"${DJANGO_SECRET_KEY}" in sent  # the listener did hear the bind: it can tell
    leaked = [name for name, value in secrets.items() if value.encode() in sent]
    assert not leaked, f"the portal sent the values of {leaked} to a tenant's server"


def test_a_tenant_gets_its_own_secrets_only(acme, globex, monkeypatch):
    monkeypatch.setenv(operator_variable("ldap", "globex"), "globex-only")
    with pytest.raises(ValidationFailed, match=operator_variable("ldap", "acme")):
        tenant_secret(kind="ldap", organization=acme.org, sealed="")
    assert tenant_secret(kind="ldap", organization=globex.org, sealed="") == "globex-only"


def test_companies_whose_addresses_read_the_same_variable_get_none(acme, monkeypatch, db):
    from apps.organizations.services import organization_create

    twin = organization_create(name="Acme Corp", email_domains=["acmecorp.example"])
    twin.slug, acme.org.slug = "acme_corp", "acme-corp"
    twin.save(update_fields=["slug"])
    acme.org.save(update_fields=["slug"])
    monkeypatch.setenv("HEADSHOTS_LDAP_SECRET__ACME_CORP", "whose-is-it")
    for org in (acme.org, twin):
        with pytest.raises(ValidationFailed, match="another company"):
            tenant_secret(kind="ldap", organization=org, sealed="")


def test_no_setting_names_an_environment_variable():
    """The rule, for every model: a setting a company or an administrator fills in never
    says which environment variable to read."""
    named = [
        f"{model.__name__}.{field.name}"
        for model in django_apps.get_models()
        if model.__module__.startswith("apps.")
        for field in model._meta.get_fields()
        if field.name.endswith(("_env", "_env_var", "_variable"))
    ]
    assert not named, f"settings that name environment variables: {named}"


def test_the_directory_test_answers_alike_for_closed_and_silent_ports(
    acme, client, listener, monkeypatch
):
    """ "Test connection" is no port scanner: a closed port, a port where something
    listens but speaks no LDAP, and a typo'd host read the same, and attempts are few."""
    client.force_login(acme.hr)
    settings_url = reverse("directory-settings", args=[acme.org.slug])
    test_url = reverse("directory-test", args=[acme.org.slug])
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    answers = []
    for port in (closed_port, listener.port):
        client.post(settings_url, _form(port, bind_password="pw"))
        page = client.post(test_url, follow=True).content.decode()
        answers.append(_message(page))
    assert answers[0] == answers[1] and "could not be reached" in answers[0]
    for _ in range(12):
        last = _message(client.post(test_url, follow=True).content.decode())
    assert "Wait a few minutes" in last


def _message(page: str) -> str:
    return page.split('<p class="message')[-1].split("</p>")[0]
