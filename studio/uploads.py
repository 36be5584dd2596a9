"""Validating and normalising user photos before a job is queued.

Each photo is really decoded (size and pixel limits checked before decoding), must pass the engine's
quality gate (exactly one usable face, big enough, sharp, not in profile, eyes open: see
``engine.gate``), and is stored re-encoded as a clean JPEG: upright, no EXIF/GPS, never
under the client's filename. One person's photos must also show the same person (SFace, mean
identity). ``settings.UPLOAD_MIN_EYE_DISTANCE`` sets the smallest face accepted (eye-centre distance in px
of the stored photo): 80 px in the product (``gate.MIN_EYE_DISTANCE``)."""

import threading
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

from engine import EngineError, Face, decode_image, encode_jpeg, get_engine
from engine.gate import check_photo, same_person_check
from engine.io import resize_max

from .messages import error_message, note_message

STORED_MAX_SIDE = 2048
# OpenCV's DNN nets and MediaPipe's graphs are not thread-safe, and Django runs each ASGI request's
# sync view in its own thread: one process-wide engine, used by one upload check at a time.
ENGINE_LOCK = threading.Lock()


@dataclass
class CheckedPhoto:
    jpeg: bytes
    width: int
    height: int
    faces: int
    notes: list[str] = field(default_factory=list)  # sentences about an accepted photo (e.g. which face)
    face: Face | None = field(default=None, repr=False)
    image: np.ndarray | None = field(default=None, repr=False, compare=False)


class PhotoRejected(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return error_message(self.code)


def photo_check(upload: UploadedFile) -> CheckedPhoto:
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise PhotoRejected("too_large")
    upload.seek(0)
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise PhotoRejected("too_large")
    if not data:
        raise PhotoRejected("decode")
    try:
        img = decode_image(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    except EngineError as exc:
        raise PhotoRejected(exc.code if exc.code in ("decode", "too_large") else "decode") from exc
    height, width = img.shape[:2]
    if min(height, width) < settings.UPLOAD_MIN_SIDE:
        raise PhotoRejected("too_small")
    img, _scale = resize_max(img, STORED_MAX_SIDE)
    with ENGINE_LOCK:
        gate = check_photo(get_engine(), img, min_eye_distance=float(settings.UPLOAD_MIN_EYE_DISTANCE))
    if not gate.ok:
        raise PhotoRejected(gate.code)
    notes = [note_message(code, position=gate.position) for code in gate.notes]
    return CheckedPhoto(jpeg=encode_jpeg(img, quality=93), width=img.shape[1], height=img.shape[0],
                        faces=gate.faces, notes=notes, face=gate.face, image=img)


def photos_check(*, photos: list[UploadedFile], plan: str, label: str) -> tuple[list[CheckedPhoto], list[str]]:
    """Check one person's photos; returns the good ones and per-file messages for the bad ones."""
    low, high = settings.PLAN_PHOTO_LIMITS[plan]
    errors: list[str] = []
    if not (low <= len(photos) <= high):
        if low == high:
            errors.append(_("%(who)s: please upload exactly %(n)d photo.") % {"who": label, "n": low})
        else:
            errors.append(
                _("%(who)s: please upload %(low)d to %(high)d photos.") % {"who": label, "low": low, "high": high}
            )
        return [], errors
    checked: list[CheckedPhoto] = []
    for upload in photos:
        try:
            checked.append(photo_check(upload))
        except PhotoRejected as exc:
            name = (upload.name or "photo")[:80]
            errors.append(f"{label} · {name}: {exc.message}")
    if not errors and len(checked) >= 2:
        with ENGINE_LOCK:
            mismatched = same_person_check(get_engine(), [c.image for c in checked], [c.face for c in checked])
        for i in mismatched:
            name = (photos[i].name or "photo")[:80]
            errors.append(f"{label} · {name}: {error_message('not_same_person')}")
    for c in checked:
        c.image = None  # don't keep decoded pixels around once the checks are done
    return checked, errors
