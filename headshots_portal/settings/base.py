"""Settings shared by every environment. Values come from headshots_portal.env."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from headshots_portal.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_int,
    env_json_object,
    env_list,
    env_optional_float,
    env_str,
    env_subset,
)
from headshots_portal.settings.queue import dramatiq_settings

# The diffusion backend's identity methods (pipeline.presets.IDENTITY_METHODS; a test
# keeps the two lists equal).
IDENTITY_METHODS = ("lora", "keep-face", "plus-face", "faceid", "faceid-plus-v2", "instantid")

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("HEADSHOTS_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the SQLite file and local media live here by default

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here: no CDN, works offline
    "django_dramatiq",
    "apps.core",
    "apps.organizations",
    "apps.presets",
    "apps.photos",
    "apps.generation",
    "apps.publishing",
    "apps.audit",
    "apps.webhooks",
    "apps.people",
    "apps.web",
    "apps.demo",
]

MIDDLEWARE = [
    "apps.core.middleware.RequestSizeLimit",
    "django.middleware.security.SecurityMiddleware",
    # static files served by the web process itself (compressed, cached forever by name)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.core.middleware.SecurityHeaders",
    "apps.core.middleware.TextInputGuard",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.core.middleware.DependencyUnavailable",
]

ROOT_URLCONF = "headshots_portal.urls"
WSGI_APPLICATION = "headshots_portal.wsgi.application"
ASGI_APPLICATION = "headshots_portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.web.pages.company",
            ],
        },
    },
]


def database(url: str) -> dict[str, object]:
    """The database of a URL. On SQLite (the one-machine default) the web server's
    threads and the in-process worker write at once: in WAL mode readers never wait, and
    every transaction takes the write lock when it begins (IMMEDIATE) and waits up to 30 s
    for it, so a race makes a writer wait its turn instead of failing with "database is
    locked" (which a transaction that read first and then wrote could not even retry)."""
    config = dj_database_url.parse(
        url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return dict(config)


# SQLite by default; DATABASE_URL (postgres://...) selects PostgreSQL.
DATABASES = {
    "default": database(env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'headshots.sqlite3'}"))
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Every password check goes through the lockout (apps/organizations/lockout.py).
AUTHENTICATION_BACKENDS = ["apps.organizations.lockout.LockoutBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Static files are served from the source folders here; production collects them into
# STATIC_ROOT (manage.py collectstatic) and serves those.
STATIC_ROOT: str | None = None
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Selfies, embeddings and headshots are private: they live outside any served
# directory and are reached only through views that check the requester.
PRIVATE_MEDIA_ROOT = Path(env_str("HEADSHOTS_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# "s3": every private file in an S3-compatible bucket (hosts that share no disk); the
# credentials come from the usual AWS variables or the host's role (boto3's chain).
HEADSHOTS_STORAGE = env_choice("HEADSHOTS_STORAGE", "filesystem", {"filesystem", "s3"})
if HEADSHOTS_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "apps.core.object_storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": env_str("HEADSHOTS_S3_BUCKET"),
            "endpoint_url": env_str("HEADSHOTS_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("HEADSHOTS_S3_REGION", "") or None,
            "location": env_str("HEADSHOTS_S3_PREFIX", ""),
        },
    }
# Invitations and reminders go out by e-mail (SMTP settings from the environment; the
# one-machine default prints them on the console).
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "headshots@localhost")
# Password sign-in: "admins" lets only superusers (the first administrator) in with a
# password, everyone else signs in with their company's single sign-on; the other choice is for a
# trial without an identity provider ("everyone").
HEADSHOTS_LOCAL_SIGNIN = env_choice("HEADSHOTS_LOCAL_SIGNIN", "admins", {"admins", "everyone"})
# The portal's address as people reach it, for links in e-mails.
HEADSHOTS_PUBLIC_URL = env_str("HEADSHOTS_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# The shared cache (rate limits, sessions, the API's throttle): Redis wherever there is
# more than one web process (pages keep working while it is down: apps/core/cache.py); a
# per-process memory cache on the one-machine default.
CACHE_URL = env_str("HEADSHOTS_CACHE_URL", env_str("REDIS_URL", ""))
CACHES = {
    "default": (
        {"BACKEND": "apps.core.cache.ResilientRedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL.startswith(("redis://", "rediss://"))
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Sessions read from the cache, written through to the database: they survive the cache.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": [
        "apps.core.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.organizations.tokens.CompanyTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "apps.web.api.Pages",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "apps.web.api.exception_handler",
    # per person or token, across the API
    "DEFAULT_THROTTLE_RATES": {"user": env_str("HEADSHOTS_API_RATE", "1200/min")},
    "DEFAULT_THROTTLE_CLASSES": ["apps.web.throttle.ApiRateThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Headshots portal API",
    "DESCRIPTION": "Brand presets, employees, selfies, generation jobs, headshots and publications.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # WeasyPrint and fontTools narrate every step at INFO.
    "loggers": {name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
}

# Background jobs (see settings/queue.py).
_QUEUE = dramatiq_settings()
DRAMATIQ_BROKER = _QUEUE["DRAMATIQ_BROKER"]
DRAMATIQ_TASKS_DATABASE = _QUEUE["DRAMATIQ_TASKS_DATABASE"]
HEADSHOTS_QUEUE_MODE: str = _QUEUE["HEADSHOTS_QUEUE_MODE"]

# What the pipeline needs to decide (see pipeline/config.py for meanings).
HEADSHOTS: dict[str, Any] = {
    "MODEL_DIR": env_str("HEADSHOTS_MODEL_DIR", str(VAR_DIR / "models")),
    "MAX_UPLOAD_BYTES": env_int("HEADSHOTS_MAX_UPLOAD_BYTES", 25 * 1024 * 1024, minimum=1024),
    "MAX_UPLOAD_PIXELS": env_int("HEADSHOTS_MAX_UPLOAD_PIXELS", 50_000_000, minimum=10_000),
    "MIN_USABLE_PHOTOS": env_int("HEADSHOTS_MIN_USABLE_PHOTOS", 4, minimum=1),
    "MAX_PHOTOS_PER_EMPLOYEE": env_int("HEADSHOTS_MAX_PHOTOS_PER_EMPLOYEE", 30, minimum=1),
    "UPLOADS_PER_HOUR": env_int("HEADSHOTS_UPLOADS_PER_HOUR", 60, minimum=1),
    # memory one web process spends decoding uploads at once (each upload's cost is read
    # from its header; a 12 MP JPEG costs about 60 MB, a 49 MP PNG about 230 MB)
    "UPLOAD_DECODE_MEMORY_MB": env_int("HEADSHOTS_UPLOAD_DECODE_MEMORY_MB", 400, minimum=64),
    # Empty: the face model's own calibrated same-person threshold.
    "IDENTITY_THRESHOLD": env_optional_float("HEADSHOTS_IDENTITY_THRESHOLD"),
    # The identity gate's threshold for one method, e.g. {"keep-face": 0.95, "lora": 0.93}
    # (methods: studio, faceid, lora, keep-face); the others keep the one above.
    "IDENTITY_THRESHOLDS": env_json_object("HEADSHOTS_IDENTITY_THRESHOLDS"),
    "FACE_BACKEND": env_choice("HEADSHOTS_FACE_BACKEND", "dlib", {"dlib", "insightface"}),
    # "commercial" refuses model files whose licence forbids commercial use; "research"
    # allows them for non-commercial research, and every HR page says so.
    "LICENCE_PROFILE": env_choice(
        "HEADSHOTS_LICENCE_PROFILE", "commercial", {"commercial", "research"}
    ),
    # Folder under $HEADSHOTS_MODEL_DIR/insightface/ holding the pack's .onnx files.
    "INSIGHTFACE_PACK": env_str("HEADSHOTS_INSIGHTFACE_PACK", "buffalo_l"),
    # dlib's 68-point model tells closed eyes; its training data excludes commercial use.
    "DLIB_68_LANDMARKS": env_bool("HEADSHOTS_DLIB_68_LANDMARKS", False),
    # Overrides of pipeline.checks.CheckThresholds, e.g. {"yaw_warn": 20, "min_face_px_warn": 250}.
    "CHECK_THRESHOLDS": env_json_object("HEADSHOTS_CHECK_THRESHOLDS"),
    # diffusion: SDXL with IP-Adapter FaceID from MODEL_DIR (GPU workers, insightface face backend).
    "GENERATION_BACKEND": env_choice(
        "HEADSHOTS_GENERATION_BACKEND", "studio", {"studio", "diffusion"}
    ),
    # Diffusion only: how the person's identity reaches generation by default: "lora" (a
    # LoRA trained per person from their selfies on the GPU worker; SDXL's own licence),
    # "keep-face" (the person's real face kept, everything round it made by SDXL
    # inpainting), "plus-face" (IP-Adapter Plus Face; Apache 2.0), or on insightface's
    # embedding (research licences only): "faceid", "faceid-plus-v2", "instantid".
    "IDENTITY_METHOD": env_choice("HEADSHOTS_IDENTITY_METHOD", "lora", set(IDENTITY_METHODS)),
    # Diffusion only: further identity methods a style may choose (comma-separated).
    "IDENTITY_METHODS": env_subset("HEADSHOTS_IDENTITY_METHODS", set(IDENTITY_METHODS)),
    # The LoRA method's training: steps, rank and square size (pixels).
    "LORA_STEPS": env_int("HEADSHOTS_LORA_STEPS", 800, minimum=1),
    "LORA_RANK": env_int("HEADSHOTS_LORA_RANK", 16, minimum=1),
    "LORA_RESOLUTION": env_int("HEADSHOTS_LORA_RESOLUTION", 1024, minimum=64),
    # Diffusion only: ControlNets to load from MODEL_DIR/controlnet/<name>/ ("pose":
    # OpenPose; "depth": a depth map; "edge": Canny edges; each weighted by the preset).
    "CONTROLNETS": env_subset("HEADSHOTS_CONTROLNETS", {"pose", "depth", "edge"}),
    # Studio only: candidates per job, each a different look (at most 12).
    "STUDIO_CANDIDATES": env_int("HEADSHOTS_STUDIO_CANDIDATES", 10, minimum=2),
    # Diffusion only: images per batch; 0 chooses from free GPU memory.
    "DIFFUSION_BATCH": env_int("HEADSHOTS_DIFFUSION_BATCH", 0, minimum=0),
    # Diffusion on CUDA only: torch.compile the UNet (faster steps after a long first job).
    "DIFFUSION_COMPILE": env_bool("HEADSHOTS_DIFFUSION_COMPILE", False),
    # How the studio renderer separates the person: the MediaPipe model (installed by
    # `manage.py models install`) or GrabCut seeded by the face geometry (no model).
    "SEGMENTATION": env_choice("HEADSHOTS_SEGMENTATION", "mediapipe", {"mediapipe", "grabcut"}),
    # Real-ESRGAN on GPU workers (weights from `manage.py models install realesrgan-x4plus`);
    # Lanczos needs no weights and suits CPU-only installs.
    "UPSCALER": env_choice("HEADSHOTS_UPSCALER", "lanczos", {"lanczos", "realesrgan"}),
    # The print version of a picked headshot (twice its size, for cards and the print
    # export), made once per pick: Real-ESRGAN (tiled, a minute or so on a CPU core; the
    # weights converted by `manage.py models install`) or Lanczos.
    "PRINT_UPSCALER": env_choice(
        "HEADSHOTS_PRINT_UPSCALER", "realesrgan", {"lanczos", "realesrgan"}
    ),
    # How faces are found (dlib face backend): dlib's HOG detector and MediaPipe's, which
    # finds faces of every skin tone, the faces only MediaPipe finds added ("mediapipe",
    # models from `manage.py models install`); or HOG alone ("hog", no model; it misses
    # faces with deep skin tones).
    "FACE_DETECTOR": env_choice("HEADSHOTS_FACE_DETECTOR", "mediapipe", {"mediapipe", "hog"}),
    # Where the retouch finds the skin: MediaPipe's 468-point face mesh (installed by
    # `manage.py models install`) or five landmarks (no model; no under-eye retouch).
    "RETOUCH_LANDMARKS": env_choice("HEADSHOTS_RETOUCH_LANDMARKS", "mesh", {"mesh", "five-point"}),
    # C2PA Content Credentials in every generated JPEG: the signing certificate chain and
    # its private key, PEM (or HEADSHOTS_C2PA_CERT_CHAIN_FILE / HEADSHOTS_C2PA_PRIVATE_KEY_FILE).
    "C2PA_CERT_CHAIN": env_str("HEADSHOTS_C2PA_CERT_CHAIN", ""),
    "C2PA_PRIVATE_KEY": env_str("HEADSHOTS_C2PA_PRIVATE_KEY", ""),
    # A running job's lease: its worker renews it every third of this; a job whose worker
    # stopped renewing for this long was abandoned (worker killed) and is run again.
    "JOB_LEASE_S": env_int("HEADSHOTS_JOB_LEASE_S", 90, minimum=1),
    # A dispatched job that has not started for this long had its message lost: sent again.
    "JOB_STUCK_AFTER_S": env_int("HEADSHOTS_JOB_STUCK_AFTER_S", 1800, minimum=1),
    # Life of the signed links that show private images (selfies, headshots) on a page.
    "MEDIA_LINK_TTL_S": env_int("HEADSHOTS_MEDIA_LINK_TTL_S", 600, minimum=10),
    # Fair shares of the GPU queue: at most this many jobs of one company in flight.
    "GPU_JOBS_PER_COMPANY": env_int("HEADSHOTS_GPU_JOBS_PER_COMPANY", 2, minimum=1),
    "CONSENT_TEXT_VERSION": env_str("HEADSHOTS_CONSENT_TEXT_VERSION", "2026-11"),
}
# The largest request body the portal reads: the largest upload with room for the form
# around it. Larger ones are refused from their Content-Length, unread. (Put the same limit
# in front of the portal too, e.g. nginx's client_max_body_size.)
HEADSHOTS_MAX_REQUEST_BYTES = env_int(
    "HEADSHOTS_MAX_REQUEST_BYTES", HEADSHOTS["MAX_UPLOAD_BYTES"] + 1024 * 1024, minimum=65536
)
# Fernet keys for selfies and embeddings at rest, first one encrypting (apps/core/crypto.py);
# empty: a key made once in VAR_DIR/secrets (one-machine default; production requires it).
HEADSHOTS_ENCRYPTION_KEYS = env_list("HEADSHOTS_ENCRYPTION_KEYS", [])
if HEADSHOTS_STORAGE == "s3" and not HEADSHOTS_ENCRYPTION_KEYS:
    # the one-machine key file would differ on each host: nothing could be read elsewhere
    raise ConfigurationError(
        "HEADSHOTS_STORAGE=s3 needs HEADSHOTS_ENCRYPTION_KEYS, the same on every host "
        "(web, CPU and GPU workers): each host would otherwise make a key of its own and "
        "could not open the others' files."
    )
# Content Security Policy of every page (inline styles allowed: the admin uses them).
HEADSHOTS_CSP = env_str(
    "HEADSHOTS_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
)
# Bearer token for /metrics and /healthz/workers (monitoring systems); staff may sign in instead.
HEADSHOTS_METRICS_TOKEN = env_str("HEADSHOTS_METRICS_TOKEN", "")
# Webhook URLs must reach public addresses (no requests into the portal's own network),
# except where this is set (tests, closed networks).
HEADSHOTS_WEBHOOK_ALLOW_PRIVATE = env_bool("HEADSHOTS_WEBHOOK_ALLOW_PRIVATE", False)
# Where Microsoft's and Google's services are for the cloud directory targets: the public
# clouds by default; a national cloud (login.microsoftonline.us, graph.microsoft.us, ...)
# where a company needs one. Operator settings: a company never names a server.
HEADSHOTS_MICROSOFT_LOGIN_URL = env_str(
    "HEADSHOTS_MICROSOFT_LOGIN_URL", "https://login.microsoftonline.com"
)
HEADSHOTS_GRAPH_URL = env_str("HEADSHOTS_GRAPH_URL", "https://graph.microsoft.com")
HEADSHOTS_GOOGLE_TOKEN_URL = env_str(
    "HEADSHOTS_GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token"
)
HEADSHOTS_GOOGLE_DIRECTORY_URL = env_str(
    "HEADSHOTS_GOOGLE_DIRECTORY_URL", "https://admin.googleapis.com"
)
# A CA bundle for those services (a TLS-inspecting proxy); empty: the system's store.
HEADSHOTS_DIRECTORY_CA_BUNDLE = env_str("HEADSHOTS_DIRECTORY_CA_BUNDLE", "")
# Photo requests in flight at once per cloud target (each service throttles above that).
HEADSHOTS_CLOUD_CONCURRENCY = env_int("HEADSHOTS_CLOUD_CONCURRENCY", 4, minimum=1)
HEADSHOTS_INPROCESS_THREADS = env_int("HEADSHOTS_INPROCESS_THREADS", 1, minimum=1)
