from django import forms
from django.utils.translation import gettext_lazy as _

from gallery.models import Concept


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = [d for d in (data if isinstance(data, (list, tuple)) else [data]) if d]
        if not files:
            super().clean(None, initial)  # "Please add a photo of Person A." when required
            return []
        # An empty (0-byte) file passes here: studio.uploads names it and its person in the message
        # ("Person A's second photo (x.jpg) is empty"), instead of Django's anonymous sentence.
        return [d if getattr(d, "size", None) == 0 else super(MultipleFileField, self).clean(d, initial) for d in files]


class JobForm(forms.Form):
    concept = forms.ModelChoiceField(
        queryset=Concept.objects.filter(is_published=True),
        to_field_name="slug",
        empty_label=None,
        label=_("Concept"),
        error_messages={"invalid_choice": _("This concept is not available. Please pick another one.")},
    )
    photos_a = MultipleFileField(
        label=_("Person A"),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}),
        error_messages={"required": _("Please add a photo of Person A.")},
    )
    photos_b = MultipleFileField(
        label=_("Person B"),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,image/heic,image/heif"}),
        error_messages={"required": _("Please add a photo of Person B.")},
    )
    swap_slots = forms.BooleanField(
        required=False,
        label=_("Swap places: put Person A where the scene has Person B, and Person B where it has Person A."),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree to the upload terms: our photos are used only to make these couple photos "
            "and are deleted right after."
        ),
        error_messages={"required": _("Please accept the upload terms.")},
    )
    partner_consent = forms.BooleanField(
        label=_("Person B agreed to upload their photo."),
        error_messages={"required": _("Please confirm Person B agreed.")},
    )
