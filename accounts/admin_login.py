"""The admin login form behind the same throttle as the site login (accounts/throttle.py)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm

from .throttle import LoginThrottled, login_failure_record, login_success_record, login_throttle_check


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    def clean(self):
        login = self.cleaned_data.get("username") or ""
        if login and self.cleaned_data.get("password"):
            try:
                login_throttle_check(request=self.request, login=login)
            except LoginThrottled as exc:
                raise forms.ValidationError(exc.message, code="too_many_login_attempts") from exc
        try:
            cleaned = super().clean()
        except forms.ValidationError as exc:
            if login and self.get_user() is None and exc.code == "invalid_login":
                login_failure_record(request=self.request, login=login)
            raise
        login_success_record(request=self.request, login=login)
        return cleaned
