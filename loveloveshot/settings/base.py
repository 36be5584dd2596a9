"""Settings shared by every environment (cookiecutter-django style split)."""

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from .. import limits as _limits
from .mailurl import parse_email_url
from .social import (  # noqa: F401 - settings
    SOCIAL_APPS,
    SOCIAL_FORM_ACTION_ORIGINS,
    SOCIALACCOUNT_AUTO_SIGNUP,
    SOCIALACCOUNT_EMAIL_AUTHENTICATION,
    SOCIALACCOUNT_FORMS,
    SOCIALACCOUNT_LOGIN_ON_GET,
    SOCIALACCOUNT_PROVIDERS,
    SOCIALACCOUNT_STORE_TOKENS,
)

# Native libraries (TensorFlow Lite inside MediaPipe, absl, glog) read these before they log anything;
# set before any engine import. MediaPipe's own C++ lines that ignore them are filtered by the
# `make run` supervisor (scripts/supervise.py).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GLOG_minloglevel", "2")

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = env("DJANGO_SECRET_KEY", "insecure-local-only-key")
DEBUG = False
ALLOWED_HOSTS = [h for h in (env("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1") or "").split(",") if h]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "channels",
    "django_rq",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI + Redoc served from our own /static/ (no CDN)
    "allauth",
    "allauth.account",
    *SOCIAL_APPS,  # Kakao, Naver, Google, OpenID Connect (settings/social.py)
    "accounts",
    "gallery",
    "studio",
    "gpu_worker",
    "partners",  # webhooks of the partner API (partners/)
]

MIDDLEWARE = [
    "loveloveshot.middleware.RequestSizeLimitMiddleware",  # 413 from Content-Length, before any body read
    "loveloveshot.middleware.ReleaseMemoryMiddleware",  # after an upload: freed heap back to the system
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "loveloveshot.middleware.SecurityHeadersMiddleware",  # CSP everywhere; no-store when signed in
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "loveloveshot.middleware.RedisUnavailableMiddleware",
]

ROOT_URLCONF = "loveloveshot.urls"
ASGI_APPLICATION = "loveloveshot.asgi.application"
WSGI_APPLICATION = None

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
                "django.template.context_processors.i18n",
            ],
        },
    },
]

VAR_DIR = Path(env("LLS_VAR_DIR", str(BASE_DIR / "var")))
# DATABASE_URL (e.g. postgres://user:pass@host:5432/loveloveshot) selects the database; without it,
# SQLite in var/. dj-database-url is in requirements/base.txt; the PostgreSQL driver in prod.txt.
DATABASE_URL = env("DATABASE_URL")
# SQLite under concurrent writers (issue 13): WAL (readers never block the writer), a 20 s busy wait,
# and BEGIN IMMEDIATE for every atomic block, so a transaction that reads then writes (the quota
# check + job insert) takes the write lock up front instead of failing with "database is locked".
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
}
if DATABASE_URL:
    try:
        import dj_database_url
    except ImportError as exc:  # pragma: no cover - an older venv
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DATABASE_URL is set: pip install -r requirements/prod.txt") from exc
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=int(env("DJANGO_CONN_MAX_AGE", "0") or 0), conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
            "OPTIONS": SQLITE_OPTIONS,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
SITE_ID = 1

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# allauth: email + password, no username, no email verification for the demo.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_FORMS = {  # + required "I am 14 or older" and "I accept the terms"; friendly messages
    "signup": "accounts.forms.SignupForm",
    "login": "accounts.forms.LoginForm",
}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
# Login throttling (accounts/throttle.py, site and admin login alike): 5 wrong passwords per account
# *and* source address per 5 minutes (an attacker elsewhere cannot lock the owner out), 100 per account
# per hour over all addresses. allauth keeps only its loose per-IP limits (a conference hall shares one
# NAT address). All counters live in the Redis cache below, shared by every web process.
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_RATE_LIMITS = {
    "login": "300/m/ip",
    "login_failed": "60/m/ip",
    "signup": "120/m/ip",
}
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW = 300
LOGIN_ACCOUNT_FAILURE_LIMIT = 100
LOGIN_ACCOUNT_FAILURE_WINDOW = 3600
LOGIN_REDIRECT_URL = "gallery:concepts"
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
LOGIN_URL = "account_login"

LANGUAGE_CODE = "ko"
LANGUAGES = [("ko", _("Korean")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Seoul"
FORMAT_MODULE_PATH = ["loveloveshot.formats"]  # natural ko/en date formats (loveloveshot/formats/)
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Nothing user-related is ever public: uploads and results live in private storage and are
# streamed by views that check ownership (X-Accel-Redirect ready).
PRIVATE_MEDIA_ROOT = Path(env("LLS_PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))
MEDIA_ROOT = VAR_DIR / "media"
MEDIA_URL = "/media-not-public/"
STORAGES = {
    "default": {
        "BACKEND": "loveloveshot.storage.PrivateFileSystemStorage",  # FileSystemStorage + PRIVATE_MEDIA_GROUP
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    # Static files are public (nginx serves them as its own user): world-readable whatever the private
    # FILE_UPLOAD_PERMISSIONS below say (FileSystemStorage would otherwise apply those to collectstatic).
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage",
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
# When set (e.g. "/protected/"), downloads answer with X-Accel-Redirect for nginx.
PRIVATE_MEDIA_ACCEL_PREFIX = env("PRIVATE_MEDIA_ACCEL_PREFIX", "")

REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "lls"},
    }
}
RQ_QUEUES = {
    "swap": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 900},
    # Photo checks (gpu_worker.checks): light, never behind swaps; `manage.py rqworker check`-style worker.
    "check": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 120},
    # Partner webhooks (partners.tasks): `manage.py rqworker webhooks --with-scheduler` (retries need the scheduler).
    "webhooks": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60},
}
RQ_SHOW_ADMIN_LINK = True
# Counters shared by every web process (login throttles, allauth's rate limits) live in Redis.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "lls-cache",
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Every API error is RFC 9457 problem+json (loveloveshot/problems.py); quota errors are 429.
    "EXCEPTION_HANDLER": "loveloveshot.problems.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LoveLoveShot partner API",
    "DESCRIPTION": "Create couple-photo jobs and fetch their results.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI / Redoc files come from drf-spectacular-sidecar (pinned in requirements/base.txt)
    # through our static files: /api/docs/ works offline and under a same-origin CSP.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- LoveLoveShot product settings -------------------------------------------------------------
# The upload terms users accept (templates/legal/terms_*.html): bump this when their text changes and
# everyone is asked to agree again before their next upload.
TERMS_VERSION = env("LLS_TERMS_VERSION", "2026-11-01")
# Minimum age to sign up (Korea's PIPA: under 14 needs a guardian's consent, which we do not collect).
MIN_SIGNUP_AGE = 14
# Screening hook for every uploaded photo (studio/screening.py): dotted path to a callable
# ``screen_upload(image) -> ScreeningResult``. The default allows everything (no offline age/NSFW model).
UPLOAD_SCREENER = env("LLS_UPLOAD_SCREENER", "studio.screening.allow_all")
# Provenance of every result (gallery/labelling.py): a signed C2PA manifest. Operators set a real
# certificate chain + key (PEM files); otherwise a local test CA is generated once under VAR_DIR/c2pa/.
C2PA_SIGN = env_bool("LLS_C2PA_SIGN", True)
C2PA_CERT_FILE = env("LLS_C2PA_CERT", "")
C2PA_KEY_FILE = env("LLS_C2PA_KEY", "")
UPLOAD_MAX_BYTES = int(env("LLS_UPLOAD_MAX_BYTES", str(15 * 1024 * 1024)))
UPLOAD_MAX_PIXELS = int(env("LLS_UPLOAD_MAX_PIXELS", str(40_000_000)))
UPLOAD_MIN_SIDE = 128
UPLOAD_MIN_EYE_DISTANCE = float(env("LLS_UPLOAD_MIN_EYE_DISTANCE", "80"))  # px between the eyes
SCENE_MIN_EYE_DISTANCE = float(env("LLS_SCENE_MIN_EYE_DISTANCE", "60"))  # scene intake (gallery/scene_intake.py)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024  # the non-file fields of one request
# Request bodies and uploads over 1 MiB spool to a temporary file instead of memory: a burst of uploads
# waiting for the web process then costs disk, not RAM (issue 13 item 17; see BENCHMARKS.md, burst).
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# One limit for a whole request body, in one place (loveloveshot/limits.py): Django answers 413 from
# Content-Length before reading (loveloveshot.middleware) and nginx's client_max_body_size is rendered
# from the same number (scripts/prod_nginx_conf.sh).
UPLOAD_MAX_REQUEST_BYTES = _limits.UPLOAD_MAX_REQUEST_BYTES
# Private files and folders are readable by the service user only (0600/0700). When nginx streams them
# (X-Accel-Redirect), nginx's user must read them too: PRIVATE_MEDIA_GROUP (env LLS_PRIVATE_MEDIA_GROUP;
# production defaults to Debian nginx's "www-data") makes them 0640/0750 and owned by that group
# (loveloveshot/storage.py): readable by nginx, never world-readable.
PRIVATE_MEDIA_GROUP = env("LLS_PRIVATE_MEDIA_GROUP", "") or ""
FILE_UPLOAD_PERMISSIONS = 0o640 if PRIVATE_MEDIA_GROUP else 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750 if PRIVATE_MEDIA_GROUP else 0o700
PLAN_PHOTO_LIMITS = {"standard": (1, 1), "premium": (3, 5)}
PREMIUM_MAX_RESULTS = 10
JOB_MAX_ATTEMPTS = 3
# Per-account limits: jobs waiting or running at once, and jobs started per rolling hour.
JOB_QUOTAS = {
    "standard": {"active": 2, "per_hour": 10},
    "premium": {"active": 3, "per_hour": 30},
    "partner": {"active": 50, "per_hour": 600},
}
# A running job's worker touches Job.heartbeat_at every JOB_HEARTBEAT_SECONDS; a job whose heartbeat
# is older than JOB_STALE_SECONDS was abandoned (worker killed, OOM, host lost) and is retried.
JOB_HEARTBEAT_SECONDS = float(env("LLS_JOB_HEARTBEAT_SECONDS", "5"))
JOB_STALE_SECONDS = float(env("LLS_JOB_STALE_SECONDS", "45"))
# A queued job missing from the rq queue this long (Redis lost it or was down at submit) is re-enqueued.
JOB_ORPHAN_SECONDS = float(env("LLS_JOB_ORPHAN_SECONDS", "30"))
JOB_SWEEP_INTERVAL_SECONDS = float(env("LLS_JOB_SWEEP_INTERVAL_SECONDS", "10"))
# CPU priority of `manage.py gpu_worker` (its supervisor and job process), as a `nice` value 0-19.
# `make run` and the load bench start workers at 10, so on a shared box the web process wins the CPU
# (a submit answers at once while a swap runs); workers on their own machines keep 0.
WORKER_NICE = int(env("LLS_WORKER_NICE", "0"))
RESULT_MAX_SIDE = 1600
THUMB_MAX_SIDE = 480
MODELS_DIR = env("LLS_MODELS_DIR", str(BASE_DIR / "models"))
ENGINE = env("LLS_ENGINE", "auto")  # classical | neural | auto (neural when engine/models.toml verifies)

# Email: EMAIL_URL (loveloveshot/settings/mailurl.py: smtp://, smtps://, console:, file:, locmem:).
# Without it mail is printed to the console (local); production.py requires an SMTP URL.
_EMAIL = parse_email_url(env("EMAIL_URL") or "console:", base_dir=BASE_DIR)
EMAIL_BACKEND = _EMAIL["EMAIL_BACKEND"]
EMAIL_HOST = _EMAIL.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _EMAIL.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _EMAIL.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _EMAIL.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _EMAIL.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _EMAIL.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = _EMAIL.get("EMAIL_TIMEOUT", 10)
EMAIL_FILE_PATH = _EMAIL.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "LoveLoveShot <noreply@loveloveshot.local>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[LoveLoveShot] "

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_per_job": {"()": "loveloveshot.settings.logfilters.OneLinePerJob"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # rq: one line per job in normal operation (settings/logfilters.py); warnings always pass.
        "rq.worker": {"filters": ["one_line_per_job"]},
    },
}
