"""Image bytes <-> BGR uint8 arrays, with a decompression-bomb guard."""

from __future__ import annotations

import io as _io
import warnings

import cv2
import numpy as np

from .types import ImageDecodeError

DEFAULT_MAX_PIXELS = 40_000_000


_HEIF_REGISTERED = False


def _register_heif() -> None:
    """Let Pillow open HEIC/HEIF (iPhone photos) when pillow-heif is installed."""
    global _HEIF_REGISTERED
    if not _HEIF_REGISTERED:
        _HEIF_REGISTERED = True
        try:
            from pillow_heif import register_heif_opener
        except ImportError:  # pragma: no cover - optional
            return
        register_heif_opener()


def _header_size(data: bytes) -> tuple[int, int, object] | None:
    """(width, height, lazily opened PIL image) from the header only, or None if PIL can't tell.

    ``Image.open`` only parses the header; no pixel buffer is allocated.
    """
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow is a base requirement
        return None
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning: we apply our own limit
            im = Image.open(_io.BytesIO(data))
        w, h = im.size
        return int(w), int(h), im
    except Image.DecompressionBombError as exc:
        # Pillow refuses > 2x its own MAX_IMAGE_PIXELS at open time: definitely too large.
        raise ImageDecodeError("too_large", "image is too large", {"reason": str(exc)}) from None
    except Exception:
        return None


def to_bgr_u8(img: np.ndarray) -> np.ndarray:
    """Normalise any cv2-style array (gray, BGRA, 16-bit, float) to 3-channel BGR uint8."""
    img = np.asarray(img)
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype in (np.float32, np.float64):
        scale = 255.0 if img.size and float(np.nanmax(img)) <= 1.0 else 1.0
        img = np.clip(np.nan_to_num(img) * scale, 0, 255).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.ndim == 3 and img.shape[2] == 1:
        return cv2.cvtColor(img[:, :, 0], cv2.COLOR_GRAY2BGR)
    if img.ndim == 3 and img.shape[2] == 4:
        # Composite over white so transparent regions don't turn into garbage colours.
        a = img[:, :, 3:4].astype(np.float32) / 255.0
        rgb = img[:, :, :3].astype(np.float32)
        return np.clip(rgb * a + 255.0 * (1.0 - a) + 0.5, 0, 255).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 3:
        return np.ascontiguousarray(img)
    raise ImageDecodeError("decode", f"unsupported image shape {img.shape}")


def _pil_has_alpha(im) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info)


def _decode_with_pil(im) -> np.ndarray:
    from PIL import ImageOps

    im = ImageOps.exif_transpose(im)
    if _pil_has_alpha(im):
        arr = np.asarray(im.convert("RGBA"))
        bgra = cv2.cvtColor(arr, cv2.COLOR_RGBA2BGRA)
        return to_bgr_u8(bgra)
    arr = np.asarray(im.convert("RGB"))
    return cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode uploaded bytes into an upright BGR uint8 (H, W, 3) array.

    * EXIF orientation is applied (cv2 ``IMREAD_COLOR`` honours it; PIL fallback uses ``exif_transpose``).
    * Grayscale, palette, 16-bit and alpha images are converted (alpha composited over white).
    * The pixel count is read from the header before decoding: more than ``max_pixels``
      raises ``ImageDecodeError("too_large")`` without allocating the pixel buffer.
    * Anything undecodable raises ``ImageDecodeError("decode")``.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) == 0:
        raise ImageDecodeError("decode", "empty or non-bytes input")
    data = bytes(data)
    header = _header_size(data)
    if header is None:
        # Only formats whose size can be read before decoding are accepted (bomb guard): this also
        # refuses SVG/HTML/PDF and anything else that is not a raster photo.
        raise ImageDecodeError("decode", "not a recognised image format")
    pil_im = None
    if header is not None:
        w, h, pil_im = header
        if w <= 0 or h <= 0:
            raise ImageDecodeError("decode", "image has no pixels")
        if w * h > max_pixels:
            raise ImageDecodeError("too_large", f"{w}x{h} exceeds {max_pixels} pixels",
                                   {"width": w, "height": h, "max_pixels": max_pixels})

    img = None
    buf = np.frombuffer(data, dtype=np.uint8)
    use_pil_for_alpha = pil_im is not None and _pil_has_alpha(pil_im)
    if not use_pil_for_alpha:
        try:
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR)  # applies EXIF orientation, 8-bit BGR
        except cv2.error:
            img = None
    if img is None and pil_im is not None:
        try:
            img = _decode_with_pil(pil_im)
        except Exception as exc:
            raise ImageDecodeError("decode", f"cannot decode image: {exc}") from None
    if img is None:
        raise ImageDecodeError("decode", "cannot decode image")
    if header is None and img.shape[0] * img.shape[1] > max_pixels:
        raise ImageDecodeError("too_large", "image exceeds pixel limit",
                               {"width": img.shape[1], "height": img.shape[0], "max_pixels": max_pixels})
    return to_bgr_u8(img)


def encode_jpeg(img: np.ndarray, quality: int = 92) -> bytes:
    ok, buf = cv2.imencode(".jpg", to_bgr_u8(img), [int(cv2.IMWRITE_JPEG_QUALITY), int(quality)])
    if not ok:  # pragma: no cover
        raise ImageDecodeError("encode", "JPEG encoding failed")
    return buf.tobytes()


def resize_max(img: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longest side is <= ``max_side``; returns ``(img, scale)`` (scale <= 1)."""
    h, w = img.shape[:2]
    longest = max(h, w)
    if longest <= max_side or longest == 0:
        return img, 1.0
    s = max_side / float(longest)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    return cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA), s


def _halve(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img[: h - h % 2, : w - w % 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def reduce_int(img: np.ndarray, n: int) -> np.ndarray:
    """Box-filter ``img`` down by the integer factor ``n`` (``n`` x ``n`` pixel blocks averaged; the last
    ``< n`` rows/columns are dropped). Uses OpenCV's fast exact-integer INTER_AREA path (repeated halving
    when ``n`` is a power of two), several times faster than a fractional INTER_AREA resize of a large
    image. A point ``x`` of the result is ``(x + 0.5) * n - 0.5`` in ``img``'s pixels."""
    n = int(n)
    if n <= 1:
        return img
    if n & (n - 1) == 0:
        while n > 1:
            img, n = _halve(img), n // 2
        return img
    h, w = img.shape[:2]
    return cv2.resize(img[: h - h % n, : w - w % n], (w // n, h // n), interpolation=cv2.INTER_AREA)


def shrink_max(img: np.ndarray, max_side: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Like :func:`resize_max` (INTER_AREA to a longest side ``<= max_side``) but fast on very large
    images: first an exact integer box reduction (:func:`reduce_int`), then a small fractional one.

    Returns ``(small, (sx, sy))``: a point ``(x, y)`` of ``small`` is ``(sx * x, sy * y)`` in ``img``
    (pixel edges at integers, the convention the detector's boxes are scaled back with)."""
    h, w = img.shape[:2]
    longest = max(h, w)
    if longest <= max_side or longest == 0:
        return img, (1.0, 1.0)
    n = max(1, int(longest // max_side))
    mid = reduce_int(img, n)
    mh, mw = mid.shape[:2]
    s = max_side / float(max(mh, mw))
    if s >= 1.0:
        return mid, (float(n), float(n))
    small = cv2.resize(mid, (max(1, round(mw * s)), max(1, round(mh * s))), interpolation=cv2.INTER_AREA)
    return small, (n / s, n / s)  # as resize_max's 1 / scale when n == 1
