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
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(VAR_DIR / "test.sqlite3"),
        "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        "OPTIONS": {"timeout": 30},
    }
}
# Serve static files straight from static/ (no collectstatic step in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
