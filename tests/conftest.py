import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def faces_dir() -> Path:
    return Path(os.environ.get("LLS_TESTDATA_FACES", REPO.parent / "shared" / "testdata" / "faces"))


@pytest.fixture(scope="session")
def faces() -> Path:
    path = faces_dir()
    if not path.is_dir():
        raise pytest.UsageError(f"Test portraits not found at {path} (set LLS_TESTDATA_FACES)")
    return path


@pytest.fixture(autouse=True)
def _clean_redis():
    """Each test starts with an empty Redis (the real server started by tests.plugins.redis_server)."""
    import django_rq

    conn = django_rq.get_connection("swap")
    conn.flushdb()
    yield
    conn.flushdb()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language (Korean), as a fresh request would: a test client
    request leaves its language active in the thread (LocaleMiddleware activates, nothing deactivates),
    and tests that call services directly would otherwise inherit an earlier test's English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Each test gets its own private storage folder, so file assertions see only its own files."""
    root = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(root), "base_url": None},
        },
    }
    return root


@pytest.fixture
def password() -> str:
    return "Couple-photo-2026!"


@pytest.fixture
def user(django_user_model, password):
    return django_user_model.objects.create_user(email="minji@example.com", password=password)


@pytest.fixture
def premium_user(django_user_model, password):
    return django_user_model.objects.create_user(email="jisoo@example.com", password=password, plan="premium")


@pytest.fixture
def other_user(django_user_model, password):
    return django_user_model.objects.create_user(email="stranger@example.com", password=password)


@pytest.fixture
def logged_client(client, user):
    client.force_login(user)
    return client
