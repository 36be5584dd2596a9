from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

from .services import user_confirm_age


class SignupForm(AllauthSignupForm):
    """allauth's email sign-up plus a required age confirmation (14+, Korea's PIPA)."""

    age_confirmed = forms.BooleanField(
        label=_("I am 14 years old or older."),
        error_messages={"required": _("You must be 14 or older to use LoveLoveShot.")},
    )

    def save(self, request):
        user = super().save(request)
        return user_confirm_age(user=user)


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirm = forms.BooleanField(
        label=_("I understand that all our photos, jobs and uploads are deleted for good."),
        error_messages={"required": _("Please confirm that you want to delete everything.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("That password is not right."))
        return password
