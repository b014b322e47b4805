"""An OpenLDAP server for the tests (python-ldap's slapdtest), shaped like a company
directory: people under ou=people, Active Directory's thumbnailPhoto with its 100 KB
limit enforced by the constraint overlay."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import ldap
from ldap.dn import escape_dn_chars
from slapdtest import SlapdObject
from slapdtest._slapdtest import SLAPD_CONF_TEMPLATE

HERE = Path(__file__).resolve().parent


class Directory(SlapdObject):
    suffix = "dc=acme,dc=example"
    root_cn = "admin"
    root_pw = "directory-secret"
    slapd_loglevel = "0"
    TMPDIR = tempfile.gettempdir()  # not the working directory
    slapd_conf_template = (
        SLAPD_CONF_TEMPLATE.replace(
            "olcModuleLoad: back_%(database)s",
            "olcModuleLoad: back_%(database)s\nolcModuleLoad: constraint",
        )
        .replace(
            "dn: olcDatabase=%(database)s,cn=config",
            # the root may change the configuration (to add indexes once the schema is in)
            "dn: olcDatabase={0}config,cn=config\nobjectClass: olcDatabaseConfig\n"
            "olcDatabase: {0}config\nolcRootDN: %(rootdn)s\n\n"
            "dn: olcDatabase={1}%(database)s,cn=config",
        )
        .replace(
            "olcDbDirectory: %(directory)s",
            "olcDbDirectory: %(directory)s\nolcDbMaxSize: 1073741824",  # room for many photos
        )
    )
    openldap_schema_files = (
        "core.ldif",
        "cosine.ldif",
        "inetorgperson.ldif",
        str(HERE / "ad-photo.ldif"),
        str(HERE / "constraint.ldif"),
    )

    def connect(self):  # type: ignore[no-untyped-def]
        conn = ldap.initialize(self.ldap_uri)
        conn.simple_bind_s(self.root_dn, self.root_pw)
        return conn

    def seed(self) -> None:
        # the equality indexes a company directory has on the attributes people are
        # matched by (added once the schema that defines them is loaded)
        self.ldapmodify(
            "dn: olcDatabase={1}mdb,cn=config\n"
            "changetype: modify\n"
            "add: olcDbIndex\n"
            "olcDbIndex: objectClass eq\n"
            "olcDbIndex: mail,uid,cn eq\n"
        )
        conn = self.connect()
        conn.add_s(
            self.suffix,
            [("objectClass", [b"dcObject", b"organization"]), ("dc", [b"acme"]), ("o", [b"Acme"])],
        )
        conn.add_s(
            f"ou=people,{self.suffix}",
            [("objectClass", [b"organizationalUnit"]), ("ou", [b"people"])],
        )
        conn.unbind_s()

    def add_person(self, name: str, mail: str, **extra: bytes) -> str:
        dn = f"cn={escape_dn_chars(name)},ou=people,{self.suffix}"
        attributes = [
            ("objectClass", [b"inetOrgPerson", b"adPhotoPerson"]),
            ("cn", [name.encode()]),
            ("sn", [name.split()[-1].encode()]),
            ("mail", [mail.encode()]),
        ] + [(key, [value]) for key, value in extra.items()]
        conn = self.connect()
        conn.add_s(dn, attributes)
        conn.unbind_s()
        return dn

    def read(self, dn: str, attribute: str) -> bytes | None:
        conn = self.connect()
        try:
            ((_, attributes),) = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", [attribute])
        finally:
            conn.unbind_s()
        values = attributes.get(attribute)
        return values[0] if values else None


@contextlib.contextmanager
def running_directory() -> Iterator[Directory]:
    directory = Directory()
    directory.start()
    try:
        directory.seed()
        yield directory
    finally:
        directory.stop()
