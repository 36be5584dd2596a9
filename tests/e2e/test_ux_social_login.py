"""Issue 16 item 5 in the browser: the login page shows a configured provider, the button takes the
browser to the provider (a local OpenID Connect stub, no network) and back, and the social sign-up
form still asks for age 14+ and the terms before the account exists."""

import pytest

from tests.e2e.conftest import ARTIFACTS
from tests.oidc_stub import OidcStub

pytestmark = pytest.mark.e2e


@pytest.fixture
def oidc_stub(monkeypatch):
    """Started before the live server, whose environment then configures the provider."""
    with OidcStub(user={"sub": "stub-42", "email": "kakao.couple@example.com", "email_verified": True}) as stub:
        for key, value in stub.env(provider_id="stub", name="Stub ID").items():
            monkeypatch.setenv(key, value)
        yield stub


@pytest.mark.parametrize("width", [390, 1280])
def test_social_login_round_trip_with_age_and_terms(oidc_stub, stack, browser, django_user_model, width):
    ctx = browser.new_context(viewport={"width": width, "height": 844}, locale="ko-KR")
    ctx.set_default_timeout(20_000)
    page = ctx.new_page()
    page.goto(stack.url + "/accounts/login/")
    button = page.locator("[data-testid=social-stub]")
    assert button.is_visible() and "Stub ID" in button.inner_text()
    assert page.locator("[data-testid=social-kakao]").count() == 0, "unconfigured providers stay hidden"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"ux-login-social-{width}.png"), full_page=True)

    button.click()  # -> stub /authorize -> back to /accounts/oidc/stub/login/callback/ -> sign-up form
    page.wait_for_selector("[data-testid=social-signup-form]")
    assert "GET /authorize" in oidc_stub.calls and "POST /token" in oidc_stub.calls
    assert page.locator("input[name=email]").input_value() == "kakao.couple@example.com"
    assert not django_user_model.objects.filter(email="kakao.couple@example.com").exists()
    page.click("[data-testid=social-signup-submit]")  # nothing ticked: refused
    assert "만 14세 이상" in page.locator("[data-testid=social-signup-form]").inner_text()
    page.check("#id_age_confirmed")
    page.check("#id_terms_accepted")
    page.screenshot(path=str(ARTIFACTS / f"ux-social-signup-{width}.png"), full_page=True)
    page.click("[data-testid=social-signup-submit]")
    page.wait_for_selector("[data-testid=logout]")
    user = django_user_model.objects.get(email="kakao.couple@example.com")
    assert user.age_confirmed_at is not None
    assert user.socialaccount_set.get().uid == "stub-42"
    ctx.close()
