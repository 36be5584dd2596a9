"""Similarity alignment (5 points in 2D; mesh points in 3D)."""

from __future__ import annotations

import cv2
import numpy as np

from .types import Face


def _umeyama(src_pts: np.ndarray, dst_pts: np.ndarray, dim: int) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) src -> dst in ``dim`` dimensions
    (Umeyama, no reflection), as a ``dim x (dim+1)`` float64 matrix."""
    src = np.asarray(src_pts, dtype=np.float64).reshape(-1, dim)
    dst = np.asarray(dst_pts, dtype=np.float64).reshape(-1, dim)
    if src.shape != dst.shape or len(src) < 2:
        raise ValueError("need >= 2 matching points")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    sc, dc = src - mu_s, dst - mu_d
    var_s = (sc ** 2).sum() / len(src)
    if var_s < 1e-12:
        raise ValueError("degenerate source points")
    cov = dc.T @ sc / len(src)
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(dim)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[-1, -1] = -1
    R = U @ D @ Vt
    scale = float(np.trace(np.diag(S) @ D) / var_s)
    M = np.zeros((dim, dim + 1), dtype=np.float64)
    M[:, :dim] = scale * R
    M[:, dim] = mu_d - scale * R @ mu_s
    return M


def similarity_transform(src_pts: np.ndarray, dst_pts: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) src -> dst (Umeyama, no reflection).

    Returns a 2x3 float64 matrix usable with ``cv2.warpAffine``.
    """
    return _umeyama(src_pts, dst_pts, 2)


def similarity_transform_3d(src_pts: np.ndarray, dst_pts: np.ndarray) -> np.ndarray:
    """The same in 3D (a head turned in depth, from mesh points with depth): a 3x4 float64 matrix."""
    return _umeyama(src_pts, dst_pts, 3)


def transform_points(M: np.ndarray, pts: np.ndarray) -> np.ndarray:
    pts = np.asarray(pts, dtype=np.float64).reshape(-1, 2)
    return (pts @ M[:, :2].T + M[:, 2]).astype(np.float32)


def transform_face(M: np.ndarray, face: Face) -> Face:
    x, y, w, h = face.box
    corners = transform_points(M, [[x, y], [x + w, y], [x, y + h], [x + w, y + h]])
    lo, hi = corners.min(0), corners.max(0)
    return Face(np.array([lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1]]), transform_points(M, face.kps), face.score)


def warp_to(source_img: np.ndarray, source_face: Face, target_face: Face,
            out_shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``source_img`` so ``source_face``'s landmarks land on ``target_face``'s.

    ``out_shape`` is ``(h, w[, c])`` of the destination. Borders are reflected, so the
    result has no black wedges; use :func:`valid_region` to know which pixels are real.
    Returns ``(warped, M)``.
    """
    h, w = int(out_shape[0]), int(out_shape[1])
    M = similarity_transform(source_face.kps, target_face.kps)
    warped = cv2.warpAffine(source_img, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return warped, M


def valid_region(src_shape: tuple[int, ...], M: np.ndarray, out_shape: tuple[int, ...]) -> np.ndarray:
    """float32 mask (1 where the warp sampled real source pixels, 0 where it reflected/padded)."""
    ones = np.ones(src_shape[:2], dtype=np.uint8) * 255
    h, w = int(out_shape[0]), int(out_shape[1])
    m = cv2.warpAffine(ones, M, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    m = cv2.erode(m, np.ones((5, 5), np.uint8))
    return (m > 0).astype(np.float32)
