"""The visible AI label: a small soft pill with text in the bottom-right corner (Standard results)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

VISIBLE_TEXT = {"ko": "AI 합성 · LoveLoveShot", "en": "AI-edited · LoveLoveShot"}


FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)


def visible_text(language: str | None) -> str:
    return VISIBLE_TEXT["en"] if (language or "ko").startswith("en") else VISIBLE_TEXT["ko"]


def _font(size: int, text: str):
    from PIL import ImageFont

    paths = [os.environ.get("LLS_WATERMARK_FONT", "")] + list(FONT_CANDIDATES)
    for path in paths:
        if path and Path(path).is_file():
            try:
                return ImageFont.truetype(path, size=size, index=0), text
            except OSError:
                continue
    # No CJK font on this machine: Pillow's bundled font has Latin glyphs only.
    return ImageFont.load_default(size=size), text if text.isascii() else VISIBLE_TEXT["en"]


def add_visible_mark(img: np.ndarray, text: str) -> np.ndarray:
    """A small, soft label in the bottom-right corner: white text on a translucent dark pill."""
    from PIL import Image, ImageDraw

    h, w = img.shape[:2]
    size = max(12, round(min(h, w) * 0.026))
    font, text = _font(size, text)
    base = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)).convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    tw, th = right - left, bottom - top
    pad_x, pad_y, margin = round(size * 0.7), round(size * 0.4), round(size * 0.8)
    x1, y1 = w - margin, h - margin
    x0, y0 = x1 - tw - 2 * pad_x, y1 - th - 2 * pad_y
    draw.rounded_rectangle((x0, y0, x1, y1), radius=(y1 - y0) // 2, fill=(30, 20, 20, 92))
    draw.text((x0 + pad_x - left, y0 + pad_y - top), text, font=font, fill=(255, 255, 255, 215))
    out = Image.alpha_composite(base, overlay).convert("RGB")
    return cv2.cvtColor(np.asarray(out), cv2.COLOR_RGB2BGR)


