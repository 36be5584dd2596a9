"""Issue 13 items 3-4: the admin login is throttled like the site login; the throttle counts per account
*and* source address (nobody elsewhere can lock the owner out), says how long to wait, and its
counters live in Redis, shared by every web process."""

import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.urls import reverse

from tests.conftest import REPO

pytestmark = pytest.mark.django_db(transaction=True)

X, Y = "203.0.113.7", "198.51.100.20"


@pytest.fixture
def staff(django_user_model, password):
    return django_user_model.objects.create_user(
        email="admin@example.com", password=password, is_staff=True, is_superuser=True
    )


def _admin_login(client, email, password, ip):
    return client.post(
        reverse("admin:login"),
        {"username": email, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
        HTTP_ACCEPT_LANGUAGE="en",
    )


def _site_login(client, email, password, ip):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en"
    )


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_admin_login_refuses_the_right_password_after_12_wrong_ones_and_says_how_long(client, staff, password):
    for _ in range(12):
        response = _admin_login(client, staff.email, "wrong-password", X)
        assert response.status_code == 200 and not _logged_in(client)
    response = _admin_login(client, staff.email, password, X)
    assert not _logged_in(client)
    body = response.content.decode()
    assert "Too many wrong passwords" in body
    assert "try again in 5 minutes" in body


def test_admin_and_site_login_share_one_throttle(client, staff, password):
    for _ in range(3):
        _admin_login(client, staff.email, "wrong-password", X)
    for _ in range(2):
        _site_login(client, staff.email, "wrong-password", X)
    response = _site_login(client, staff.email, password, X)
    assert not _logged_in(client)
    assert "Too many wrong passwords" in response.content.decode()


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(client, user, password):
    for _ in range(5):
        response = _site_login(client, user.email, "wrong-password", X)
        assert not _logged_in(client)
    refused = _site_login(client, user.email, password, X)
    assert not _logged_in(client)
    assert "try again in 5 minutes" in refused.content.decode()
    # The owner, from their own address, still gets in.
    response = _site_login(client, user.email, password, Y)
    assert response.status_code == 302
    assert _logged_in(client)


def test_another_account_from_the_same_address_is_not_affected(client, user, other_user, password):
    for _ in range(5):
        _site_login(client, user.email, "wrong-password", X)
    _site_login(client, other_user.email, password, X)
    assert _logged_in(client)


def test_the_counters_are_shared_between_processes(client, user, password):
    """Five wrong passwords counted by another Python process (another web process in production) are
    seen here: the counters are in Redis, not in one process's memory."""
    code = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from accounts.throttle import login_failure_record\n"
        f"request = RequestFactory().post('/', REMOTE_ADDR={X!r})\n"
        f"for _ in range(5): login_failure_record(request=request, login={user.email!r})\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test"}
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, timeout=300)
    cache.close()  # nothing of this process's own state carries the count
    response = _site_login(client, user.email, password, X)
    assert not _logged_in(client)
    assert "Too many wrong passwords" in response.content.decode()
    # ...and they live in Redis itself.
    import django_rq

    assert any(b"login-fail" in key for key in django_rq.get_connection("swap").keys("*"))


def test_the_owner_logging_in_resets_only_their_own_count(client, user, password):
    for _ in range(4):
        _site_login(client, user.email, "wrong-password", X)
    _site_login(client, user.email, password, X)
    assert _logged_in(client)
    client.logout()
    for _ in range(4):  # the count started again: four more wrong ones are still allowed
        _site_login(client, user.email, "wrong-password", X)
    _site_login(client, user.email, password, X)
    assert _logged_in(client)
