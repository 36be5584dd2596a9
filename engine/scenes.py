"""Synthetic two-person demo/test scenes built from two portraits (no segmentation model)."""

from __future__ import annotations

import cv2
import numpy as np

from .io import to_bgr_u8
from .tone import PersonSegmenter
from .types import Face, NoFaceError

STYLES = ("film", "picnic", "night")

# Face box height as a fraction of the scene height, and the face-centre height.
_FACE_H_FRAC = 0.30
_FACE_Y_FRAC = 0.40


def _vgradient(h: int, w: int, stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    """Vertical gradient; ``stops`` = [(pos 0..1, RGB)]."""
    ys = np.linspace(0.0, 1.0, h, dtype=np.float32)
    pos = np.array([p for p, _ in stops], np.float32)
    cols = np.array([c[::-1] for _, c in stops], np.float32)  # -> BGR
    col = np.stack([np.interp(ys, pos, cols[:, k]) for k in range(3)], axis=1)
    return np.repeat(col[:, None, :], w, axis=1)


def _background(style: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    if style == "film":
        bg = _vgradient(h, w, [(0.0, (246, 214, 170)), (0.55, (222, 160, 118)), (1.0, (150, 96, 74))])
        # soft diagonal light leak
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        leak = np.exp(-(((xx - 0.85 * w) ** 2) / (2 * (0.25 * w) ** 2) + ((yy - 0.1 * h) ** 2) / (2 * (0.3 * h) ** 2)))
        bg += leak[..., None] * np.array([40, 60, 90], np.float32)
    elif style == "picnic":
        bg = _vgradient(h, w, [(0.0, (120, 180, 235)), (0.5, (190, 222, 242)), (0.58, (150, 196, 120)),
                               (0.75, (104, 160, 78)), (1.0, (64, 118, 50))])
        # low-frequency grass texture
        n = rng.normal(0.0, 1.0, (h // 16 + 1, w // 16 + 1)).astype(np.float32)
        n = cv2.resize(n, (w, h), interpolation=cv2.INTER_CUBIC)
        grass = np.clip((np.linspace(0, 1, h, dtype=np.float32)[:, None] - 0.56) * 6, 0, 1)
        bg += (n * grass * 10.0)[..., None]
    elif style == "night":
        bg = _vgradient(h, w, [(0.0, (8, 12, 40)), (0.6, (20, 30, 80)), (1.0, (12, 16, 46))])
        bokeh = np.zeros((h, w, 3), np.float32)
        palette = np.array([[120, 200, 255], [255, 210, 120], [255, 140, 190], [160, 255, 220]], np.float32)
        for _ in range(46):
            c = palette[rng.integers(len(palette))][::-1]
            x, y = int(rng.uniform(0, w)), int(rng.uniform(0, 0.75 * h))
            r = int(rng.uniform(8, 38))
            layer = np.zeros((h, w), np.float32)
            cv2.circle(layer, (x, y), r, float(rng.uniform(0.25, 0.7)), -1, lineType=cv2.LINE_AA)
            bokeh += layer[..., None] * c
        bokeh = cv2.GaussianBlur(bokeh, (0, 0), 2.5)
        bg = bg + bokeh * 0.8
    else:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    return bg


_SEGMENTER = PersonSegmenter(max_side=1 << 30, lo=0.25)  # at the portrait's own size


def _person_segmentation(img: np.ndarray) -> np.ndarray | None:
    """Soft person mask (float32 0..1, ``img``'s size) from MediaPipe selfie segmentation, or None when
    MediaPipe is unavailable: then the ellipse silhouette alone is used."""
    return _SEGMENTER.mask(img)


def _person_layer(img: np.ndarray, face: Face, cw: int, ch: int) -> tuple[np.ndarray, np.ndarray]:
    """Scale/translate ``img`` so ``face`` sits at a standard size and place in a (ch, cw) canvas.

    Returns (float32 BGR canvas, float32 soft person mask).
    """
    fx, fy, fw, fh = (float(v) for v in face.box)
    sc = (_FACE_H_FRAC * ch) / max(fh, 1.0)
    fc = face.center
    tx = cw / 2.0 - sc * float(fc[0])
    ty = _FACE_Y_FRAC * ch - sc * float(fc[1])
    A = np.float32([[sc, 0, tx], [0, sc, ty]])
    interp = cv2.INTER_AREA if sc < 1 else cv2.INTER_CUBIC
    if sc < 1:
        small = cv2.resize(img, None, fx=sc, fy=sc, interpolation=cv2.INTER_AREA)
        A2 = np.float32([[1, 0, tx], [0, 1, ty]])
        canvas = cv2.warpAffine(small, A2, (cw, ch), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        valid = cv2.warpAffine(np.full(small.shape[:2], 255, np.uint8), A2, (cw, ch), flags=cv2.INTER_NEAREST)
    else:
        canvas = cv2.warpAffine(img, A, (cw, ch), flags=interp, borderMode=cv2.BORDER_REPLICATE)
        valid = cv2.warpAffine(np.full(img.shape[:2], 255, np.uint8), A, (cw, ch), flags=cv2.INTER_NEAREST)

    fws, fhs = fw * sc, fh * sc
    cx, cy = cw / 2.0, _FACE_Y_FRAC * ch
    m = np.zeros((ch, cw), np.uint8)
    # head + hair
    cv2.ellipse(m, (int(cx), int(cy - 0.12 * fhs)), (int(0.70 * fws), int(0.70 * fhs)), 0, 0, 360, 255, -1)
    # neck
    cv2.rectangle(m, (int(cx - 0.32 * fws), int(cy + 0.2 * fhs)), (int(cx + 0.32 * fws), int(cy + 1.05 * fhs)), 255, -1)
    # shoulders / torso
    sw = min(1.7 * fws, 0.46 * cw)
    cv2.ellipse(m, (int(cx), int(cy + 1.75 * fhs)), (int(sw), int(0.95 * fhs)), 0, 0, 360, 255, -1)
    cv2.rectangle(m, (int(cx - sw), int(cy + 1.75 * fhs)), (int(cx + sw), ch), 255, -1)
    m = cv2.bitwise_and(m, cv2.erode(valid, np.ones((9, 9), np.uint8)))
    sigma = max(2.0, 0.06 * fws)
    mask = cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), sigma)
    seg = _person_segmentation(img)
    if seg is not None:
        # the person's own outline (no background halo), kept inside the silhouette above
        seg = cv2.warpAffine(seg, A, (cw, ch), flags=cv2.INTER_LINEAR, borderValue=0.0)
        seg = cv2.GaussianBlur(seg, (0, 0), max(1.0, 0.015 * fws))
        mask = np.minimum(mask, seg)
    # fade to zero at the canvas' left/right edges so halves never show a seam
    ramp = np.clip(np.minimum(np.arange(cw), np.arange(cw)[::-1]) / (2.0 * sigma), 0, 1).astype(np.float32)
    mask *= ramp[None, :]
    return canvas.astype(np.float32), mask


def compose_scene(left: np.ndarray, right: np.ndarray, style: str = "film", size: tuple[int, int] = (1280, 896),
                  left_face: Face | None = None, right_face: Face | None = None, detector=None,
                  seed: int = 0) -> np.ndarray:
    """Two portraits side by side (head and shoulders, faces at the same height, one per half)
    on a styled background. ``size`` is ``(width, height)``. Deterministic for a given ``seed``.

    Faces are detected with ``detector`` (default: a bundled YuNetDetector) unless given.
    Raises ``NoFaceError`` (detail ``{"index": 0|1}``) when a portrait has no face.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; expected one of {STYLES}")
    w, h = int(size[0]), int(size[1])
    rng = np.random.default_rng(seed)
    left, right = to_bgr_u8(left), to_bgr_u8(right)
    faces = [left_face, right_face]
    if any(f is None for f in faces):
        if detector is None:
            from .detect import YuNetDetector

            detector = YuNetDetector()
        for i, img in enumerate((left, right)):
            if faces[i] is None:
                found = detector.detect(img)
                if not found:
                    raise NoFaceError("no_face", f"no face in portrait {i}", {"index": i})
                faces[i] = max(found, key=lambda f: f.area)

    out = _background(style, w, h, rng)
    half = w // 2
    for i, (img, face) in enumerate(((left, faces[0]), (right, faces[1]))):
        x0 = 0 if i == 0 else half
        cw = half if i == 0 else w - half
        person, m = _person_layer(img, face, cw, h)
        if style == "night":
            person *= np.array([1.0, 0.95, 0.9], np.float32)  # cool, slightly dimmer ambient
        elif style == "film":
            person = person * np.array([0.94, 0.99, 1.04], np.float32)  # warm grade
        region = out[:, x0:x0 + cw]
        out[:, x0:x0 + cw] = person * m[..., None] + region * (1.0 - m[..., None])

    if style == "film":
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
        out *= (1.0 - 0.22 * np.clip(r2 / 2.0, 0, 1))[..., None]
        grain = rng.normal(0.0, 5.0, (h, w)).astype(np.float32)
        grain = cv2.GaussianBlur(grain, (0, 0), 0.7)
        out += grain[..., None]
    elif style == "night":
        out += rng.normal(0.0, 2.0, (h, w, 1)).astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
