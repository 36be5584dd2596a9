"""Poisson (seamlessClone) blending with a feathered alpha fallback."""

from __future__ import annotations

import logging

import cv2
import numpy as np

log = logging.getLogger(__name__)

_EDGE_MARGIN = 3  # px kept clear of the image border for seamlessClone


def alpha_blend(fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = np.clip(alpha.astype(np.float32), 0.0, 1.0)[..., None]
    out = fg.astype(np.float32) * a + bg.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _clone_mask(mask: np.ndarray, thresh: float = 0.02) -> np.ndarray | None:
    """Binary uint8 clone mask, cleared near the image border; None if empty."""
    h, w = mask.shape[:2]
    m = (mask > thresh).astype(np.uint8) * 255
    e = _EDGE_MARGIN
    if h <= 2 * e + 2 or w <= 2 * e + 2:
        return None
    m[:e, :] = 0
    m[-e:, :] = 0
    m[:, :e] = 0
    m[:, -e:] = 0
    if cv2.countNonZero(m) < 16:
        return None
    return m


def seamless_blend(warped: np.ndarray, scene: np.ndarray, mask: np.ndarray,
                   center: tuple[int, int] | None = None, feather_alpha: bool = True) -> np.ndarray:
    """Blend ``warped`` (already in scene coordinates) into ``scene`` inside ``mask`` (float [0,1]).

    ``cv2.seamlessClone(NORMAL_CLONE)`` is run on the binarised mask (kept off the image
    border); the clone is then alpha-blended back over the scene with the feathered ``mask``
    so the edge is soft and pixels outside the mask are untouched. If cloning is impossible
    (empty/degenerate mask, OpenCV error) a feathered alpha blend is returned instead.

    ``center`` defaults to the centre of the clone mask's bounding box, i.e. no shift;
    a different centre moves the cloned patch (and is clipped so it stays inside the scene).
    """
    if warped.shape != scene.shape:
        raise ValueError("warped and scene must have the same shape")
    mask = np.clip(mask.astype(np.float32), 0.0, 1.0)
    cm = _clone_mask(mask)
    if cm is None:
        return alpha_blend(warped, scene, mask) if feather_alpha else scene.copy()
    x, y, bw, bh = cv2.boundingRect(cm)
    natural = (x + bw // 2, y + bh // 2)
    if center is None:
        center = natural
    else:
        h, w = scene.shape[:2]
        cx = int(np.clip(int(center[0]), bw // 2 + 1, w - (bw - bw // 2) - 1))
        cy = int(np.clip(int(center[1]), bh // 2 + 1, h - (bh - bh // 2) - 1))
        center = (cx, cy)
    try:
        # NB: seamlessClone modifies its mask argument in place (OpenCV 4.x), hence the copy.
        cloned = cv2.seamlessClone(warped, scene, cm.copy(), center, cv2.NORMAL_CLONE)
    except cv2.error as exc:  # pragma: no cover - defensive
        log.warning("seamlessClone failed (%s); using alpha blend", exc)
        return alpha_blend(warped, scene, mask)
    if tuple(center) != natural:
        # The patch moved: move the alpha with it.
        dx, dy = center[0] - natural[0], center[1] - natural[1]
        T = np.float32([[1, 0, dx], [0, 1, dy]])
        mask = cv2.warpAffine(mask, T, (scene.shape[1], scene.shape[0]))
    if not feather_alpha:
        return cloned
    # Only trust the clone where the binary clone mask was set.
    alpha = mask * (cm.astype(np.float32) / 255.0) if tuple(center) == natural else mask
    return alpha_blend(cloned, scene, alpha)
