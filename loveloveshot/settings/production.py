"""Production settings: everything from the environment; refuses to start without the essentials.

Required: DJANGO_SECRET_KEY (40+ random characters), DJANGO_ALLOWED_HOSTS (comma-separated),
DATABASE_URL (postgres://user:password@host:5432/name), REDIS_URL (the shared Redis, appendonly on),
EMAIL_URL (smtp://user:password@host:587?tls=1 or smtps://user:password@host:465, see settings/mailurl.py),
DEFAULT_FROM_EMAIL (the sender of password-reset and other mail, e.g. "LoveLoveShot <noreply@example.kr>").
Optional: DJANGO_CSRF_TRUSTED_ORIGINS, DJANGO_STATIC_ROOT, DJANGO_CONN_MAX_AGE, PRIVATE_MEDIA_ACCEL_PREFIX,
LLS_MEDIA_BACKEND=local|s3 (+ LLS_S3_* below), DJANGO_SECURE_SSL_REDIRECT, DJANGO_SECURE_HSTS_SECONDS.
See README.md, "Production and scale-out", and deploy/env.example.
"""

import ipaddress
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import BASE_DIR, EMAIL_BACKEND, PRIVATE_MEDIA_ROOT, STORAGES, env, env_bool
from .mailurl import SMTP_BACKEND

DEBUG = False


def _require(name: str, why: str) -> str:
    value = env(name)
    if not value:
        raise ImproperlyConfigured(f"{name} must be set: {why}")
    return value


def _csv(name: str) -> list[str]:
    return [item.strip() for item in (env(name) or "").split(",") if item.strip()]


SECRET_KEY = _require("DJANGO_SECRET_KEY", "a random string of 50+ characters.")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a random string of 50+ characters.")
ALLOWED_HOSTS = _csv("DJANGO_ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the public host names.")
_require("DATABASE_URL", "postgres://USER:PASSWORD@HOST:5432/NAME (PostgreSQL).")
_require("REDIS_URL", "the shared Redis (appendonly on), e.g. redis://10.0.0.5:6379/0.")
# base.py already built DATABASES, CHANNEL_LAYERS and RQ_QUEUES from DATABASE_URL / REDIS_URL.
# Email (password reset): base.py parsed EMAIL_URL; production sends through a real SMTP server only
# (the loopback stack of scripts/prod_local.sh may print mail instead, see below).
_require("EMAIL_URL", "smtp://USER:PASSWORD@HOST:587?tls=1 or smtps://USER:PASSWORD@HOST:465 (password reset mail).")
DEFAULT_FROM_EMAIL = _require("DEFAULT_FROM_EMAIL", 'the sender address, e.g. "LoveLoveShot <noreply@example.kr>".')
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)

CSRF_TRUSTED_ORIGINS = _csv("DJANGO_CSRF_TRUSTED_ORIGINS") or [f"https://{h}" for h in ALLOWED_HOSTS]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")  # nginx sets it; daphne runs --proxy-headers
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = int(env("DJANGO_SECURE_HSTS_SECONDS", "31536000") or 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True

# Loopback only (scripts/prod_local.sh): the production stack over plain HTTP on 127.0.0.1, where
# cookies marked Secure would never come back. Refused for any host that is not loopback.
if env_bool("LLS_INSECURE_COOKIES_FOR_LOOPBACK"):

    def _is_loopback(host: str) -> bool:
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.strip("[]")).is_loopback
        except ValueError:
            return False

    if not all(_is_loopback(h) for h in ALLOWED_HOSTS):
        raise ImproperlyConfigured("LLS_INSECURE_COOKIES_FOR_LOOPBACK=1 is only allowed with loopback ALLOWED_HOSTS.")
    SESSION_COOKIE_SECURE = False
    CSRF_COOKIE_SECURE = False
    SECURE_SSL_REDIRECT = False
    SECURE_HSTS_SECONDS = 0
elif EMAIL_BACKEND != SMTP_BACKEND:
    raise ImproperlyConfigured("EMAIL_URL must be an smtp:// or smtps:// URL in production.")

# collectstatic writes here; nginx serves it at /static/ (deploy/nginx/loveloveshot.conf.in).
STATIC_ROOT = Path(env("DJANGO_STATIC_ROOT", str(BASE_DIR / "staticfiles")))

# Private media: local disk by default (shared by web and workers: one host, or a shared mount),
# streamed by nginx through X-Accel-Redirect to its `internal` /protected/ location after the
# Django view checked ownership. With LLS_MEDIA_BACKEND=s3 (django-storages, optional) files go
# to a private S3-compatible bucket and the views stream them (no accel prefix by default).
MEDIA_BACKEND = (env("LLS_MEDIA_BACKEND", "local") or "local").lower()
if MEDIA_BACKEND == "s3":
    STORAGES = {
        **STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": _require("LLS_S3_BUCKET", "the private bucket for uploads and results."),
                "endpoint_url": env("LLS_S3_ENDPOINT_URL") or None,  # MinIO, Ceph, R2, NCP ... ; AWS: unset
                "region_name": env("LLS_S3_REGION") or None,
                "access_key": env("LLS_S3_ACCESS_KEY_ID") or None,  # unset: instance role / AWS_* env
                "secret_key": env("LLS_S3_SECRET_ACCESS_KEY") or None,
                "location": env("LLS_S3_PREFIX", "private"),
                "default_acl": None,  # bucket policy: private
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    PRIVATE_MEDIA_ACCEL_PREFIX = env("PRIVATE_MEDIA_ACCEL_PREFIX", "")
elif MEDIA_BACKEND == "local":
    STORAGES = {
        **STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
        },
    }
    PRIVATE_MEDIA_ACCEL_PREFIX = env("PRIVATE_MEDIA_ACCEL_PREFIX", "/protected/")
else:
    raise ImproperlyConfigured("LLS_MEDIA_BACKEND must be 'local' or 's3'.")
# nginx streams private files (X-Accel-Redirect): they belong to nginx's group and are 0640/0750, never
# world-readable (loveloveshot/storage.py). The service user must be in that group; set
# LLS_PRIVATE_MEDIA_GROUP= (empty) when nginx runs as the service user itself.
if PRIVATE_MEDIA_ACCEL_PREFIX and MEDIA_BACKEND == "local":
    STORAGES["default"] = {**STORAGES["default"], "BACKEND": "loveloveshot.storage.PrivateFileSystemStorage"}
    PRIVATE_MEDIA_GROUP = env("LLS_PRIVATE_MEDIA_GROUP", "www-data") or ""
    FILE_UPLOAD_PERMISSIONS = 0o640 if PRIVATE_MEDIA_GROUP else 0o600
    FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750 if PRIVATE_MEDIA_GROUP else 0o700

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
