from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Report
from .services import SHARE_DAYS_CHOICES, SHARE_DAYS_DEFAULT

REASON_CHOICES = [("", _("Choose a reason…")), *Report.Reason.choices]


class ReportForm(forms.Form):
    """The owner's report: the reason has no default (an untouched submit files nothing)."""

    reason = forms.ChoiceField(
        label=_("What is wrong with this photo?"),
        choices=REASON_CHOICES,
        error_messages={
            "required": _("Please choose what is wrong with this photo."),
            "invalid_choice": _("Please choose one of the reasons in the list."),
        },
    )
    text = forms.CharField(
        label=_("Details (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Please keep the details under 2,000 characters.")},
    )


class RemovalRequestForm(forms.Form):
    """Anyone pictured in a photo asks for its removal: the code from the label, a reason, a contact."""

    code = forms.CharField(
        label=_("Photo code"),
        max_length=40,
        help_text=_("The 8-character code in the photo's corner label (after “AI 합성 ·” or “AI-edited ·”) or "
                    "in its metadata, e.g. 7KQ3M0ZD."),
        error_messages={"required": _("Please enter the photo code from the label.")},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    reason = forms.ChoiceField(
        label=_("Why should it be removed?"),
        choices=REASON_CHOICES,
        error_messages={
            "required": _("Please choose a reason."),
            "invalid_choice": _("Please choose one of the reasons in the list."),
        },
    )
    text = forms.CharField(
        label=_("Details (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Please keep the details under 2,000 characters.")},
    )
    contact = forms.CharField(
        label=_("How can we reach you?"),
        max_length=200,
        help_text=_("An email address or phone number, only used to tell you what we did."),
        error_messages={"required": _("Please leave an email address or phone number so we can answer you.")},
        widget=forms.TextInput(attrs={"autocomplete": "email"}),
    )

    def clean_code(self) -> str:
        from .codes import normalise

        code = normalise(self.cleaned_data["code"])
        if code is None:
            raise forms.ValidationError(_("A photo code has 8 letters and digits, like 7KQ3M0ZD."))
        return code


class ShareLinkForm(forms.Form):
    days = forms.TypedChoiceField(
        label=_("Link works for"),
        coerce=int,
        initial=SHARE_DAYS_DEFAULT,
        choices=[
            (1, _("1 day")),
            (7, _("7 days")),
            (30, _("30 days")),
        ],
        error_messages={"required": _("Please choose how long the link should work.")},
    )


assert {c for c, _label in ShareLinkForm.base_fields["days"].choices} == set(SHARE_DAYS_CHOICES)
