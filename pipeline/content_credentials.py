"""C2PA Content Credentials: a signed manifest inside every generated JPEG saying what
made it (the generator, the IPTC digital source type, the preset and seed), so anyone can
check with a C2PA reader that the headshot is AI-made or AI-edited and unchanged since.

Signing needs the company's certificate chain and private key (PEM), from the
environment or a secret store. Validators trust a chain that ends in a C2PA trust-list
authority; ``make_test_chain`` issues one that is cryptographically valid but trusted by
nobody, for trials and tests. The c2pa-python library (the C2PA reference implementation)
is imported only here.
"""

from __future__ import annotations

import datetime
import io
import json
import threading
from dataclasses import dataclass
from typing import Any

from pipeline.errors import PipelineError
from pipeline.provenance import TRAINED_ALGORITHMIC_MEDIA

CLAIM_GENERATOR = "headshots-portal"
GENERATION_ASSERTION = "org.headshots-portal.generation"
# Integrity failures: the picture or the manifest changed after signing.
TAMPERED_CODES = (
    "assertion.dataHash.mismatch",
    "assertion.hashedURI.mismatch",
    "claimSignature.mismatch",
)


class CredentialsInvalid(PipelineError):
    pass


def _algorithm(private_key_pem: bytes) -> str:
    """The C2PA signing algorithm that the key's type calls for."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(private_key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialsInvalid(
            f"The C2PA private key is not an unencrypted PEM key: {exc}", code="c2pa_invalid"
        ) from exc
    if isinstance(key, ec.EllipticCurvePrivateKey):
        curves = {"secp256r1": "es256", "secp384r1": "es384", "secp521r1": "es512"}
        if key.curve.name not in curves:
            raise CredentialsInvalid(
                f"C2PA signs with P-256, P-384 or P-521 keys, not {key.curve.name}.",
                code="c2pa_invalid",
            )
        return curves[key.curve.name]
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    raise CredentialsInvalid("C2PA signs with EC, Ed25519 or RSA keys.", code="c2pa_invalid")


@dataclass(frozen=True)
class ManifestReport:
    state: str  # "Valid", "Trusted" or "Invalid", as the C2PA reader says
    manifest: dict[str, Any]
    failures: list[str]

    @property
    def tampered(self) -> bool:
        return any(code in TAMPERED_CODES for code in self.failures)

    def digital_source_type(self) -> str | None:
        for assertion in self.manifest.get("assertions", []):
            if assertion.get("label", "").startswith("c2pa.actions"):
                for action in assertion["data"].get("actions", []):
                    if "digitalSourceType" in action:
                        return str(action["digitalSourceType"])
        return None

    def generation(self) -> dict[str, Any]:
        for assertion in self.manifest.get("assertions", []):
            if assertion.get("label") == GENERATION_ASSERTION:
                return dict(assertion["data"])
        return {}


class ContentCredentials:
    """Signs JPEGs with a C2PA manifest. Checks the chain and key once, when built."""

    def __init__(self, cert_chain_pem: str | bytes, private_key_pem: str | bytes) -> None:
        try:
            import c2pa
        except ImportError as exc:
            raise CredentialsInvalid(
                f"C2PA signing needs the c2pa-python package ({exc}).", code="c2pa_unavailable"
            ) from exc
        chain = cert_chain_pem.encode() if isinstance(cert_chain_pem, str) else cert_chain_pem
        key = private_key_pem.encode() if isinstance(private_key_pem, str) else private_key_pem
        self.algorithm = _algorithm(key)
        self.subject = _subject(chain)
        self._c2pa = c2pa
        self._lock = threading.Lock()  # one native signer, used by one thread at a time
        try:
            self._signer = c2pa.Signer.from_info(
                c2pa.C2paSignerInfo(self.algorithm, chain, key, None)
            )
            # No claim thumbnail: it would add a second copy of the face to every file.
            settings = c2pa.Settings.from_dict({"builder": {"thumbnail": {"enabled": False}}})
            self._context = c2pa.Context(settings)
        except c2pa.C2paError as exc:
            raise CredentialsInvalid(
                f"The C2PA certificate chain or key was refused: {exc}", code="c2pa_invalid"
            ) from exc
        # The library validates what it signed: a key that does not match the chain fails here.
        self.sign(
            _probe_jpeg(),
            title="probe.jpg",
            digital_source_type=TRAINED_ALGORITHMIC_MEDIA,
            generator="probe",
        )

    def sign(
        self,
        jpeg: bytes,
        *,
        title: str,
        digital_source_type: str,
        generator: str,
        details: dict[str, Any] | None = None,
    ) -> bytes:
        action = {
            "action": "c2pa.created",
            "digitalSourceType": digital_source_type,
            "softwareAgent": {"name": generator},
        }
        manifest = {
            "claim_generator_info": [{"name": CLAIM_GENERATOR}],
            "title": title,
            "format": "image/jpeg",
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": [action]}},
                {
                    "label": GENERATION_ASSERTION,
                    "data": {"generator": generator, **(details or {})},
                },
            ],
        }
        output = io.BytesIO()
        with self._lock:
            builder = self._c2pa.Builder.from_json(json.dumps(manifest), self._context)
            try:
                builder.sign(self._signer, "image/jpeg", io.BytesIO(jpeg), output)
            except self._c2pa.C2paError as exc:
                raise CredentialsInvalid(
                    f"C2PA signing failed: {exc}", code="c2pa_invalid"
                ) from exc
            finally:
                builder.close()
        return output.getvalue()


def read_manifest(data: bytes) -> ManifestReport | None:
    """The active C2PA manifest of a JPEG with its validation, or None when it has none."""
    import c2pa

    try:
        reader = c2pa.Reader("image/jpeg", io.BytesIO(data))
    except c2pa.C2paError:
        return None
    try:
        manifest = reader.get_active_manifest() or {}
        results = reader.get_validation_results() or {}
        failures = [
            str(item.get("code"))
            for item in (results.get("activeManifest") or {}).get("failure", [])
        ]
        return ManifestReport(
            state=str(reader.get_validation_state()), manifest=manifest, failures=failures
        )
    finally:
        reader.close()


def _subject(chain: bytes) -> str:
    from cryptography import x509

    try:
        certificate = x509.load_pem_x509_certificates(chain)[0]
    except ValueError as exc:
        raise CredentialsInvalid(
            f"The C2PA certificate chain is not PEM certificates: {exc}", code="c2pa_invalid"
        ) from exc
    return certificate.subject.rfc4514_string()


def _probe_jpeg() -> bytes:
    import numpy as np

    from pipeline.imaging import encode

    return encode(np.full((16, 16, 3), 128, dtype=np.uint8), quality=80)


def make_test_chain(organisation: str, *, days: int = 365) -> tuple[str, str]:
    """(certificate chain PEM, private key PEM): a P-256 signing certificate issued by a
    fresh root, shaped as C2PA asks (not a CA, digital signature, e-mail protection).
    Valid, but trusted by no validator: for trials and tests only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common_name: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            ]
        )

    def usage(*, signs_certificates: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=not signs_certificates,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=signs_certificates,
            crl_sign=signs_certificates,
            encipher_only=False,
            decipher_only=False,
        )

    now = datetime.datetime.now(datetime.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root = (
        x509.CertificateBuilder()
        .subject_name(name(f"{organisation} test root"))
        .issuer_name(name(f"{organisation} test root"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(signs_certificates=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(f"{organisation} headshots"))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(signs_certificates=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + root.public_bytes(pem)
    private = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain.decode(), private.decode()
