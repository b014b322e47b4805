"""Production: no default for any secret; HTTPS everywhere."""

from __future__ import annotations

from headshots_portal.env import ConfigurationError, env_int, env_list, env_str
from headshots_portal.settings.base import *  # noqa: F403

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
# Selfies and embeddings are encrypted with keys kept outside the machine's disk.
HEADSHOTS_ENCRYPTION_KEYS = env_list("HEADSHOTS_ENCRYPTION_KEYS", [])
if not HEADSHOTS_ENCRYPTION_KEYS:
    raise ConfigurationError(
        "Set HEADSHOTS_ENCRYPTION_KEYS (or HEADSHOTS_ENCRYPTION_KEYS_FILE): Fernet keys for "
        "selfies and face embeddings at rest."
    )
DEBUG = False
if not CACHE_URL.startswith(("redis://", "rediss://")):  # noqa: F405
    raise ConfigurationError(
        "Set HEADSHOTS_CACHE_URL (or REDIS_URL) to a Redis server: rate limits and sessions "
        "are shared between the web processes through it."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Static files with content hashes in their names (run `manage.py collectstatic` on deploy).
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static"))  # noqa: F405
WHITENOISE_USE_FINDERS = False
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
