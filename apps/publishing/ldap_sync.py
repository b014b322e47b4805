"""Live LDAP / Active Directory photo sync with python-ldap.

People are found in batches (one search per ``batch`` people, every value escaped with
``escape_filter_chars``), their current photo is read back, and only entries whose photo
differs are written: a second run writes nothing. A person not found is reported, not
fatal; an entry the server refuses (Active Directory's 100 KB limit on thumbnailPhoto,
say) is reported and the rest go on; a lost connection is retried once, then the rest
are reported as not reached.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

logger = logging.getLogger(__name__)

MATCH_ATTRIBUTES = ("mail", "userPrincipalName", "uid", "sAMAccountName")
PHOTO_ATTRIBUTES = ("jpegPhoto", "thumbnailPhoto")
AD_THUMBNAIL_MAX_BYTES = 102_400
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class DirectoryError(Exception):
    """The directory cannot be used: bad settings, refused bind, unreachable server.
    ``kind`` says which, for pages that must not say more (unreachable covers a closed
    port, a timeout and a server that does not speak LDAP alike)."""

    def __init__(self, message: str, *, kind: str = "unreachable") -> None:
        super().__init__(message)
        self.kind = kind  # settings, credentials, base_dn, unreachable


@dataclass(frozen=True)
class DirectorySettings:
    uri: str
    bind_dn: str
    bind_password: str = field(repr=False)
    base_dn: str
    start_tls: bool = True
    user_filter: str = "(objectClass=inetOrgPerson)"
    match_attribute: str = "mail"
    photo_attribute: str = "jpegPhoto"
    timeout_s: float = 10.0
    batch: int = 50  # people per search
    window: int = 32  # modify requests in flight at once on the connection

    def problems(self) -> list[str]:
        found = []
        parsed = urlparse(self.uri)
        if parsed.scheme not in {"ldap", "ldaps"} or not parsed.hostname:
            found.append("the directory address must be ldaps://host or ldap://host")
        elif parsed.scheme == "ldap" and not self.start_tls and parsed.hostname not in LOOPBACK:
            found.append(
                "an ldap:// address needs StartTLS (or use ldaps://): the password must not "
                "travel unencrypted"
            )
        if self.match_attribute not in MATCH_ATTRIBUTES:
            found.append(
                f"the attribute that identifies a person must be one of {', '.join(MATCH_ATTRIBUTES)}"
            )
        if self.photo_attribute not in PHOTO_ATTRIBUTES:
            found.append(f"the photo attribute must be one of {', '.join(PHOTO_ATTRIBUTES)}")
        if not (self.user_filter.startswith("(") and self.user_filter.endswith(")")):
            found.append(
                "the filter for which entries are people must be an LDAP filter in parentheses, "
                "e.g. (objectClass=user)"
            )
        return found


@dataclass(frozen=True)
class Wanted:
    key: str  # the employee, as the caller knows them
    match_value: str  # e.g. their e-mail address
    photo: bytes | None  # None (without ``make``): they left, remove the photo
    # A photo already sent, known by its hash: made (``make``) only if the directory's
    # differs, so an unchanged re-run makes no photo at all.
    sha256: str = ""
    make: Callable[[], bytes] | None = None

    def removes(self) -> bool:
        return self.photo is None and self.make is None


@dataclass
class Outcome:
    key: str
    match_value: str
    action: str  # write, remove, unchanged, not_found, failed
    dn: str = ""
    photo_sha256: str = ""
    error: str = ""
    done: bool = False  # written (or removed) in a real run


class DirectoryClient:
    def __init__(self, settings: DirectorySettings) -> None:
        problems = settings.problems()
        if problems:
            raise DirectoryError("; ".join(problems), kind="settings")
        self.settings = settings
        self._conn: Any = None

    def connect(self) -> None:
        import ldap

        s = self.settings
        conn = ldap.initialize(s.uri)
        conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
        conn.set_option(ldap.OPT_REFERRALS, 0)
        conn.set_option(ldap.OPT_NETWORK_TIMEOUT, s.timeout_s)
        conn.set_option(ldap.OPT_TIMEOUT, s.timeout_s)
        try:
            if s.start_tls and s.uri.startswith("ldap://"):
                conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)
                conn.start_tls_s()
            conn.simple_bind_s(s.bind_dn, s.bind_password)
        except ldap.INVALID_CREDENTIALS as exc:
            raise DirectoryError(
                f"the directory refused the bind as {s.bind_dn}", kind="credentials"
            ) from exc
        except ldap.SERVER_DOWN as exc:
            raise DirectoryError(f"the directory at {s.uri} does not answer") from exc
        except ldap.LDAPError as exc:
            raise DirectoryError(f"the directory refused the connection: {_describe(exc)}") from exc
        self._conn = conn

    def close(self) -> None:
        if self._conn is not None:
            import ldap

            with contextlib.suppress(ldap.LDAPError):  # closing a connection that died
                self._conn.unbind_s()
            self._conn = None

    def test(self) -> str:
        """For the settings page's "test connection" button."""
        import ldap

        self.connect()
        try:
            self._conn.search_s(self.settings.base_dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"])
        except ldap.NO_SUCH_OBJECT as exc:
            raise DirectoryError(
                f"the base DN {self.settings.base_dn} does not exist", kind="base_dn"
            ) from exc
        except ldap.LDAPError as exc:
            raise DirectoryError(f"the directory search failed: {_describe(exc)}") from exc
        finally:
            self.close()
        return f"Connected to {self.settings.uri} as {self.settings.bind_dn}; base DN found."

    def find(self, values: list[str]) -> dict[str, tuple[str, bytes | None]]:
        """Entries by lower-cased match value: (DN, current photo or None)."""
        import ldap
        from ldap.filter import escape_filter_chars

        s = self.settings
        found: dict[str, tuple[str, bytes | None]] = {}
        for start in range(0, len(values), s.batch):
            chunk = values[start : start + s.batch]
            alternatives = "".join(f"({s.match_attribute}={escape_filter_chars(v)})" for v in chunk)
            query = f"(&{s.user_filter}(|{alternatives}))"
            results = self._conn.search_s(
                s.base_dn, ldap.SCOPE_SUBTREE, query, [s.match_attribute, s.photo_attribute]
            )
            for dn, attributes in results:
                if dn is None:  # a referral
                    continue
                photos = attributes.get(s.photo_attribute) or [None]
                for value in attributes.get(s.match_attribute, []):
                    found[value.decode("utf-8").lower()] = (dn, photos[0])
        return found

    def apply(
        self,
        outcomes: list[Outcome],
        photos: dict[str, bytes | None],
        on_done: Callable[[Outcome], None],
    ) -> None:
        """Send the photo changes pipelined (``window`` requests in flight), collect each
        answer into its outcome. A lost connection raises ldap.SERVER_DOWN; the outcomes
        answered so far are marked."""
        import ldap

        attribute = self.settings.photo_attribute
        pending: dict[int, Outcome] = {}

        def collect() -> None:
            try:
                _, _, msgid, _ = self._conn.result3(
                    ldap.RES_ANY, all=1, timeout=self.settings.timeout_s
                )
                outcome = pending.pop(msgid)
                outcome.done = True
            except ldap.SERVER_DOWN:
                raise
            except ldap.LDAPError as exc:
                detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
                if detail.get("msgid") not in pending:  # a timeout, or an answer to nothing sent
                    raise ldap.SERVER_DOWN({"desc": f"no usable answer: {_describe(exc)}"}) from exc
                outcome = pending.pop(detail["msgid"])
                outcome.action, outcome.error = "failed", _describe(exc)
            on_done(outcome)

        for outcome in outcomes:
            changes: list[tuple[int, str, list[bytes] | None]] = (
                [(ldap.MOD_REPLACE, attribute, [photos[outcome.key] or b""])]
                if outcome.action == "write"
                else [(ldap.MOD_DELETE, attribute, None)]
            )
            pending[self._conn.modify(outcome.dn, changes)] = outcome
            if len(pending) >= self.settings.window:
                collect()
        while pending:
            collect()


def _describe(exc: Exception) -> str:
    detail = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    text = detail.get("desc", type(exc).__name__)
    if detail.get("info"):
        text += f": {detail['info']}"
    return str(text)


def sha256(data: bytes | None) -> str:
    return hashlib.sha256(data).hexdigest() if data else ""


def sync(
    client: DirectoryClient,
    wanted: list[Wanted],
    *,
    dry_run: bool,
    progress: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Plan (and, unless ``dry_run``, apply) each person's photo change."""
    import ldap

    try:
        client.connect()
        found = client.find([w.match_value for w in wanted])
    except ldap.LDAPError as exc:
        raise DirectoryError(f"the directory search failed: {_describe(exc)}") from exc
    outcomes = []
    photos: dict[str, bytes | None] = {}
    for person in wanted:
        entry = found.get(person.match_value.lower())
        outcome = Outcome(key=person.key, match_value=person.match_value, action="not_found")
        if entry is not None:
            dn, current = entry
            outcome.dn = dn
            if person.removes():
                outcome.action = "remove" if current else "unchanged"
            elif person.photo is None and current and sha256(current) == person.sha256:
                outcome.action, outcome.photo_sha256 = "unchanged", person.sha256
            else:
                photo = person.photo if person.photo is not None else person.make()  # type: ignore[misc]
                photos[person.key] = photo
                outcome.photo_sha256 = sha256(photo)
                outcome.action = "unchanged" if current == photo else "write"
        outcomes.append(outcome)
    if not dry_run:
        _apply(client, photos, outcomes, progress)
    client.close()
    return outcomes


def _apply(
    client: DirectoryClient,
    photos: dict[str, bytes | None],
    outcomes: list[Outcome],
    progress: Callable[[int, int], None] | None,
) -> None:
    import ldap

    total = len(outcomes)
    finished = [sum(1 for o in outcomes if o.action not in {"write", "remove"})]

    def on_done(outcome: Outcome) -> None:
        finished[0] += 1
        if progress is not None:
            progress(finished[0], total)

    todo = [o for o in outcomes if o.action in {"write", "remove"}]
    for attempt in (1, 2):
        try:
            client.apply(todo, photos, on_done)
            break
        except ldap.SERVER_DOWN:
            todo = [o for o in todo if not o.done and o.action != "failed"]
            if attempt == 1:
                try:
                    client.connect()  # once: a restarted server or a dropped connection
                    continue
                except DirectoryError:
                    pass
            for outcome in todo:
                outcome.action = "failed"
                outcome.error = "the directory stopped answering during the sync"
            break
    if progress is not None:
        progress(total, total)
