"""EMAIL_URL parsing (loveloveshot/settings/mailurl.py) and the production rules: an SMTP URL and a
sender are required, anything else is refused (each case is a fresh `manage.py` process)."""

import pytest

from loveloveshot.settings.mailurl import SMTP_BACKEND, EmailUrlError, parse_email_url
from tests.prod.test_production_settings import manage, prod_env  # noqa: F401 - fixture


def test_smtp_with_starttls_and_quoted_password():
    s = parse_email_url("smtp://mailer%40example.kr:p%3Ass%40word@smtp.example.kr?tls=1")
    assert s == {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": "smtp.example.kr",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer@example.kr",
        "EMAIL_HOST_PASSWORD": "p:ss@word",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
        "EMAIL_TIMEOUT": 10.0,
    }


def test_smtps_is_implicit_tls_on_465_and_plain_smtp_is_25():
    s = parse_email_url("smtps://u:p@mail.example.kr?timeout=3")
    assert (s["EMAIL_PORT"], s["EMAIL_USE_SSL"], s["EMAIL_USE_TLS"], s["EMAIL_TIMEOUT"]) == (465, True, False, 3.0)
    s = parse_email_url("smtp://relay.internal:2525")
    assert (s["EMAIL_PORT"], s["EMAIL_USE_SSL"], s["EMAIL_USE_TLS"], s["EMAIL_HOST_USER"]) == (2525, False, False, "")


def test_console_file_and_locmem(tmp_path):
    assert parse_email_url("console:")["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert parse_email_url("locmem:")["EMAIL_BACKEND"].endswith("locmem.EmailBackend")
    f = parse_email_url(f"file://{tmp_path}/mail")
    assert f["EMAIL_BACKEND"].endswith("filebased.EmailBackend") and f["EMAIL_FILE_PATH"] == f"{tmp_path}/mail"
    assert parse_email_url("file:var/mail", base_dir=tmp_path)["EMAIL_FILE_PATH"] == str(tmp_path / "var/mail")


@pytest.mark.parametrize("url", ["http://smtp.example.kr", "smtp://", "smtp://host:notaport", "mailto:a@b"])
def test_unusable_urls_are_refused(url):
    with pytest.raises(EmailUrlError):
        parse_email_url(url)


def test_production_reads_smtp_settings_from_email_url(prod_env):  # noqa: F811
    code = (
        "from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_HOST, s.EMAIL_PORT, "
        "s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, repr(s.DEFAULT_FROM_EMAIL))"
    )
    proc = manage(prod_env, "shell", "-v", "0", "-c", code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split(" ", 6) == [
        SMTP_BACKEND,
        "smtp.example.kr",
        "587",
        "mailer",
        "s@cret",
        "True",
        "'LoveLoveShot <noreply@photo.example.kr>'\n",
    ]


def test_production_refuses_a_console_mailer(prod_env):  # noqa: F811
    prod_env["EMAIL_URL"] = "console:"
    proc = manage(prod_env, "check")
    assert proc.returncode != 0
    assert "ImproperlyConfigured" in proc.stderr and "smtp://" in proc.stderr


def test_production_refuses_a_bad_email_url(prod_env):  # noqa: F811
    prod_env["EMAIL_URL"] = "smtp://"
    proc = manage(prod_env, "check")
    assert proc.returncode != 0 and "EMAIL_URL" in proc.stderr
