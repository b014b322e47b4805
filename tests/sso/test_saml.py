"""SAML 2.0 sign-on against an identity provider made by the test with pysaml2 (its own
key and certificate), signatures checked by xmlsec1."""

from __future__ import annotations

import base64
import datetime as dt
import shutil
from pathlib import Path
from unittest import mock
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from apps.organizations.models import EmployeeProfile, IdentityProvider, Membership
from tests.apps.factories import company

pytestmark = pytest.mark.skipif(
    shutil.which("xmlsec1") is None, reason="xmlsec1 is not installed (make test installs it)"
)
IDP_ENTITY = "https://idp.acme.example/saml"
IDP_SSO = "https://idp.acme.example/sso"


def _key_and_cert(folder: Path) -> tuple[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp.acme.example")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    key_path, cert_path = folder / "idp.key", folder / "idp.crt"
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_path), str(cert_path)


def _idp_config(key: str, cert: str, sp_metadata: str | None) -> dict:
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.saml import NAMEID_FORMAT_EMAILADDRESS

    config = {
        "entityid": IDP_ENTITY,
        "xmlsec_binary": shutil.which("xmlsec1"),
        "key_file": key,
        "cert_file": cert,
        "service": {
            "idp": {
                "endpoints": {"single_sign_on_service": [(IDP_SSO, BINDING_HTTP_REDIRECT)]},
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            }
        },
    }
    if sp_metadata:
        config["metadata"] = {"inline": [sp_metadata]}
    return config


@pytest.fixture
def saml_idp(db, client, tmp_path, settings):
    """Acme with SAML sign-on, and a function that answers the portal's request as the
    identity provider would: (SAMLResponse, RelayState) for the given attributes."""
    from saml2.config import IdPConfig
    from saml2.metadata import entity_descriptor
    from saml2.server import Server

    settings.HEADSHOTS_LOCAL_SIGNIN = "admins"
    c = company("Acme", "acme.example")
    key, cert = _key_and_cert(tmp_path)
    bare = IdPConfig()
    bare.load(_idp_config(key, cert, None))
    provider = IdentityProvider.objects.create(
        organization=c.org,
        kind=IdentityProvider.Kind.SAML,
        saml_metadata=str(entity_descriptor(bare)),
        role_groups={"hr": ["HR-Admins"]},
    )
    sp_metadata = client.get(reverse("saml-metadata", args=["acme"])).content.decode()
    config = IdPConfig()
    config.load(_idp_config(key, cert, sp_metadata))
    server = Server(config=config)

    def answer(
        email: str, name: str = "Ana García", groups=("Staff",), signed: bool = True
    ) -> tuple[str, str]:
        from saml2 import BINDING_HTTP_REDIRECT
        from saml2.saml import AUTHN_PASSWORD_PROTECTED

        start = client.get(reverse("sso-start", args=["acme"]))
        assert start.status_code == 302 and start.url.startswith(IDP_SSO)
        query = parse_qs(urlparse(start.url).query)
        request = server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        response = server.create_authn_response(
            identity={"email": [email], "displayName": [name], "groups": list(groups)},
            in_response_to=request.message.id,
            destination=request.message.assertion_consumer_service_url,
            sp_entity_id=request.message.issuer.text,
            name_id=server.ident.transient_nameid(request.message.issuer.text, email),
            userid=email,
            authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": IDP_ENTITY},
            sign_assertion=signed,
            sign_response=False,
        )
        return base64.b64encode(str(response).encode()).decode(), query["RelayState"][0]

    return c, provider, answer


def post(client, response: str, relay: str):
    return client.post(
        reverse("saml-acs", args=["acme"]), {"SAMLResponse": response, "RelayState": relay}
    )


def test_a_signed_assertion_signs_the_person_in_with_their_role(saml_idp, client):
    c, provider, answer = saml_idp
    done = post(client, *answer("hana@acme.example", "Hana Sato", groups=["HR-Admins"]))
    assert done.status_code == 302 and done.url == reverse("company-home", args=["acme"])
    assert client.get(done.url).url == reverse("hr-dashboard", args=["acme"])
    hana = EmployeeProfile.objects.get(organization=c.org, email="hana@acme.example")
    assert hana.full_name == "Hana Sato"
    assert Membership.objects.get(organization=c.org, user=hana.user).role == "hr"


def test_a_tampered_assertion_is_refused(saml_idp, client):
    c, provider, answer = saml_idp
    response, relay = answer("ana@acme.example")
    xml = base64.b64decode(response).decode()
    assert "ana@acme.example" in xml
    forged = base64.b64encode(xml.replace("ana@acme.example", "eve@acme.example").encode()).decode()
    refused = post(client, forged, relay)
    assert refused.status_code == 403 and "could not be verified" in refused.content.decode()
    assert not EmployeeProfile.objects.filter(email="eve@acme.example").exists()
    assert not refused.wsgi_request.user.is_authenticated


def test_an_expired_assertion_is_refused(saml_idp, client):
    c, provider, answer = saml_idp
    response, relay = answer("ana@acme.example")
    later = dt.datetime.now(dt.UTC).timestamp() + 3600
    with mock.patch("saml2.time_util.utc_now", return_value=int(later)):
        refused = post(client, response, relay)
    assert refused.status_code == 403 and "out of date" in refused.content.decode()


def test_a_user_of_another_companys_domain_is_refused(saml_idp, client):
    c, provider, answer = saml_idp
    refused = post(client, *answer("mallory@globex.example", "Mallory"))
    assert refused.status_code == 403 and "not an address of Acme" in refused.content.decode()


def test_an_answer_is_used_once_and_only_for_a_request_made_here(saml_idp, client):
    c, provider, answer = saml_idp
    response, relay = answer("ana@acme.example")
    assert post(client, response, relay).status_code == 302
    client.logout()
    replay = post(client, response, relay)
    assert replay.status_code == 403 and "already been used" in replay.content.decode()
    fresh, _ = answer("ana@acme.example")
    assert post(client, fresh, "a-relay-this-portal-never-signed").status_code == 403


def test_an_unsigned_assertion_is_refused(saml_idp, client):
    c, provider, answer = saml_idp
    refused = post(client, *answer("ana@acme.example", signed=False))
    assert refused.status_code == 403 and "could not be verified" in refused.content.decode()
    assert not EmployeeProfile.objects.filter(email="ana@acme.example").exists()
