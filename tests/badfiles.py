"""A corpus of malformed, hostile and awkward upload files, built from the test portraits.

Each entry: (name, filename to upload as, bytes, expectation) where expectation is "ok" (a real
photo with a face: must be accepted and stored as a clean JPEG), "reject" (a clear 400-class
answer naming the file) or "check" (a real photo that is stored, then refused by the photo check on
the worker side: no usable face)."""

import io
import struct
import zlib

import numpy as np
from PIL import Image

from tests.builders import portrait_bytes


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(portrait_bytes("grace_hopper.jpg"))
    i = 2
    while i < len(data):
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            data[i + 5:i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length
    raise AssertionError("no SOF marker")


def _pil(img: Image.Image, fmt: str, **kw) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **kw)
    return out.getvalue()


def _portrait(name: str = "grace_hopper.jpg") -> Image.Image:
    return Image.open(io.BytesIO(portrait_bytes(name))).convert("RGB")


def _with_orientation(img: Image.Image, orientation: int) -> bytes:
    """Store the pixels so that applying EXIF `orientation` shows the upright portrait."""
    inverse = {
        1: lambda i: i,
        2: lambda i: i.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
        3: lambda i: i.transpose(Image.Transpose.ROTATE_180),
        4: lambda i: i.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
        5: lambda i: i.transpose(Image.Transpose.TRANSPOSE),
        6: lambda i: i.transpose(Image.Transpose.ROTATE_90),
        7: lambda i: i.transpose(Image.Transpose.TRANSVERSE),
        8: lambda i: i.transpose(Image.Transpose.ROTATE_270),
    }[orientation](img)
    exif = Image.Exif()
    exif[0x0112] = orientation
    return _pil(inverse, "JPEG", quality=90, exif=exif.tobytes())


def corpus() -> list[tuple[str, str, bytes, str]]:
    jpeg = portrait_bytes("grace_hopper.jpg")
    png = portrait_bytes("astronaut.png")
    face = _portrait()
    items: list[tuple[str, str, bytes, str]] = [
        ("empty", "empty.jpg", b"", "reject"),
        ("one-byte", "x.jpg", b"\xff", "reject"),
        ("jpeg-magic-only", "magic.jpg", b"\xff\xd8\xff\xe0", "reject"),
        ("truncated-jpeg-1k", "cut.jpg", jpeg[:1000], "reject"),
        ("truncated-png-half", "cut.png", png[: len(png) // 2], "reject"),
        ("png-signature-only", "sig.png", png[:8], "reject"),
        ("png-bomb-30000", "bomb.png", _png_claiming(30000, 30000), "reject"),
        ("png-bomb-wide", "wide.png", _png_claiming(200000, 300), "reject"),
        ("jpeg-header-30000", "huge.jpg", _jpeg_claiming(30000, 30000), "reject"),
        ("gif-header-only", "x.gif", b"GIF89a", "reject"),
        ("svg", "face.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "reject"),
        ("svg-as-jpg", "face.jpg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "reject"),
        ("html-as-jpg", "index.jpg", b"<html><script>alert(document.cookie)</script></html>", "reject"),
        ("pdf", "doc.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF", "reject"),
        ("zip", "a.zip", b"PK\x03\x04" + b"\x00" * 100, "reject"),
        ("elf", "a.jpg", b"\x7fELF" + bytes(range(256)) * 4, "reject"),
        ("random-bytes", "noise.jpg", np.random.default_rng(1).integers(0, 256, 50_000, np.uint8).tobytes(),
         "reject"),
        ("text", "notes.jpg", "사진이 아니에요".encode() * 100, "reject"),
        ("tiny-1x1", "dot.png", _pil(Image.new("RGB", (1, 1)), "PNG"), "reject"),
        ("zero-size-face-20px", "small.jpg", _pil(face.resize((20, 24)), "JPEG"), "reject"),
        ("small-face-far-away", "far.jpg", _pil(_far_away(face), "JPEG"), "check"),
        ("no-face-wall", "wall.jpg", _pil(Image.new("RGB", (640, 480), (200, 190, 180)), "JPEG"), "check"),
        # real photos in awkward shapes: must be accepted
        ("png-named-jpg", "really-png.jpg", png, "ok"),
        ("jpeg-named-png", "really-jpeg.png", jpeg, "ok"),
        ("no-extension", "photo", jpeg, "ok"),
        ("path-traversal-name", "../../../etc/passwd.jpg", jpeg, "ok"),
        ("long-unicode-name", ("셀카" * 120) + ".jpg", jpeg, "ok"),
        ("polyglot-jpeg-html", "poly.jpg", jpeg + b"<html><script>alert(1)</script></html>", "ok"),
        ("cmyk-jpeg", "cmyk.jpg", _pil(face.convert("CMYK"), "JPEG"), "ok"),
        ("grayscale-jpeg", "gray.jpg", _pil(face.convert("L"), "JPEG"), "ok"),
        ("png-16bit", "deep.png", _png16(face), "ok"),
        ("png-alpha", "alpha.png", _pil(_with_alpha(face), "PNG"), "ok"),
        ("png-palette", "palette.png", _pil(face.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"), "ok"),
        ("rgba-32bit-png", "32bit.png", portrait_bytes("32bit.png"), "ok"),
        ("webp", "selfie.webp", _pil(face, "WEBP", quality=90), "ok"),
        ("animated-gif", "anim.gif", _animated(face, "GIF"), "ok"),
        ("animated-webp", "anim.webp", _animated(face, "WEBP"), "ok"),
        ("bmp", "selfie.bmp", _pil(face, "BMP"), "ok"),
        ("tiff", "selfie.tiff", _pil(face, "TIFF"), "ok"),
        ("giant-exif", "exif.jpg", _giant_exif(face), "ok"),
    ]
    items += [(f"exif-orientation-{o}", f"orient{o}.jpg", _with_orientation(face, o), "ok") for o in range(1, 9)]
    heic = _heic(face)
    if heic is not None:
        items.append(("heic", "iphone.heic", heic, "ok"))
    return items


def _far_away(face: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", (1600, 1200), (235, 230, 220))
    canvas.paste(face.resize((face.width // 6, face.height // 6)), (700, 500))
    return canvas


def _with_alpha(face: Image.Image) -> Image.Image:
    rgba = face.convert("RGBA")
    alpha = Image.new("L", face.size, 255)
    alpha.paste(0, (0, 0, face.width // 8, face.height))  # a transparent strip at the left
    rgba.putalpha(alpha)
    return rgba


def _png16(face: Image.Image) -> bytes:
    import cv2

    arr = cv2.cvtColor(np.asarray(face), cv2.COLOR_RGB2BGR).astype(np.uint16) * 257
    ok, buf = cv2.imencode(".png", arr)
    assert ok
    return buf.tobytes()


def _animated(face: Image.Image, fmt: str) -> bytes:
    frames = [face, face.transpose(Image.Transpose.FLIP_LEFT_RIGHT), face]
    return _pil(frames[0], fmt, save_all=True, append_images=frames[1:], duration=200, loop=0)


def _giant_exif(face: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x010E] = "x" * 60_000  # ImageDescription, ~60 KB (a JPEG APP1 segment holds at most 64 KB)
    exif[0x0112] = 1
    return _pil(face, "JPEG", quality=90, exif=exif.tobytes())


def _heic(face: Image.Image) -> bytes | None:
    try:
        import pillow_heif
    except ImportError:
        return None
    pillow_heif.register_heif_opener()
    try:
        return _pil(face, "HEIF", quality=80)
    except Exception:
        return None
