"""Colour matching in LAB (Reinhard-style mean/std transfer over a mask)."""

from __future__ import annotations

import cv2
import numpy as np


def _lab(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)


def masked_lab_stats(img: np.ndarray, mask: np.ndarray, thresh: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel LAB mean and std over ``mask > thresh`` (float32 arrays of 3)."""
    lab = _lab(img)
    sel = mask > thresh
    if not np.any(sel):
        sel = np.ones(mask.shape, bool)
    px = lab[sel]
    return px.mean(0), px.std(0)


def transfer_stats(lab: np.ndarray, ref_lab: np.ndarray, mask: np.ndarray, ref_mask: np.ndarray,
                   std_clip: tuple[float, float], chroma_clip: tuple[float, float],
                   lo: tuple[float, float, float], hi: tuple[float, float, float],
                   thresh: float = 0.5) -> np.ndarray:
    """The per-channel affine map of :func:`lab_transfer` on Lab arrays already converted (float, any
    affine Lab scale; ``lo``/``hi`` its bounds per channel): ``lab``'s mean/std inside ``mask`` moved to
    ``ref_lab``'s inside ``ref_mask``. Returns ``lab`` unchanged when either mask is empty."""
    sel_s = mask > thresh
    sel_r = ref_mask > thresh
    if not np.any(sel_s) or not np.any(sel_r):
        return lab
    ms, ss = (v.ravel() for v in cv2.meanStdDev(np.ascontiguousarray(lab, np.float32), mask=sel_s.view(np.uint8)))
    mr, sr = (v.ravel() for v in cv2.meanStdDev(np.ascontiguousarray(ref_lab, np.float32),
                                                 mask=sel_r.view(np.uint8)))
    raw = sr / np.maximum(ss, 1e-3)
    ratio = np.concatenate([np.clip(raw[:1], *std_clip), np.clip(raw[1:], *chroma_clip)]).astype(np.float32)
    out = (lab - ms.astype(np.float32)) * ratio + mr.astype(np.float32)
    return np.clip(out, np.asarray(lo, np.float32), np.asarray(hi, np.float32))


def lab_transfer(src: np.ndarray, ref: np.ndarray, mask: np.ndarray, ref_mask: np.ndarray | None = None,
                 std_clip: tuple[float, float] = (0.6, 1.6), chroma_clip: tuple[float, float] = (0.0, 1.6),
                 thresh: float = 0.5) -> np.ndarray:
    """Shift ``src``'s LAB mean/std (measured inside ``mask``) to ``ref``'s (inside ``ref_mask``,
    default ``mask``). The affine per-channel map is applied to the whole ``src`` so its
    texture is kept. The std ratio is clipped to ``std_clip`` for L (keeps some texture even
    against a flat reference, never blows up noise) and to ``chroma_clip`` for a/b (a grey
    reference may remove all colour variation).
    Returns BGR uint8 with ``src``'s shape.
    """
    if ref_mask is None:
        ref_mask = mask
    if not np.any(mask > thresh) or not np.any(ref_mask > thresh):
        return src.copy()
    out = transfer_stats(_lab(src), _lab(ref), mask, ref_mask, std_clip, chroma_clip,
                         (0.0, -127.0, -127.0), (100.0, 127.0, 127.0), thresh)
    bgr = cv2.cvtColor(out.astype(np.float32), cv2.COLOR_LAB2BGR)
    return np.clip(bgr * 255.0 + 0.5, 0, 255).astype(np.uint8)


def lab_mean_distance(a: np.ndarray, b: np.ndarray, mask_a: np.ndarray, mask_b: np.ndarray | None = None) -> float:
    """Euclidean distance between the masked LAB means of two images."""
    ma, _ = masked_lab_stats(a, mask_a)
    mb, _ = masked_lab_stats(b, mask_a if mask_b is None else mask_b)
    return float(np.linalg.norm(ma - mb))
