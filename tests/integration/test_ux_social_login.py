"""Issue 16 item 5: Kakao / Naver / Google (and any OpenID Connect issuer) from the environment,
hidden when not configured; the real allauth flow against a local provider stub; social sign-up
still asks for age 14+ and the terms."""

import pytest
import requests
from django.test import Client
from django.urls import reverse

from accounts.models import User
from loveloveshot.settings.social import form_action_origins, social_providers
from tests.oidc_stub import OidcStub

pytestmark = pytest.mark.django_db

SOCIAL_ENV = ("KAKAO", "NAVER", "GOOGLE", "OIDC")


@pytest.fixture
def no_social_env(monkeypatch):
    for prefix in SOCIAL_ENV:
        monkeypatch.delenv(f"LLS_{prefix}_CLIENT_ID", raising=False)
        monkeypatch.delenv(f"LLS_{prefix}_SECRET", raising=False)
    monkeypatch.delenv("LLS_OIDC_SERVER_URL", raising=False)


def test_providers_come_from_the_environment_and_are_hidden_without_it(no_social_env, monkeypatch, settings):
    settings.SOCIALACCOUNT_PROVIDERS = social_providers()
    assert all(not p["APPS"] for p in settings.SOCIALACCOUNT_PROVIDERS.values())
    page = Client().get(reverse("account_login")).content.decode()
    assert 'data-testid="social-login"' not in page

    monkeypatch.setenv("LLS_KAKAO_CLIENT_ID", "kakao-rest-key")
    monkeypatch.setenv("LLS_KAKAO_SECRET", "kakao-secret")
    monkeypatch.setenv("LLS_NAVER_CLIENT_ID", "naver-id")  # no secret: stays hidden
    providers = social_providers()
    assert providers["kakao"]["APPS"][0]["client_id"] == "kakao-rest-key"
    assert providers["naver"]["APPS"] == [] and providers["google"]["APPS"] == []
    settings.SOCIALACCOUNT_PROVIDERS = providers
    settings.SOCIAL_FORM_ACTION_ORIGINS = form_action_origins(providers)
    response = Client().get(reverse("account_login"))
    page = response.content.decode()
    assert 'data-testid="social-kakao"' in page
    # the button's POST is redirected to Kakao: the CSP's form-action allows exactly that origin
    csp = response["Content-Security-Policy"]
    assert "form-action 'self' https://kauth.kakao.com https://accounts.kakao.com;" in csp
    assert 'data-testid="social-naver"' not in page and 'data-testid="social-google"' not in page


def test_login_flow_against_a_stub_provider_requires_age_and_terms(no_social_env, monkeypatch, settings):
    with OidcStub() as stub:
        for key, value in stub.env().items():
            monkeypatch.setenv(key, value)
        settings.SOCIALACCOUNT_PROVIDERS = social_providers()
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        signup_page = client.get(reverse("account_signup")).content.decode()
        assert 'data-testid="social-stub"' in signup_page and "Stub ID" in signup_page

        # 1. the button POSTs to allauth, which sends the browser to the provider's authorize URL
        start = client.post("/accounts/oidc/stub/login/")
        assert start.status_code == 302 and start["Location"].startswith(stub.url + "/authorize?")
        # 2. the provider sends the browser back with a code
        back = requests.get(start["Location"], allow_redirects=False, timeout=10)
        assert back.status_code == 302
        callback = back.headers["Location"]
        assert callback.startswith("http://testserver/accounts/oidc/stub/login/callback/?")
        # 3. allauth swaps the code for a token and reads the userinfo, then asks for the sign-up form
        done = client.get(callback.removeprefix("http://testserver"))
        assert done.status_code == 302, done.content[:500]
        assert "POST /token" in stub.calls and "GET /userinfo" in stub.calls
        assert not User.objects.filter(email="social@example.com").exists(), "no account before age + terms"
        form_page = client.get(done["Location"])
        body = form_page.content.decode()
        assert 'name="age_confirmed"' in body and 'name="terms_accepted"' in body
        assert "social@example.com" in body

        refused = client.post(done["Location"], {"email": "social@example.com"})
        assert refused.status_code == 200
        text = refused.content.decode()
        assert "You must be 14 or older" in text and "accept the upload terms" in text
        assert not User.objects.filter(email="social@example.com").exists()

        ok = client.post(done["Location"], {"email": "social@example.com", "age_confirmed": "on",
                                            "terms_accepted": "on"})
        assert ok.status_code == 302
        user = User.objects.get(email="social@example.com")
        assert user.age_confirmed_at is not None
        assert user.socialaccount_set.get().uid == "stub-user-1"
        assert client.get(reverse("gallery:album")).status_code == 200  # logged in
