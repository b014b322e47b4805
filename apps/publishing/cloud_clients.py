"""The photo APIs of Microsoft Graph (Entra ID / Microsoft 365) and Google Workspace's
Directory API, as the sync uses them: find a person, put their photo, delete it.

No Django here. Where the services live is the operator's setting (``Endpoints``: the
public clouds by default, a national cloud or a test server otherwise), never a
company's: a company gives only its tenant, its application and its credential.

Errors come back as ``TargetError`` with a ``kind`` the sync acts on: ``throttled``
(wait ``retry_after`` seconds and try again), ``unavailable`` (try again later),
``not_found`` (no such person), ``credentials`` / ``permission`` (the company's setup is
wrong: reported once, clearly), ``refused`` (this one photo was not taken)."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

import requests

logger = logging.getLogger(__name__)

GRAPH_PHOTO_MAX_BYTES = 4 * 1024 * 1024  # Graph's limit for a photo PUT
GRAPH_SCOPE = "/.default"
GOOGLE_SCOPE = "https://www.googleapis.com/auth/admin.directory.user"
TIMEOUT_S = 30.0


class TargetError(Exception):
    def __init__(self, message: str, *, kind: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class Endpoints:
    """Where the services are: the operator's settings, never a company's."""

    microsoft_login: str = "https://login.microsoftonline.com"
    graph: str = "https://graph.microsoft.com"
    google_token: str = "https://oauth2.googleapis.com/token"  # noqa: S105 (an address)
    google_directory: str = "https://admin.googleapis.com"
    verify: bool | str = True  # a CA bundle path for a private cloud or a test server


class PhotoClient(Protocol):
    """What the sync needs of a target."""

    def test(self) -> str: ...

    def resolve(self, match_value: str) -> str | None: ...

    def put_photo(self, ref: str, jpeg: bytes) -> None: ...

    def delete_photo(self, ref: str) -> None: ...


class PinnedSession(requests.Session):
    """A session whose own CA bundle is used: requests otherwise lets REQUESTS_CA_BUNDLE
    in the environment override a session's ``verify``."""

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        found = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.verify is not True and verify in (None, True):
            found["verify"] = self.verify
        return found


def _session(verify: bool | str) -> requests.Session:
    session = PinnedSession()
    session.verify = verify
    return session


def _retry_after(response: requests.Response, default: float) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, min(float(value), 300.0))
    except ValueError:
        return default


def _failure(response: requests.Response, what: str) -> TargetError:
    """The service's answer as an error the sync acts on; its own words are kept short."""
    status = response.status_code
    try:
        body = response.json()
        error = body.get("error", {})
        detail = error.get("message", "") if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        detail = ""
    detail = " ".join(str(detail).split())[:200]
    said = f" ({detail})" if detail else ""
    if status == 429:
        return TargetError(
            f"{what}: throttled", kind="throttled", retry_after=_retry_after(response, 5.0)
        )
    if status in {500, 502, 503, 504}:
        return TargetError(
            f"{what}: the service is unavailable{said}",
            kind="unavailable",
            retry_after=_retry_after(response, 10.0),
        )
    if status == 404:
        return TargetError(f"{what}: no such person{said}", kind="not_found")
    if status == 401:
        return TargetError(f"{what}: the credential was refused{said}", kind="credentials")
    if status == 403:
        if "rateLimitExceeded" in response.text or "quotaExceeded" in response.text:
            return TargetError(
                f"{what}: over quota", kind="throttled", retry_after=_retry_after(response, 10.0)
            )
        return TargetError(f"{what}: permission missing{said}", kind="permission")
    return TargetError(f"{what}: refused with {status}{said}", kind="refused")


@dataclass
class GraphSettings:
    tenant_id: str
    client_id: str
    client_secret: str = field(default="", repr=False)
    private_key: str = field(default="", repr=False)  # PEM, for a certificate credential
    certificate: str = ""  # PEM of the certificate registered with the application
    match_by: str = "userPrincipalName"  # or "mail", or "id" (Entra's object id)


class GraphClient:
    """Application permission ``User.ReadWrite.All`` through MSAL's client credentials."""

    def __init__(self, settings: GraphSettings, endpoints: Endpoints) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self.session = _session(endpoints.verify)
        self._lock = threading.Lock()
        self._app: Any = None

    def _credential(self) -> Any:
        if self.settings.private_key:
            from cryptography import x509

            certificate = x509.load_pem_x509_certificate(self.settings.certificate.encode())
            return {
                "private_key": self.settings.private_key,
                "thumbprint": certificate.fingerprint(_sha1()).hex().upper(),
            }
        return self.settings.client_secret

    def _token(self, *, fresh: bool = False) -> str:
        import msal

        with self._lock:
            if self._app is None or fresh:
                self._app = msal.ConfidentialClientApplication(
                    self.settings.client_id,
                    authority=f"{self.endpoints.microsoft_login}/{quote(self.settings.tenant_id, safe='')}",
                    client_credential=self._credential(),
                    validate_authority=False,
                    instance_discovery=False,
                    http_client=self.session,
                    token_cache=msal.TokenCache(),
                )
            try:
                result = self._app.acquire_token_for_client(
                    scopes=[self.endpoints.graph.rstrip("/") + GRAPH_SCOPE]
                )
            except (requests.RequestException, ValueError) as exc:
                raise TargetError(
                    f"Microsoft's sign-in could not be reached: {exc}", kind="unavailable"
                ) from exc
        if "access_token" not in result:
            said = " ".join(str(result.get("error_description", "")).split())[:200]
            raise TargetError(
                f"Microsoft refused the application's credential: {result.get('error', 'error')}"
                + (f" ({said})" if said else ""),
                kind="credentials",
            )
        return str(result["access_token"])

    def _call(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        """One request with the application's token; a refused token is renewed once
        (it may have expired on the service's side before our cache thought so)."""
        for fresh in (False, True):
            try:
                response = self.session.request(
                    method,
                    self.endpoints.graph.rstrip("/") + path,
                    headers={
                        **(headers or {}),
                        "Authorization": f"Bearer {self._token(fresh=fresh)}",
                    },
                    timeout=TIMEOUT_S,
                    **kwargs,
                )
            except requests.RequestException as exc:
                raise TargetError(
                    f"Microsoft Graph could not be reached: {exc}", kind="unavailable"
                ) from exc
            if response.status_code != 401:
                break
        return response

    def test(self) -> str:
        response = self._call("GET", "/v1.0/users?$top=1&$select=id")
        if not response.ok:
            raise _failure(response, "Reading the directory's people")
        return "Signed in to Microsoft Entra ID and read the directory's people."

    def resolve(self, match_value: str) -> str | None:
        if self.settings.match_by in {"userPrincipalName", "id"}:
            return match_value  # Graph takes either in the path
        escaped = match_value.replace("'", "''")
        response = self._call(
            "GET", "/v1.0/users", params={"$filter": f"mail eq '{escaped}'", "$select": "id"}
        )
        if not response.ok:
            raise _failure(response, "Finding the person")
        found = response.json().get("value", [])
        return str(found[0]["id"]) if found else None

    def _photo_path(self, ref: str) -> str:
        return f"/v1.0/users/{quote(ref, safe='@')}/photo/$value"

    def put_photo(self, ref: str, jpeg: bytes) -> None:
        if len(jpeg) > GRAPH_PHOTO_MAX_BYTES:
            raise TargetError("the photo is over Microsoft's 4 MB limit", kind="refused")
        response = self._call(
            "PUT", self._photo_path(ref), data=jpeg, headers={"Content-Type": "image/jpeg"}
        )
        if not response.ok:
            raise _failure(response, "Putting the photo")

    def delete_photo(self, ref: str) -> None:
        response = self._call("DELETE", self._photo_path(ref))
        if not response.ok and response.status_code != 404:
            raise _failure(response, "Removing the photo")


@dataclass
class GoogleSettings:
    service_account: str = field(repr=False)  # the key file's JSON
    admin_email: str = ""  # the administrator the service account acts as


def google_key(text: str) -> dict[str, Any]:
    """The service account key as Google gives it, checked for what the sync uses."""
    try:
        key = json.loads(text)
    except ValueError as exc:
        raise TargetError(
            "The service account key is not a JSON key file.", kind="settings"
        ) from exc
    if not isinstance(key, dict) or key.get("type") != "service_account":
        raise TargetError("The key file is not a service account key.", kind="settings")
    missing = [n for n in ("client_email", "private_key", "private_key_id") if not key.get(n)]
    if missing:
        raise TargetError(f"The key file lacks {', '.join(missing)}.", kind="settings")
    return key


class GoogleClient:
    """A service account with domain-wide delegation for the ``admin.directory.user``
    scope, acting as one of the domain's administrators."""

    def __init__(self, settings: GoogleSettings, endpoints: Endpoints) -> None:
        from google.auth.transport.requests import AuthorizedSession, Request
        from google.oauth2 import service_account

        key = google_key(settings.service_account)
        # the key file's own token_uri is ignored: where tokens come from is not the company's to say
        key["token_uri"] = endpoints.google_token
        credentials = service_account.Credentials.from_service_account_info(
            key, scopes=[GOOGLE_SCOPE], subject=settings.admin_email
        )
        self.endpoints = endpoints
        self.session = AuthorizedSession(
            credentials, auth_request=Request(_session(endpoints.verify))
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        from google.auth.exceptions import RefreshError, TransportError

        try:
            return self.session.request(
                method,
                self.endpoints.google_directory.rstrip("/") + path,
                timeout=TIMEOUT_S,
                verify=self.endpoints.verify,
                **kwargs,
            )
        except RefreshError as exc:
            raise TargetError(
                f"Google refused the service account: {' '.join(str(exc).split())[:200]}",
                kind="credentials",
            ) from exc
        except (TransportError, requests.RequestException) as exc:
            raise TargetError(f"Google could not be reached: {exc}", kind="unavailable") from exc

    def _path(self, user_key: str) -> str:
        return f"/admin/directory/v1/users/{quote(user_key, safe='@')}"

    def test(self) -> str:
        response = self._call(
            "GET", "/admin/directory/v1/users", params={"customer": "my_customer", "maxResults": 1}
        )
        if not response.ok:
            raise _failure(response, "Reading the domain's people")
        return "Signed in to Google Workspace and read the domain's people."

    def resolve(self, match_value: str) -> str | None:
        return match_value  # the primary address is the user key

    def put_photo(self, ref: str, jpeg: bytes) -> None:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(jpeg)) as image:
            width, height = image.size
        body = {
            # Google's web-safe base64: - and _ in place of + and /
            "photoData": base64.urlsafe_b64encode(jpeg).decode("ascii"),
            "mimeType": "JPEG",
            "width": width,
            "height": height,
        }
        response = self._call("PUT", self._path(ref) + "/photos/thumbnail", json=body)
        if not response.ok:
            raise _failure(response, "Putting the photo")

    def delete_photo(self, ref: str) -> None:
        response = self._call("DELETE", self._path(ref) + "/photos/thumbnail")
        if not response.ok and response.status_code != 404:
            raise _failure(response, "Removing the photo")


def _sha1() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA1()  # noqa: S303 -- the thumbprint Entra ID shows for a certificate


def photo_digest(jpeg: bytes) -> str:
    return hashlib.sha256(jpeg).hexdigest()
