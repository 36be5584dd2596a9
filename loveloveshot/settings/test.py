"""Test settings: a real redis-server started by the test session (tests/plugins/redis_server.py)
provides REDIS_URL; files go to a throwaway folder."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import STORAGES

DEBUG = False
SECRET_KEY = "test-only-key"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
VAR_DIR = Path(os.environ.get("LLS_VAR_DIR") or tempfile.mkdtemp(prefix="lls-test-"))  # noqa: F405
PRIVATE_MEDIA_ROOT = Path(os.environ.get("LLS_PRIVATE_MEDIA_ROOT") or VAR_DIR / "private")  # noqa: F405
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    **STORAGES,
    "default": {**STORAGES["default"], "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if DATABASE_URL:  # noqa: F405 - e.g. CI's PostgreSQL run (.ci/run)
    # NAME == TEST NAME, so the e2e tests' daphne/worker subprocesses (same settings, same env) open
    # the database pytest-django created rather than the one it was named after.
    _test_db = os.environ.get("LLS_TEST_DB_NAME") or "test_" + DATABASES["default"]["NAME"]  # noqa: F405
    DATABASES = {"default": {**DATABASES["default"], "NAME": _test_db, "TEST": {"NAME": _test_db}}}  # noqa: F405
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "test.sqlite3"),
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
            "OPTIONS": {**SQLITE_OPTIONS, "timeout": 30},  # noqa: F405 - WAL + IMMEDIATE (base.py)
        }
    }
# Mail lands in django.core.mail.outbox (tests/integration/test_email.py follows its links).
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Serve static files straight from static/ (no collectstatic step in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The public-domain test portraits include astronaut.png with 47 px between the eyes; the product
# default (80 px) is checked by tests/integration/test_upload_gate.py with an override.
UPLOAD_MIN_EYE_DISTANCE = float(os.environ.get("LLS_UPLOAD_MIN_EYE_DISTANCE", "40"))
# Webhook receivers started by the tests listen on http://127.0.0.1 (production: HTTPS only).
WEBHOOK_ALLOW_HTTP_LOOPBACK = True
