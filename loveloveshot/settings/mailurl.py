"""EMAIL_URL: one environment variable for Django's email settings (parsed here, no extra package).

    smtp://USER:PASSWORD@HOST:587?tls=1     SMTP + STARTTLS (port 587 by default with tls=1, else 25)
    smtps://USER:PASSWORD@HOST:465          SMTP over TLS (implicit TLS, port 465 by default)
    console:                                print every mail to stdout (local default)
    file:///ABSOLUTE/FOLDER  or  file:var/mail   one .log file per mail in that folder
    locmem:                                 django.core.mail.outbox (tests)
    dummy:                                  throw mail away

User and password are percent-decoded (write ``@`` as ``%40``, ``:`` as ``%3A``). Query options:
``tls=1`` (STARTTLS), ``ssl=1`` (implicit TLS), ``timeout=SECONDS`` (default 10).
"""

from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "dummy": "django.core.mail.backends.dummy.EmailBackend",
    "smtp": SMTP_BACKEND,
    "smtps": SMTP_BACKEND,
}
_TRUE = {"1", "true", "yes", "on"}


class EmailUrlError(ImproperlyConfigured):
    pass


def parse_email_url(url: str, base_dir: Path | None = None) -> dict:
    """Django settings (EMAIL_BACKEND, EMAIL_HOST, ...) for ``url``; raises EmailUrlError when it is unusable."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in BACKENDS:
        raise EmailUrlError(f"EMAIL_URL scheme {scheme or '(none)'!r} is not one of {', '.join(BACKENDS)}")
    options = {k.lower(): v[-1] for k, v in parse_qs(parts.query).items()}
    out: dict = {"EMAIL_BACKEND": BACKENDS[scheme]}
    if scheme == "file":
        folder = unquote(parts.path) or "var/mail"
        path = Path(folder)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        out["EMAIL_FILE_PATH"] = str(path)
        return out
    if scheme not in {"smtp", "smtps"}:
        return out
    if not parts.hostname:
        raise EmailUrlError("EMAIL_URL needs a host, e.g. smtp://user:password@smtp.example.com:587?tls=1")
    use_ssl = scheme == "smtps" or options.get("ssl", "").lower() in _TRUE
    use_tls = not use_ssl and options.get("tls", "").lower() in _TRUE
    try:
        port = parts.port
    except ValueError as exc:
        raise EmailUrlError(f"EMAIL_URL has a bad port: {exc}") from exc
    out.update(
        EMAIL_HOST=parts.hostname,
        EMAIL_PORT=port or (465 if use_ssl else 587 if use_tls else 25),
        EMAIL_HOST_USER=unquote(parts.username or ""),
        EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
        EMAIL_USE_TLS=use_tls,
        EMAIL_USE_SSL=use_ssl,
        EMAIL_TIMEOUT=float(options.get("timeout", "10")),
    )
    return out
