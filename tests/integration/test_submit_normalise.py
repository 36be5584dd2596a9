"""The submit's own photo work (studio/uploads.py, web tier, Pillow only): a phone-size JPEG is decoded
at a DCT scale (not whole, then resized) and still stored upright, without EXIF, between
DRAFT_MIN_SIDE and STORED_MAX_SIDE pixels on its long side; a photo a little over the limit is resized
down to it."""

import io

import numpy as np
from PIL import Image

from studio.uploads import DRAFT_MIN_SIDE, STORED_MAX_SIDE, photo_normalise
from tests.badfiles import _with_orientation
from tests.conftest import faces_dir


def _stored(data: bytes) -> Image.Image:
    jpeg, width, height = photo_normalise(data)
    image = Image.open(io.BytesIO(jpeg))
    assert image.format == "JPEG" and image.size == (width, height)
    assert b"Exif\x00\x00" not in jpeg[:4096] and not image.getexif()
    return image


def test_phone_photo_is_decoded_at_half_scale_and_stored_upright():
    face = Image.open(faces_dir() / "grace_hopper.jpg").convert("RGB").resize((3024, 4032), Image.Resampling.BICUBIC)
    # taken with the phone held upright: landscape pixels + EXIF orientation 6, like a 12 MP camera
    stored = _stored(_with_orientation(face, 6))
    assert stored.size == (1512, 2016)  # 1/2 of 3024 x 4032 straight from the DCT, upright
    assert DRAFT_MIN_SIDE <= max(stored.size) <= STORED_MAX_SIDE
    reference = np.asarray(face.resize(stored.size, Image.Resampling.BICUBIC), dtype=np.int16)
    assert np.abs(np.asarray(stored.convert("RGB"), dtype=np.int16) - reference).mean() < 6


def test_photo_a_little_over_the_limit_is_resized_to_it():
    data = (faces_dir() / "biden.jpg").read_bytes()  # 970 x 2204: half scale would be far too small
    stored = _stored(data)
    assert stored.size == (901, 2048)


def test_photo_under_the_limit_keeps_its_size():
    stored = _stored((faces_dir() / "obama.jpg").read_bytes())
    assert stored.size == (910, 1137)
