"""Microsoft's and Google's directory services as their documentation describes them,
served over TLS on loopback for the tests and the benchmark.

- ``MicrosoftServer``: the identity platform's OpenID configuration and token endpoint
  (client credentials with a client secret, or a client assertion JWT signed by the
  registered certificate's key: signature, ``x5t``, audience, issuer, subject and expiry
  checked), and Graph's ``/v1.0/users`` and ``/users/{id | userPrincipalName}/photo/$value``
  (PUT with ``Content-Type: image/jpeg`` and at most 4 MB, DELETE), with the documented
  errors: 401 for a missing or expired token, 403 without the permission, 404 for an
  unknown user, 413 over the limit, 429 with ``Retry-After`` past its rate.
- ``GoogleServer``: the OAuth token endpoint's JWT-bearer grant (the service account's
  signature, its key id, audience, scope and the delegated subject checked), and the
  Directory API's ``users/{userKey}/photos/thumbnail`` (PUT with web-safe base64
  ``photoData``, DELETE), with 401, 403 (``rateLimitExceeded`` past its rate), 404.

Each counts the requests it answered, so a test can say an unchanged run made none."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import math
import secrets
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

GRAPH_MAX_BYTES = 4 * 1024 * 1024
GOOGLE_SCOPE = "https://www.googleapis.com/auth/admin.directory.user"
# the audience Google's documentation gives a service account's grant
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"  # noqa: S105


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def key_and_certificate(common_name: str) -> tuple[str, str]:
    """A new RSA key and a self-signed certificate for it, both PEM."""
    import ipaddress

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Bucket:
    """The service's rate: ``rate`` requests a second after a ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.level = float(burst)
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> float:
        """0 when the request may go; otherwise the seconds to wait."""
        with self.lock:
            now = time.monotonic()
            self.level = min(self.burst, self.level + (now - self.at) * self.rate)
            self.at = now
            if self.level >= 1:
                self.level -= 1
                return 0.0
            return (1 - self.level) / self.rate


class ContractServer:
    """A TLS server on loopback; subclasses answer ``answer(method, path, query, headers,
    body)``."""

    def __init__(self, directory: Path, latency_s: float = 0.0) -> None:
        # its own name: two test services in one CA bundle must not look like one issuer
        self.key_pem, self.certificate_pem = key_and_certificate(
            f"{type(self).__name__} on 127.0.0.1"
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_bundle = directory / f"{type(self).__name__}.pem"
        self.ca_bundle.write_text(self.certificate_pem)
        (directory / f"{type(self).__name__}.key").write_text(self.key_pem)
        self.latency_s = latency_s
        self.requests: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.in_flight = self.most_in_flight = 0
        self.bucket: Bucket | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                answer = server._answer(
                    self.command, unquote(parts.path), parse_qs(parts.query), self.headers, body
                )
                data = b""
                if isinstance(answer.body, bytes):
                    data = answer.body
                elif answer.body is not None:
                    data = json.dumps(answer.body).encode()
                    answer.headers.setdefault("Content-Type", "application/json")
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_bundle, directory / f"{type(self).__name__}.key")
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> ContractServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def throttle(self, rate: float, burst: int) -> None:
        self.bucket = Bucket(rate, burst)

    def _answer(self, method: str, path: str, query: dict, headers: Any, body: bytes) -> Answer:
        with self.lock:
            self.requests.append((method, path))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.latency_s:
                time.sleep(self.latency_s)
            return self.answer(method, path, query, headers, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    def answer(self, method: str, path: str, query: dict, headers: Any, body: bytes) -> Answer:
        raise NotImplementedError

    def calls(self, method: str, contains: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and contains in p)

    def bearer(self, headers: Any) -> str:
        value = headers.get("Authorization", "")
        return value[7:] if value.startswith("Bearer ") else ""


@dataclass
class GraphUser:
    id: str
    upn: str
    mail: str
    photo: bytes | None = None


class MicrosoftServer(ContractServer):
    def __init__(self, directory: Path, *, latency_s: float = 0.0) -> None:
        super().__init__(directory, latency_s)
        self.tenant = "0b5d3b6e-1c2a-4f0e-9d8e-1f2a3b4c5d6e"
        self.client_id = "6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f"
        self.client_secret = "s3cr3t~" + secrets.token_urlsafe(16)
        self.app_key_pem, self.app_certificate_pem = key_and_certificate("headshots-app")
        self.permission = True  # User.ReadWrite.All granted
        self.users: dict[str, GraphUser] = {}
        self.tokens: dict[str, float] = {}  # token -> when it expires on the service's side
        self.token_lifetime_s = 3600
        self.token_requests = 0

    def add_user(self, upn: str, mail: str | None = None) -> GraphUser:
        user = GraphUser(id=secrets.token_hex(8), upn=upn, mail=mail or upn)
        self.users[user.id] = user
        return user

    def find(self, key: str) -> GraphUser | None:
        return self.users.get(key) or next(
            (u for u in self.users.values() if u.upn.lower() == key.lower()), None
        )

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (they expired on the service's side)."""
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    @property
    def token_url(self) -> str:
        return f"{self.url}/{self.tenant}/oauth2/v2.0/token"

    def answer(self, method: str, path: str, query: dict, headers: Any, body: bytes) -> Answer:
        if path == f"/{self.tenant}/v2.0/.well-known/openid-configuration":
            return Answer(
                200,
                {
                    "issuer": f"{self.url}/{self.tenant}/v2.0",
                    "token_endpoint": self.token_url,
                    "authorization_endpoint": f"{self.url}/{self.tenant}/oauth2/v2.0/authorize",
                },
            )
        if path.endswith("/oauth2/v2.0/token") and method == "POST":
            return self._token(path, {k: v[0] for k, v in parse_qs(body.decode()).items()})
        if path.startswith("/v1.0/"):
            return self._graph(method, path, query, headers, body)
        return Answer(404, {"error": {"code": "NotFound", "message": "No such path."}})

    def _token(self, path: str, form: dict[str, str]) -> Answer:
        self.token_requests += 1
        if path != f"/{self.tenant}/oauth2/v2.0/token":
            return Answer(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "AADSTS90002: Tenant not found.",
                },
            )
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("client_id") != self.client_id
        ):
            return Answer(
                400,
                {
                    "error": "unauthorized_client",
                    "error_description": "AADSTS700016: Application not found in the directory.",
                },
            )
        if form.get("scope") != "https://graph.microsoft.com/.default" and not form.get(
            "scope", ""
        ).endswith("/.default"):
            return Answer(400, {"error": "invalid_scope", "error_description": "AADSTS1002012"})
        if "client_assertion" in form:
            problem = self._assertion_problem(form)
        else:
            problem = (
                ""
                if secrets.compare_digest(form.get("client_secret", ""), self.client_secret)
                else "AADSTS7000215: Invalid client secret provided."
            )
        if problem:
            return Answer(401, {"error": "invalid_client", "error_description": problem})
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + self.token_lifetime_s
        return Answer(
            200,
            {"token_type": "Bearer", "expires_in": self.token_lifetime_s, "access_token": token},
        )

    def _assertion_problem(self, form: dict[str, str]) -> str:
        if form.get("client_assertion_type") != (
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        ):
            return "AADSTS50027: Invalid client assertion type."
        assertion = form["client_assertion"]
        certificate = x509.load_pem_x509_certificate(self.app_certificate_pem.encode())
        header = jwt.get_unverified_header(assertion)
        sha1 = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA1())).rstrip(b"=")  # noqa: S303
        sha256 = base64.urlsafe_b64encode(certificate.fingerprint(hashes.SHA256())).rstrip(b"=")
        if (
            header.get("x5t", "").rstrip("=").encode() != sha1
            and header.get("x5t#S256", "").rstrip("=").encode() != sha256
        ):
            return "AADSTS700027: The certificate with identifier used to sign the assertion is not registered."
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["RS256", "PS256"],
                audience=[self.token_url, f"{self.url}/{self.tenant}/v2.0"],
                options={"require": ["exp", "iss", "sub", "aud"]},
            )
        except jwt.PyJWTError as exc:
            return f"AADSTS700027: Client assertion failed signature validation ({exc})."
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            return "AADSTS700021: Client assertion application identifier does not match."
        return ""

    def _graph(self, method: str, path: str, query: dict, headers: Any, body: bytes) -> Answer:
        token = self.bearer(headers)
        if self.tokens.get(token, 0.0) < time.time():
            return Answer(
                401,
                {
                    "error": {
                        "code": "InvalidAuthenticationToken",
                        "message": "Access token has expired or is not yet valid.",
                    }
                },
            )
        if self.bucket is not None:
            wait = self.bucket.take()
            if wait:
                return Answer(
                    429,
                    {"error": {"code": "TooManyRequests", "message": "Too many requests."}},
                    {"Retry-After": str(max(1, math.ceil(wait)))},
                )
        if not self.permission:
            return Answer(
                403,
                {
                    "error": {
                        "code": "Authorization_RequestDenied",
                        "message": "Insufficient privileges to complete the operation.",
                    }
                },
            )
        if path == "/v1.0/users" and method == "GET":
            wanted = query.get("$filter", [""])[0]
            users = list(self.users.values())
            if wanted:
                if not wanted.startswith("mail eq '") or not wanted.endswith("'"):
                    return Answer(
                        400, {"error": {"code": "BadRequest", "message": "Invalid filter clause"}}
                    )
                mail = wanted[9:-1].replace("''", "'")
                users = [u for u in users if u.mail.lower() == mail.lower()]
            top = int(query.get("$top", ["100"])[0])
            return Answer(200, {"value": [{"id": u.id} for u in users[:top]]})
        parts = path.split("/")
        if len(parts) == 6 and parts[2] == "users" and parts[4:] == ["photo", "$value"]:
            user = self.find(parts[3])
            if user is None:
                return Answer(
                    404,
                    {
                        "error": {
                            "code": "Request_ResourceNotFound",
                            "message": f"Resource '{parts[3]}' does not exist.",
                        }
                    },
                )
            if method == "PUT":
                if headers.get("Content-Type") != "image/jpeg":
                    return Answer(
                        415,
                        {
                            "error": {
                                "code": "UnsupportedMediaType",
                                "message": "Content-Type must be image/jpeg.",
                            }
                        },
                    )
                if len(body) > GRAPH_MAX_BYTES:
                    return Answer(
                        413,
                        {
                            "error": {
                                "code": "RequestEntityTooLarge",
                                "message": "The photo is over 4 MB.",
                            }
                        },
                    )
                if not body.startswith(b"\xff\xd8\xff"):
                    return Answer(
                        400, {"error": {"code": "ErrorInvalidImage", "message": "Not a JPEG."}}
                    )
                user.photo = body
                return Answer(200)
            if method == "DELETE":
                if user.photo is None:
                    return Answer(404, {"error": {"code": "ImageNotFound", "message": "No photo."}})
                user.photo = None
                return Answer(204)
        return Answer(405, {"error": {"code": "MethodNotAllowed", "message": "Not supported."}})


@dataclass
class GoogleUser:
    primary_email: str
    photo: bytes | None = None
    photo_size: tuple[int, int] = (0, 0)


class GoogleServer(ContractServer):
    def __init__(self, directory: Path, *, latency_s: float = 0.0) -> None:
        super().__init__(directory, latency_s)
        key_pem, _ = key_and_certificate("service-account")
        self.private_key_pem = key_pem
        self.key_id = secrets.token_hex(20)
        self.client_email = "headshots-sync@acme-project.iam.gserviceaccount.com"
        self.delegated_admins = {"admin@acme.example"}  # domain-wide delegation granted
        self.users: dict[str, GoogleUser] = {}
        self.tokens: dict[str, float] = {}
        self.token_requests = 0

    def key_file(self, token_uri: str = GOOGLE_TOKEN_AUDIENCE) -> str:
        """The JSON key file as the Google Cloud console gives it."""
        return json.dumps(
            {
                "type": "service_account",
                "project_id": "acme-project",
                "private_key_id": self.key_id,
                "private_key": self.private_key_pem,
                "client_email": self.client_email,
                "client_id": "1234567890",
                "auth_uri": "https://accounts.google.com/o/oauth2/auth",
                "token_uri": token_uri,
            }
        )

    def add_user(self, email: str) -> GoogleUser:
        user = GoogleUser(email)
        self.users[email.lower()] = user
        return user

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    def answer(self, method: str, path: str, query: dict, headers: Any, body: bytes) -> Answer:
        if path == "/token" and method == "POST":
            return self._token({k: v[0] for k, v in parse_qs(body.decode()).items()})
        if path.startswith("/admin/directory/v1/users"):
            return self._directory(method, path, headers, body)
        return Answer(404, {"error": {"code": 404, "message": "Not Found"}})

    def _token(self, form: dict[str, str]) -> Answer:
        self.token_requests += 1
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return Answer(
                400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."}
            )
        assertion = form.get("assertion", "")
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        public = load_pem_private_key(self.private_key_pem.encode(), None).public_key()
        try:
            header = jwt.get_unverified_header(assertion)
            claims = jwt.decode(
                assertion,
                public,  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
                options={"require": ["exp", "iat", "iss", "aud", "scope"]},
            )
        except jwt.PyJWTError as exc:
            return Answer(
                400,
                {"error": "invalid_grant", "error_description": f"Invalid JWT Signature. ({exc})"},
            )
        if header.get("kid") != self.key_id or claims["iss"] != self.client_email:
            return Answer(
                400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            )
        if claims["exp"] - claims["iat"] > 3600:
            return Answer(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Invalid JWT: Token must be a short-lived token (60 minutes).",
                },
            )
        if (
            GOOGLE_SCOPE not in claims["scope"].split()
            or claims.get("sub") not in self.delegated_admins
        ):
            return Answer(
                401,
                {
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
                },
            )
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.time() + 3600
        return Answer(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _error(self, status: int, reason: str, message: str) -> Answer:
        return Answer(
            status,
            {
                "error": {
                    "code": status,
                    "message": message,
                    "errors": [{"reason": reason, "message": message}],
                }
            },
        )

    def _directory(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        if self.tokens.get(self.bearer(headers), 0.0) < time.time():
            return self._error(401, "authError", "Invalid Credentials")
        if self.bucket is not None and self.bucket.take():
            return self._error(403, "rateLimitExceeded", "Rate Limit Exceeded")
        if path == "/admin/directory/v1/users" and method == "GET":
            return Answer(
                200,
                {
                    "kind": "admin#directory#users",
                    "users": [{"primaryEmail": u.primary_email} for u in self.users.values()][:1],
                },
            )
        parts = path.split("/")
        if len(parts) == 8 and parts[6:] == ["photos", "thumbnail"]:
            user = self.users.get(parts[5].lower())
            if user is None:
                return self._error(404, "notFound", "Resource Not Found: userKey")
            if method == "PUT":
                return self._photo(user, headers, body)
            if method == "DELETE":
                if user.photo is None:
                    return self._error(404, "notFound", "Resource Not Found: photo")
                user.photo = None
                return Answer(204)
        return self._error(405, "methodNotAllowed", "Method not allowed")

    def _photo(self, user: GoogleUser, headers: Any, body: bytes) -> Answer:
        if not headers.get("Content-Type", "").startswith("application/json"):
            return self._error(400, "badRequest", "Content-Type must be application/json")
        try:
            photo = json.loads(body)
            data = photo["photoData"]
        except (ValueError, KeyError, TypeError):
            return self._error(400, "required", "Required field must not be blank: photoData")
        if "+" in data or "/" in data:  # the web-safe alphabet only
            return self._error(400, "invalid", "Invalid value for photoData: not web-safe base64")
        try:
            jpeg = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        except ValueError:
            return self._error(400, "invalid", "Invalid value for photoData")
        if photo.get("mimeType") not in {"JPEG", "PNG", "GIF", "BMP", "TIFF", "WEB_SAFE_JPEG"}:
            return self._error(400, "invalid", "Invalid value for mimeType")
        if not jpeg.startswith(b"\xff\xd8\xff"):
            return self._error(400, "invalid", "The photo is not an image")
        user.photo = jpeg
        user.photo_size = (int(photo.get("width", 0)), int(photo.get("height", 0)))
        return Answer(
            200,
            {
                "kind": "admin#directory#user#photo",
                "primaryEmail": user.primary_email,
                "etag": hashlib.sha256(jpeg).hexdigest()[:32],
            },
        )
