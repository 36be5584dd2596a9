"""Login throttle shared by the site login (allauth, accounts.adapter) and the admin login
(accounts.admin.ThrottledAdminLoginForm).

Wrong passwords are counted per account *and* source address: after LOGIN_FAILURE_LIMIT failures for
one email from one address, that address must wait LOGIN_FAILURE_WINDOW seconds before trying that
account again, and the message says how long. The owner trying from another address is not affected,
so an attacker cannot lock anyone out. A looser per-account ceiling over all addresses
(LOGIN_ACCOUNT_FAILURE_LIMIT) slows a password spray spread over many addresses. Counters live in the
Django cache (Redis, settings.CACHES), so every web process sees the same numbers."""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import ngettext


@dataclass(frozen=True)
class LoginThrottled(Exception):
    retry_after: int  # seconds

    @property
    def message(self) -> str:
        minutes = max(1, math.ceil(self.retry_after / 60))
        return ngettext(
            "Too many wrong passwords for this account. Please try again in %(minutes)d minute.",
            "Too many wrong passwords for this account. Please try again in %(minutes)d minutes.",
            minutes,
        ) % {"minutes": minutes}


def _limits() -> tuple[int, int, int, int]:
    return (
        int(getattr(settings, "LOGIN_FAILURE_LIMIT", 5)),
        int(getattr(settings, "LOGIN_FAILURE_WINDOW", 300)),
        int(getattr(settings, "LOGIN_ACCOUNT_FAILURE_LIMIT", 100)),
        int(getattr(settings, "LOGIN_ACCOUNT_FAILURE_WINDOW", 3600)),
    )


def client_ip(request) -> str:
    """The address the request came from (daphne --proxy-headers puts nginx's X-Forwarded-For here)."""
    return (request.META.get("REMOTE_ADDR") or "unknown") if request is not None else "unknown"


def _keys(*, login: str, ip: str) -> tuple[str, str]:
    account = hashlib.sha256((login or "").strip().lower().encode()).hexdigest()[:32]
    source = hashlib.sha256(ip.encode()).hexdigest()[:16]
    return f"login-fail:{account}:{source}", f"login-fail:{account}:all"


def _count(key: str) -> tuple[int, float]:
    values = cache.get_many([f"{key}:n", f"{key}:until"])
    return int(values.get(f"{key}:n") or 0), float(values.get(f"{key}:until") or 0)


def login_throttle_check(*, request, login: str) -> None:
    """Raise LoginThrottled when this address (or everyone) must wait before trying ``login`` again."""
    limit, _window, account_limit, _account_window = _limits()
    now = time.time()
    pair, account = _keys(login=login, ip=client_ip(request))
    for key, most in ((pair, limit), (account, account_limit)):
        n, until = _count(key)
        if n >= most and until > now:
            raise LoginThrottled(retry_after=max(1, math.ceil(until - now)))


def _bump(key: str, window: int) -> None:
    until = time.time() + window
    cache.add(f"{key}:until", until, window)
    cache.add(f"{key}:n", 0, window)
    try:
        cache.incr(f"{key}:n")
    except ValueError:  # expired between add and incr
        cache.set(f"{key}:n", 1, window)
        cache.set(f"{key}:until", until, window)


def login_failure_record(*, request, login: str) -> None:
    """Count one wrong password for ``login`` from the request's address."""
    _limit, window, _account_limit, account_window = _limits()
    pair, account = _keys(login=login, ip=client_ip(request))
    _bump(pair, window)
    _bump(account, account_window)


def login_success_record(*, request, login: str) -> None:
    """The right password from this address: its count for this account starts again."""
    pair, _account = _keys(login=login, ip=client_ip(request))
    cache.delete_many([f"{pair}:n", f"{pair}:until"])

