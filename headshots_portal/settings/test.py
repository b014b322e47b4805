from __future__ import annotations

import tempfile
from pathlib import Path

from headshots_portal.settings.base import *  # noqa: F403
from headshots_portal.settings.base import HEADSHOTS
from headshots_portal.settings.queue import QUEUE_MIDDLEWARE

# The suite never uses a real broker unless a test asks for one explicitly.
DRAMATIQ_BROKER = {  # noqa: F405
    "BROKER": "dramatiq.brokers.stub.StubBroker",
    "OPTIONS": {},
    "MIDDLEWARE": list(QUEUE_MIDDLEWARE),
}
HEADSHOTS_QUEUE_MODE = "inprocess"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
PRIVATE_MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="headshots-test-media-"))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Many tests upload as the same user id within the hour: the rate limit is tested on its own.
# Four candidates a job keep the journey tests quick; the studio's ten looks are tested in
# tests/pipeline.
HEADSHOTS = {
    **HEADSHOTS,
    "MIN_USABLE_PHOTOS": 3,
    "UPLOADS_PER_HOUR": 1_000_000,
    "STUDIO_CANDIDATES": 4,
    # Lanczos prints keep the journey tests quick; Real-ESRGAN's print is tested on its own.
    "PRINT_UPSCALER": "lanczos",
}
HEADSHOTS_INPROCESS_AUTOSTART = False  # tests run queued messages themselves (tests/conftest.py)
# A key of this test run only: nothing encrypted here outlives it.
HEADSHOTS_ENCRYPTION_KEYS = [
    __import__("cryptography.fernet").fernet.Fernet.generate_key().decode()
]
# The API's rate limit is tested on its own (it would otherwise throttle the API test runs).
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "1000000/min"}}  # noqa: F405
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The page tests sign people in with a password (the single sign-on tests set "admins").
HEADSHOTS_LOCAL_SIGNIN = "everyone"
