"""Cheap request-time checks and normalisation of user photos (web tier: Pillow only).

The submit request does only what is cheap: the number of photos, the byte size, the format and the
pixel size read from the header (before any pixel buffer is allocated), then a real decode with Pillow
and a re-encode to a clean JPEG: upright (EXIF orientation applied), sRGB 8-bit, no EXIF/GPS, at most
``STORED_MAX_SIDE`` pixels, never stored under the client's filename.

The face checks (exactly one usable face, big enough, sharp, not in profile, eyes open; one person's
photos show one person) run later on the worker side: ``gpu_worker.checks`` on the rq queue
``check``; the job page shows each photo's verdict live. This module must never import the engine,
OpenCV, onnxruntime or MediaPipe (tests/integration/test_submit_web_tier.py)."""

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageOps

from .messages import error_message

STORED_MAX_SIDE = 2048
# A big JPEG is decoded at 1/2, 1/4 or 1/8 scale straight from the DCT when that still gives at least
# this long side: a 4032 px phone photo is stored at 2016 px, decoded ~8x faster than decoding it whole
# and resizing 4032 → 2048 (about 23 ms instead of 190 ms of the submit request on this machine).
DRAFT_MIN_SIDE = int(STORED_MAX_SIDE * 0.95)
ORDINALS = {
    1: gettext_lazy("first"), 2: gettext_lazy("second"), 3: gettext_lazy("third"),
    4: gettext_lazy("fourth"), 5: gettext_lazy("fifth"),
}
_HEIF = {"done": False}


def _register_heif() -> None:
    """Let Pillow open HEIC/HEIF (iPhone photos) when pillow-heif is installed."""
    if _HEIF["done"]:
        return
    _HEIF["done"] = True
    try:
        from pillow_heif import register_heif_opener
    except ImportError:  # pragma: no cover - optional
        return
    register_heif_opener()


@dataclass
class CheckedPhoto:
    """One photo that passed the cheap checks, as it will be stored."""

    jpeg: bytes
    width: int
    height: int
    name: str  # the client's file name, for messages only


class PhotoRejected(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    @property
    def message(self) -> str:
        return error_message(self.code)


def _ordinal(n: int) -> str:
    return str(ORDINALS.get(n, n))


def photo_label(*, person_label: str, position: int, name: str) -> str:
    """"Person A · 2nd photo (beach.jpg)" — which file of which person, in the active language."""
    return _("%(who)s's %(nth)s photo (%(name)s)") % {"who": person_label, "nth": _ordinal(position), "name": name}


def _to_rgb(im: Image.Image) -> Image.Image:
    """Any mode (palette, gray, 16-bit, CMYK, alpha) → 8-bit RGB; transparency composited over white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit / 32-bit grey: scale to 8 bits (Pillow's direct convert would clip to white).
        arr = np.asarray(im).astype(np.float64)
        top = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / 65535.0 if top > 255 else 1.0
        im = Image.fromarray(np.clip(arr * scale + 0.5, 0, 255).astype(np.uint8), "L")
    if im.mode == "RGB":
        return im  # already what is stored (no copy)
    if im.mode == "P" and "transparency" in im.info:
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    return im.convert("RGB")


def photo_normalise(data: bytes) -> tuple[bytes, int, int]:
    """Decode with Pillow (limits read from the header first) → clean upright JPEG bytes, width, height.
    Raises PhotoRejected("decode" | "too_large" | "too_small")."""
    if not data:
        raise PhotoRejected("empty")
    if len(data) > settings.UPLOAD_MAX_BYTES:
        raise PhotoRejected("too_large")
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: our own limit applies below
            im = Image.open(io.BytesIO(data))
            width, height = im.size
    except Image.DecompressionBombError:
        raise PhotoRejected("too_large") from None
    except Exception:
        raise PhotoRejected("decode") from None
    if im.format not in ("JPEG", "PNG", "WEBP", "HEIF", "HEIC", "MPO", "GIF", "BMP", "TIFF", "AVIF"):
        raise PhotoRejected("decode")  # only raster photo formats (no SVG/PDF/... reach here anyway)
    if width <= 0 or height <= 0:
        raise PhotoRejected("decode")
    if width * height > settings.UPLOAD_MAX_PIXELS:
        raise PhotoRejected("too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im.seek(0)  # animated images: the first frame
            if im.format == "JPEG" and max(width, height) > STORED_MAX_SIDE:
                # decode at 1/2, 1/4 or 1/8 scale straight from the DCT (long side >= DRAFT_MIN_SIDE)
                scale = DRAFT_MIN_SIDE / max(width, height)
                im.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            im.load()
            im = ImageOps.exif_transpose(im)
            rgb = _to_rgb(im)
    except Exception:
        raise PhotoRejected("decode") from None
    if min(rgb.size) < settings.UPLOAD_MIN_SIDE:
        raise PhotoRejected("too_small")
    if max(rgb.size) > STORED_MAX_SIDE:
        rgb.thumbnail((STORED_MAX_SIDE, STORED_MAX_SIDE), Image.Resampling.BICUBIC)  # 3x faster than Lanczos
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=93, optimize=False)  # no exif= / icc: nothing of the original kept
    return out.getvalue(), rgb.size[0], rgb.size[1]


def photo_check(upload: UploadedFile) -> CheckedPhoto:
    name = (upload.name or "photo")[:80]
    if upload.size is not None and upload.size > settings.UPLOAD_MAX_BYTES:
        raise PhotoRejected("too_large")
    upload.seek(0)
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    jpeg, width, height = photo_normalise(data)
    return CheckedPhoto(jpeg=jpeg, width=width, height=height, name=name)


def _file_error(*, field: str, index: int, message: str) -> ValidationError:
    """A per-file error; ``params`` tells the form which selected file it is (marked in place)."""
    return ValidationError(message.replace("%", "%%"), code="photo", params={"field": field, "index": index})


def photos_check(
    *, photos: list[UploadedFile], plan: str, label: str, field: str = ""
) -> tuple[list[CheckedPhoto], list[ValidationError]]:
    """The cheap checks on one person's photos; returns the good ones and per-file errors (each names
    the file and the person, and carries the file's index in ``params``)."""
    low, high = settings.PLAN_PHOTO_LIMITS[plan]
    errors: list[ValidationError] = []
    if not (low <= len(photos) <= high):
        if low == high:
            msg = _("%(who)s: please upload exactly %(n)d photo.") % {"who": label, "n": low}
        else:
            msg = _("%(who)s: please upload %(low)d to %(high)d photos.") % {"who": label, "low": low, "high": high}
        return [], [ValidationError(msg.replace("%", "%%"), code="count")]
    checked: list[CheckedPhoto] = []
    for index, upload in enumerate(photos):
        name = (upload.name or "photo")[:80]
        try:
            checked.append(photo_check(upload))
        except PhotoRejected as exc:
            if exc.code == "empty":
                msg = _("%(photo)s is empty (0 bytes). Please choose the photo again.") % {
                    "photo": photo_label(person_label=label, position=index + 1, name=name)
                }
            else:
                msg = f"{photo_label(person_label=label, position=index + 1, name=name)}: {exc.message}"
            errors.append(_file_error(field=field, index=index, message=msg))
    return checked, errors
