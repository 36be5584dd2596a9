"""Error codes the engine and services use, and the sentence a user reads for each.

Codes are stored on the Job; the sentence is rendered in the *viewer's* language when shown.
Korean is the default language: when the compiled catalogue has no Korean sentence for a code yet,
the Korean text below is used instead of falling back to English."""

from django.utils.translation import get_language
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
    "not_same_person": _(
        "This photo does not look like the same person as the other photos. "
        "Please upload photos of one person only."
    ),
    "scene_faces": _("The chosen concept's scene could not be prepared. Please pick another concept."),
    "missing_photo": _("A photo for this job is missing. Please upload your photos again."),
    "internal": _("Something went wrong while making your photo. Please try again."),
    "timeout": _("Making your photo took too long. Please try again."),
}

# Non-blocking notes about an accepted photo; %(where)s is one of POSITIONS.
NOTE_MESSAGES = {
    "multiple_faces_used": _("This photo shows more than one face; we used the largest one (%(where)s)."),
}
POSITIONS = {"left": _("on the left"), "center": _("in the middle"), "right": _("on the right")}

# Korean sentences for codes the compiled catalogue may not have yet (kept in step with the above).
KO_FALLBACK = {
    "multiple_faces": (
        "사진에 얼굴이 여러 개 있어 어느 분인지 알 수 없어요. "
        "본인 얼굴만 나온 사진을 올리거나 얼굴만 보이게 잘라 주세요."
    ),
    "face_too_small": "사진 속 얼굴이 너무 작아요. 더 가까이에서 찍은 사진을 사용해 주세요 (두 눈 사이가 80픽셀 이상).",
    "blurry": "사진이 흐려요. 초점이 맞고 흔들리지 않은 선명한 사진을 사용해 주세요.",
    "profile": "얼굴이 옆으로 너무 돌아가 있어요. 카메라를 바라보는 사진을 사용해 주세요.",
    "eyes_closed": "사진 속 눈이 감겨 있어요. 눈을 뜬 사진을 사용해 주세요.",
    "not_same_person": "이 사진은 다른 사진들과 같은 사람으로 보이지 않아요. 한 사람의 사진만 올려 주세요.",
    "multiple_faces_used": "사진에 얼굴이 여러 개 있어 가장 큰 얼굴(%(where)s)을 사용했어요.",
    "left": "왼쪽",
    "center": "가운데",
    "right": "오른쪽",
}


def _korean(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


def _localised(key: str, msg) -> str:
    text = str(msg)
    if (get_language() or "").startswith("ko") and not _korean(text) and key in KO_FALLBACK:
        return KO_FALLBACK[key]
    return text


def error_message(code: str) -> str:
    if code not in ERROR_MESSAGES:
        code = "internal"
    return _localised(code, ERROR_MESSAGES[code])


def note_message(code: str, *, position: str | None = None) -> str:
    where = _localised(position, POSITIONS[position]) if position in POSITIONS else "?"
    return _localised(code, NOTE_MESSAGES[code]) % {"where": where}
