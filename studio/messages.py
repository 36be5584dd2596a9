"""Error codes the engine and services use, and the sentence a user reads for each.

Codes are stored on the Job; the sentence is rendered in the *viewer's* language when shown."""

from django.utils.translation import gettext_lazy as _

ERROR_MESSAGES = {
    "decode": _("This file could not be read as a photo. Please upload a JPEG, PNG, WebP or HEIC photo."),
    "too_large": _("This photo is too large. Please use a photo under 40 megapixels and 15 MB."),
    "too_small": _("This photo is too small. Please use a photo at least 128 pixels on each side."),
    "no_face": _("We could not find a face in this photo. Please use a clear, front-facing photo."),
    "scene_faces": _("The chosen concept's scene could not be prepared. Please pick another concept."),
    "missing_photo": _("A photo for this job is missing. Please upload your photos again."),
    "internal": _("Something went wrong while making your photo. Please try again."),
    "timeout": _("Making your photo took too long. Please try again."),
}


def error_message(code: str) -> str:
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["internal"]))
