"""/api/docs/ in Debian chromium with every request to another host blocked: Swagger UI still draws
the partner API (title and operations), and the page asked for nothing outside the site."""

from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import browser, phone, stack  # noqa: F401 - fixtures

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_draws_offline(stack, phone):  # noqa: F811
    origin = urlsplit(stack.url).netloc
    requested, blocked, errors = [], [], []

    def route(r):
        host = urlsplit(r.request.url).netloc
        if r.request.url.startswith(("data:", "blob:")) or host == origin:
            requested.append(r.request.url)
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    phone.route("**/*", route)
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(stack.url + "/api/docs/")
    phone.wait_for_selector(".swagger-ui .info .title")
    assert "LoveLoveShot partner API" in phone.inner_text(".swagger-ui .info .title")
    phone.wait_for_selector(".swagger-ui .opblock")
    assert phone.locator(".swagger-ui .opblock").count() >= 3
    assert blocked == []
    assert errors == []
    assert any("swagger-ui-bundle" in u for u in requested)
    assert any("/api/schema/" in u for u in requested)
