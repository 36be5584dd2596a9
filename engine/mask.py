"""Soft face-region masks built from the five YuNet landmarks."""

from __future__ import annotations

import cv2
import numpy as np

from .types import Face

# Face outline in a landmark-relative frame: u along the eye line in eye distances
# (origin = eye midpoint), v perpendicular (downwards) in eye-to-mouth distances
# (v = 1 is the mouth line). Brows ~ -0.35, chin ~ +1.55. Cheeks stop short of the
# ears, the top stops below the hairline.
_OUTLINE_UV = np.array([
    [-0.30, -0.62], [0.30, -0.62],     # lower forehead
    [-0.78, -0.45], [0.78, -0.45],     # outer brows
    [-0.95, 0.05], [0.95, 0.05],       # cheekbones at eye level
    [-0.90, 0.65], [0.90, 0.65],       # cheeks
    [-0.68, 1.20], [0.68, 1.20],       # jaw
    [-0.30, 1.50], [0.30, 1.50],       # chin
], dtype=np.float32)


def face_axes(face: Face) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """(origin, u_hat, v_hat, eye_distance, eye_to_mouth) of a face's landmark frame."""
    kps = face.kps.astype(np.float32)
    eye_mid = (kps[0] + kps[1]) / 2.0
    mouth_mid = (kps[3] + kps[4]) / 2.0
    d_vec = kps[1] - kps[0]
    d = float(np.linalg.norm(d_vec))
    if d < 1e-3:
        d = max(float(face.box[2]) * 0.4, 1.0)
        u = np.array([1.0, 0.0], np.float32)
    else:
        u = d_vec / d
    v = np.array([-u[1], u[0]], dtype=np.float32)  # image y grows downwards
    e = float(np.dot(mouth_mid - eye_mid, v))
    if e < 0.5 * d:  # odd landmarks (extreme pose): fall back to typical proportions
        e = max(e, 1.05 * d)
    return eye_mid, u, v, d, e


def face_polygon(face: Face, scale: float = 1.0) -> np.ndarray:
    """Convex face outline (N, 2) float32 in image coordinates; ``scale`` grows it about the face centre."""
    o, u, v, d, e = face_axes(face)
    uv = _OUTLINE_UV.copy()
    c = np.array([0.0, 0.5], np.float32)
    uv = c + (uv - c) * scale
    pts = o + np.outer(uv[:, 0] * d, u) + np.outer(uv[:, 1] * e, v)
    hull = cv2.convexHull(pts.astype(np.float32))
    return hull.reshape(-1, 2)


def polygon_mask(shape: tuple[int, ...], poly: np.ndarray, feather_px: float) -> np.ndarray:
    """Filled convex ``poly`` as a float32 mask, eroded by ~feather/2 then Gaussian-feathered."""
    h, w = int(shape[0]), int(shape[1])
    m = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(m, np.round(np.asarray(poly, np.float32).reshape(-1, 2) * 16).astype(np.int32), 255,
                       lineType=cv2.LINE_AA, shift=4)
    k = max(1, int(round(feather_px)))
    if k <= 1:
        return m.astype(np.float32) / 255.0
    er = max(1, k // 2)
    m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * er + 1, 2 * er + 1)))
    sigma = k / 2.0
    out = cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), sigmaX=sigma, sigmaY=sigma)
    return np.clip(out, 0.0, 1.0)


def face_mask(shape: tuple[int, ...], face: Face, feather: float = 0.12, scale: float = 1.0) -> np.ndarray:
    """Feathered float32 mask in [0, 1] of shape ``shape[:2]`` covering brows, eyes, cheeks, nose,
    mouth and chin of ``face`` (no hair, ears or background).

    ``feather`` is the blur width as a fraction of the eye distance; the polygon is eroded by
    about half of that first so the 0.5 level stays close to the outline.
    """
    d = face_axes(face)[3]
    return polygon_mask(shape, face_polygon(face, scale), feather * d)


def mask_bbox(mask: np.ndarray, thresh: float = 0.01) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of pixels above ``thresh`` or None if empty."""
    ys, xs = np.nonzero(mask > thresh)
    if len(xs) == 0:
        return None
    x0, x1, y0, y1 = int(xs.min()), int(xs.max()), int(ys.min()), int(ys.max())
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1
