"""Social login (django-allauth socialaccount), configured only from the environment.

A provider appears on the login and sign-up pages only when its client id and secret are set
(``SOCIALACCOUNT_PROVIDERS[...]["APPS"]``: no SocialApp rows in the database). Social sign-up
always goes through the sign-up form (age 14+ and the terms), never straight in."""

import os


def _env(name: str) -> str:
    return (os.environ.get(name) or "").strip()


def _app(prefix: str, **extra) -> list[dict]:
    client_id, secret = _env(f"LLS_{prefix}_CLIENT_ID"), _env(f"LLS_{prefix}_SECRET")
    if not (client_id and secret):
        return []
    return [{"client_id": client_id, "secret": secret, "key": "", **extra}]


def social_providers() -> dict:
    providers = {
        "kakao": {"APPS": _app("KAKAO"), "SCOPE": ["account_email", "profile_nickname"]},
        "naver": {"APPS": _app("NAVER")},
        "google": {"APPS": _app("GOOGLE"), "SCOPE": ["openid", "email", "profile"],
                   "AUTH_PARAMS": {"prompt": "select_account"}},
        "openid_connect": {"APPS": []},
    }
    # Any other OpenID Connect issuer (also how the tests drive the real flow against a local stub).
    server_url = _env("LLS_OIDC_SERVER_URL")
    oidc = _app("OIDC", provider_id=_env("LLS_OIDC_PROVIDER_ID") or "oidc", name=_env("LLS_OIDC_NAME") or "OpenID",
                settings={"server_url": server_url, "fetch_userinfo": True})
    if server_url and oidc:
        providers["openid_connect"]["APPS"] = oidc
    return providers


# Where each provider's login page lives: the CSP's form-action must allow the redirect there
# (loveloveshot.middleware.SecurityHeadersMiddleware).
# Chromium checks form-action on every redirect of the chain, so the provider's login host too.
AUTHORIZE_ORIGINS = {
    "kakao": ["https://kauth.kakao.com", "https://accounts.kakao.com"],
    "naver": ["https://nid.naver.com"],
    "google": ["https://accounts.google.com"],
}


def form_action_origins(providers: dict) -> list[str]:
    from urllib.parse import urlsplit

    origins = [o for name, hosts in AUTHORIZE_ORIGINS.items() if providers.get(name, {}).get("APPS") for o in hosts]
    for app in providers.get("openid_connect", {}).get("APPS", []):
        url = urlsplit(app["settings"]["server_url"])
        origins.append(f"{url.scheme}://{url.netloc}")
    return origins


SOCIAL_APPS = [
    "allauth.socialaccount",
    "allauth.socialaccount.providers.kakao",
    "allauth.socialaccount.providers.naver",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.openid_connect",
]
SOCIALACCOUNT_PROVIDERS = social_providers()
SOCIAL_FORM_ACTION_ORIGINS = form_action_origins(SOCIALACCOUNT_PROVIDERS)
SOCIALACCOUNT_AUTO_SIGNUP = False  # always the sign-up form: age 14+ and the terms
SOCIALACCOUNT_FORMS = {"signup": "accounts.forms.SocialSignupForm"}
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never attach a social login to an existing account by email
SOCIALACCOUNT_LOGIN_ON_GET = False  # the provider buttons POST (CSRF-protected)
SOCIALACCOUNT_STORE_TOKENS = False
