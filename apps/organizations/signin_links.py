"""One-time sign-in links, for people of a company without single sign-on (mailed to
their address on request) and for the operator starting a trial (printed by
``manage.py trial``). A link signs in once: it carries a digest of the account's last
sign-in, which signing in changes, and it expires after 30 minutes."""

from __future__ import annotations

import hashlib

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core import signing
from django.urls import reverse
from django.utils.crypto import constant_time_compare

from apps.core.mail import portal_url

SALT = "headshots.signin-link"
MAX_AGE_S = 30 * 60


def _state(user: User) -> str:
    seen = user.last_login.isoformat() if user.last_login else "never"
    return hashlib.sha256(f"{user.pk}:{seen}:{user.password}".encode()).hexdigest()[:32]


def signin_link_make(user: User) -> str:
    token = signing.dumps({"u": user.pk, "s": _state(user)}, salt=SALT, compress=True)
    return portal_url(reverse("signin-link", args=[token]))


def signin_link_user(token: str) -> User | None:
    """The account a link signs in, or None when it is unknown, used or expired."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE_S)
    except signing.BadSignature:  # SignatureExpired is one
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = get_user_model().objects.filter(pk=data["u"], is_active=True).first()
    if user is None or not constant_time_compare(_state(user), str(data.get("s", ""))):
        return None
    return user
