"""allauth adapter: the site login goes through the shared login throttle (accounts/throttle.py)."""

from allauth.account.adapter import DefaultAccountAdapter
from django import forms

from .throttle import LoginThrottled, login_failure_record, login_success_record, login_throttle_check


def _login_of(credentials) -> str:
    return str(credentials.get("email") or credentials.get("username") or "")


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request, **credentials) -> None:
        super().pre_authenticate(request, **credentials)  # allauth's own per-IP limit (conference hall)
        try:
            login_throttle_check(request=request, login=_login_of(credentials))
        except LoginThrottled as exc:
            raise forms.ValidationError(exc.message, code="too_many_login_attempts") from exc

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            login_success_record(request=request, login=_login_of(credentials))
        return user

    def authentication_failed(self, request, **credentials) -> None:
        login_failure_record(request=request, login=_login_of(credentials))
