"""decode_image / encode_jpeg / resize_max."""

from __future__ import annotations

import io
import resource
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from engine import ImageDecodeError, decode_image, encode_jpeg, resize_max

from .conftest import PORTRAITS, load_portrait, portrait_path


@pytest.mark.parametrize("name", PORTRAITS)
def test_decode_portraits(name):
    img = decode_image(portrait_path(name).read_bytes())
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    with Image.open(portrait_path(name)) as im:
        assert img.shape[:2] == (im.height, im.width)


def test_rgba_png_is_composited_to_bgr():
    data = portrait_path("32bit.png").read_bytes()
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "RGBA"
        rgba = np.asarray(im.convert("RGBA")).astype(np.float32)
    img = decode_image(data)
    a = rgba[..., 3:4] / 255.0
    expected = rgba[..., :3] * a + 255.0 * (1 - a)
    assert np.abs(img[..., ::-1].astype(np.float32) - expected).max() <= 1.0


def _jpeg_bytes(rgb: np.ndarray, orientation: int | None = None) -> bytes:
    im = Image.fromarray(rgb)
    buf = io.BytesIO()
    kw = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif.tobytes()
    im.save(buf, "JPEG", quality=95, **kw)
    return buf.getvalue()


def test_exif_orientation_6_decodes_upright():
    upright = load_portrait("grace_hopper.jpg")[..., ::-1].copy()  # RGB
    # Orientation 6 = "rotate 90° clockwise to display": store the picture rotated counter-clockwise.
    stored = np.ascontiguousarray(np.rot90(upright, k=1))
    data = _jpeg_bytes(stored, orientation=6)
    img = decode_image(data)
    assert img.shape[:2] == upright.shape[:2]
    diff = np.abs(img[..., ::-1].astype(np.int16) - upright.astype(np.int16)).mean()
    assert diff < 4.0, diff
    # Sanity: ignoring the tag would give the sideways picture.
    raw = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    assert raw.shape[:2] == stored.shape[:2] != upright.shape[:2]


def test_grayscale_and_16bit_png():
    gray = cv2.cvtColor(load_portrait("astronaut.png"), cv2.COLOR_BGR2GRAY)
    ok, buf = cv2.imencode(".png", gray)
    img = decode_image(buf.tobytes())
    assert img.shape == gray.shape + (3,) and img.dtype == np.uint8
    assert np.array_equal(img[..., 0], gray)

    bgr16 = load_portrait("astronaut.png").astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", bgr16)
    img = decode_image(buf.tobytes())
    assert img.dtype == np.uint8 and img.shape == bgr16.shape
    assert np.abs(img.astype(int) - load_portrait("astronaut.png").astype(int)).max() <= 1

    bgra16 = np.dstack([bgr16, np.full(bgr16.shape[:2], 65535, np.uint16)])
    ok, buf = cv2.imencode(".png", bgra16)
    img = decode_image(buf.tobytes())
    assert img.dtype == np.uint8 and img.shape == bgr16.shape
    assert np.abs(img.astype(int) - load_portrait("astronaut.png").astype(int)).max() <= 1


@pytest.mark.parametrize("data", [b"", b"not an image at all" * 50, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
                                  b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4])
def test_garbage_is_decode_error(data):
    with pytest.raises(ImageDecodeError) as ei:
        decode_image(data)
    assert ei.value.code == "decode"


def _png_claiming(width: int, height: int) -> bytes:
    """A real 8x8 PNG whose IHDR (with a valid CRC) claims ``width`` x ``height``."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 100, 50)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    assert data[12:16] == b"IHDR"
    data[16:20] = struct.pack(">I", width)
    data[20:24] = struct.pack(">I", height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


@pytest.mark.parametrize("w,h", [(30000, 30000), (8000, 6000)])
def test_decompression_bomb_refused_before_decoding(w, h):
    data = _png_claiming(w, h)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(ImageDecodeError) as ei:
        decode_image(data)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert ei.value.code == "too_large"
    assert (after - before) < 200 * 1024  # a full decode would need >= 144 MB (8000x6000x3)


def test_max_pixels_is_configurable():
    data = portrait_path("astronaut.png").read_bytes()  # 512x512
    with pytest.raises(ImageDecodeError) as ei:
        decode_image(data, max_pixels=512 * 511)
    assert ei.value.code == "too_large" and ei.value.detail["width"] == 512
    assert decode_image(data, max_pixels=512 * 512).shape == (512, 512, 3)


def test_encode_jpeg_roundtrip_and_resize_max():
    img = load_portrait("obama.jpg")
    data = encode_jpeg(img, quality=90)
    assert data[:2] == b"\xff\xd8"
    back = decode_image(data)
    assert back.shape == img.shape
    assert np.abs(back.astype(int) - img.astype(int)).mean() < 3

    small, s = resize_max(img, 500)
    assert max(small.shape[:2]) == 500 and s == pytest.approx(500 / max(img.shape[:2]))
    same, s1 = resize_max(img, 5000)
    assert same is img and s1 == 1.0
