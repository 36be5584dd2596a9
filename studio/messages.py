"""Error codes the engine and services use, and the sentence a user reads for each.

Codes are stored on the Job; the sentence is rendered in the *viewer's* language when shown
(Korean translations in locale/ko)."""

from django.utils.translation import gettext_lazy as _

ERROR_MESSAGES = {
    "decode": _("This file could not be read as a photo. Please upload a JPEG, PNG, WebP or HEIC photo."),
    "too_large": _("This photo is too large. Please use a photo under 40 megapixels and 15 MB."),
    "too_small": _("This photo is too small. Please use a photo at least 128 pixels on each side."),
    "no_face": _("We could not find a face in this photo. Please use a clear, front-facing photo."),
    "multiple_faces": _(
        "This photo shows more than one face and we can't tell which one is you. "
        "Please upload a photo with only your face, or crop it to your face."
    ),
    "face_too_small": _(
        "Your face is too small in this photo. Please use a closer photo "
        "(at least 80 pixels between the eyes)."
    ),
    "blurry": _("This photo is blurred. Please use a sharp photo, in focus and without motion blur."),
    "profile": _("Your head is turned too far to the side. Please use a photo looking at the camera."),
    "eyes_closed": _("Your eyes are closed in this photo. Please use a photo with your eyes open."),
    "overexposed": _(
        "Your face is washed out by light in this photo (too bright, or a flash). "
        "Please use a photo taken in softer, even light."
    ),
    "no_colour": _(
        "This looks like a black-and-white photo. Please use a colour photo, so your skin tone comes out right."
    ),
    "too_dark": _("This photo is too dark to see your face clearly. Please use a brighter photo, facing the light."),
    "occluded": _(
        "Something covers part of your face in this photo (hair, a hand, a microphone or sunglasses). "
        "Please use a photo where your face is clearly visible from the eyebrows to the chin."
    ),
    "not_same_person": _(
        "This photo does not look like the same person as the other photos. "
        "Please upload photos of one person only."
    ),
    "screened": _("This photo cannot be used. Please choose another photo."),
    "scene_faces": _("The chosen concept's scene could not be prepared. Please pick another concept."),
    "missing_photo": _("A photo for this job is missing. Please upload your photos again."),
    "model_missing": _("Our studio is being updated right now. Please try again in a few minutes."),
    "internal": _("Something went wrong while making your photo. Please try again."),
    "timeout": _("Making your photo took too long. Please try again."),
}

# Non-blocking notes about an accepted photo; %(where)s is one of POSITIONS.
NOTE_MESSAGES = {
    "multiple_faces_used": _("This photo shows more than one face; we used the largest one (%(where)s)."),
    "hair_over_brows": _(
        "Hair covers the eyebrows in this photo, so the couple photo keeps the scene's forehead and "
        "eyebrows and looks less like you. A photo with the forehead clear gives a closer likeness."
    ),
}
POSITIONS = {"left": _("on the left"), "center": _("in the middle"), "right": _("on the right")}


def error_message(code: str) -> str:
    return str(ERROR_MESSAGES.get(code, ERROR_MESSAGES["internal"]))


def note_message(code: str, *, position: str | None = None) -> str:
    where = str(POSITIONS[position]) if position in POSITIONS else "?"
    return str(NOTE_MESSAGES[code]) % {"where": where}
