from allauth.account.forms import LoginForm as AllauthLoginForm
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.socialaccount.forms import SignupForm as AllauthSocialSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

from .services import user_confirm_age

FRIENDLY_REQUIRED = {
    "email": _("Please enter your email address."),
    "login": _("Please enter your email address."),
    "password": _("Please enter your password."),
    "password1": _("Please choose a password."),
    "password2": _("Please type the password again."),
}


class FriendlyMessagesMixin:
    """Replace Django's stock "This field is required." with a sentence that names the field."""

    def _friendly(self) -> None:
        stock = str(forms.Field.default_error_messages["required"])
        for name, field in self.fields.items():
            if str(field.error_messages.get("required", "")) != stock:
                continue  # the field already has its own sentence
            field.error_messages["required"] = FRIENDLY_REQUIRED.get(name) or (
                _("Please fill in “%(label)s”.") % {"label": field.label or name}
            )


class SignupTermsMixin(forms.Form):
    """The two explicit, required sign-up checkboxes: age 14+ (Korea's PIPA) and the terms + policy."""

    age_confirmed = forms.BooleanField(
        label=_("I am 14 years old or older."),
        error_messages={"required": _("You must be 14 or older to use LoveLoveShot.")},
    )
    terms_accepted = forms.BooleanField(
        label=_("I have read and accept the upload terms and the privacy policy."),
        error_messages={"required": _("Please read and accept the upload terms and the privacy policy.")},
    )


class SignupForm(FriendlyMessagesMixin, SignupTermsMixin, AllauthSignupForm):
    """allauth's email sign-up plus the required age confirmation and terms acceptance."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._friendly()

    def save(self, request):
        user = super().save(request)
        return user_confirm_age(user=user)


class SocialSignupForm(FriendlyMessagesMixin, SignupTermsMixin, AllauthSocialSignupForm):
    """Kakao / Naver / Google sign-up: the same age and terms checkboxes as the email sign-up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._friendly()

    def save(self, request):
        user = super().save(request)
        return user_confirm_age(user=user)


class LoginForm(FriendlyMessagesMixin, AllauthLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._friendly()


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Please enter your password.")},
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


class UpgradeCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Upgrade code"),
        max_length=32,
        error_messages={"required": _("Please enter the code you were given.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                                      "placeholder": "ABCD-EFGH-JKLM"}),
    )
