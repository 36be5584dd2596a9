"""loveloveshot.settings.production: passes `check --deploy`, refuses to start without the essentials,
and allows its loopback-only HTTP switch only on loopback. Each case is a fresh `manage.py` process
with only the production environment (SQLite through DATABASE_URL is enough for the checks)."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETTINGS = "loveloveshot.settings.production"


@pytest.fixture
def prod_env(tmp_path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR"}}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "photo.example.kr",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "REDIS_URL": "redis://127.0.0.1:6399/0",
        "LLS_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "EMAIL_URL": "smtp://mailer:s%40cret@smtp.example.kr:587?tls=1",
        "DEFAULT_FROM_EMAIL": "LoveLoveShot <noreply@photo.example.kr>",
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_passes_with_the_production_environment(prod_env):
    proc = manage(prod_env, "check", "--deploy", "--fail-level", "WARNING")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_settings_come_from_the_environment(prod_env):
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.ALLOWED_HOSTS, s.DATABASES['default']['ENGINE'], s.RQ_QUEUES['swap']['URL'], "
        "s.PRIVATE_MEDIA_ACCEL_PREFIX, s.SESSION_COOKIE_SECURE, s.STORAGES['default']['BACKEND'])"
    )
    proc = manage(prod_env, "shell", "-v", "0", "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [
        "False",
        "['photo.example.kr']",
        "django.db.backends.sqlite3",
        "redis://127.0.0.1:6399/0",
        "/protected/",
        "True",
        "loveloveshot.storage.PrivateFileSystemStorage",  # 0600/0700 files, group for nginx
    ]


def test_postgres_url_selects_postgresql(prod_env):
    prod_env["DATABASE_URL"] = "postgres://lls:secret@db.internal.example:5432/loveloveshot"
    code = "from django.conf import settings as s; d = s.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['NAME'])"
    proc = manage(prod_env, "shell", "-v", "0", "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["django.db.backends.postgresql", "db.internal.example", "loveloveshot"]


@pytest.mark.parametrize(
    "missing",
    ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DEFAULT_FROM_EMAIL"],
)
def test_refuses_to_start_without_the_essentials(prod_env, missing):
    del prod_env[missing]
    proc = manage(prod_env, "check")
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and missing in proc.stderr


def test_refuses_a_short_secret_key(prod_env):
    prod_env["DJANGO_SECRET_KEY"] = "too-short"
    proc = manage(prod_env, "check")
    assert proc.returncode != 0 and "DJANGO_SECRET_KEY" in proc.stderr


def test_loopback_http_switch_is_refused_for_public_hosts(prod_env):
    prod_env["LLS_INSECURE_COOKIES_FOR_LOOPBACK"] = "1"
    proc = manage(prod_env, "check")
    assert proc.returncode != 0 and "LLS_INSECURE_COOKIES_FOR_LOOPBACK" in proc.stderr

    prod_env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT)"
    proc = manage(prod_env, "shell", "-v", "0", "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_s3_media_backend_needs_a_bucket(prod_env):
    prod_env["LLS_MEDIA_BACKEND"] = "s3"
    proc = manage(prod_env, "check")
    assert proc.returncode != 0 and "LLS_S3_BUCKET" in proc.stderr


def test_collectstatic_leaves_static_files_readable_by_nginx(prod_env, tmp_path):
    """Static files are public and served by nginx as its own user: the private 0600/0700 upload modes
    must not reach them (FileSystemStorage applies FILE_UPLOAD_PERMISSIONS to collectstatic too)."""
    import stat

    root = tmp_path / "static"
    prod_env["DJANGO_STATIC_ROOT"] = str(root)
    proc = manage(prod_env, "collectstatic", "--noinput", "-v", "0")
    assert proc.returncode == 0, proc.stderr
    files = [p for p in root.rglob("*") if p.is_file()]
    assert len(files) > 50
    for path in [*files, *(p for p in root.rglob("*") if p.is_dir())]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o004, (str(path), oct(mode))  # others may read
        assert not path.is_dir() or mode & 0o001, (str(path), oct(mode))  # and enter folders
