"""Directory export: LDIF change records that set each person's jpegPhoto.

The live LDAP / Active Directory sync builds on the same DN and photo rules.
"""

from __future__ import annotations

import io

from ldap.dn import escape_dn_chars
from ldif import LDIFWriter

MOD_REPLACE = 2  # ldap.MOD_REPLACE, without importing the client library's connection code


def person_dn(*, rdn_attribute: str, rdn_value: str, base_dn: str) -> str:
    if not rdn_value:
        raise ValueError("the person has no directory identifier")
    return f"{rdn_attribute}={escape_dn_chars(rdn_value)},{base_dn}"


def photo_change_ldif(*, dn: str, jpeg: bytes, attribute: str = "jpegPhoto") -> str:
    """The change that sets the person's photo, as an LDIF file (RFC 2849: it starts with
    its version) that ``ldapmodify`` applies."""
    buffer = io.StringIO()
    buffer.write("version: 1\n\n")
    LDIFWriter(buffer).unparse(dn, [(MOD_REPLACE, attribute, [jpeg])])
    return buffer.getvalue()
