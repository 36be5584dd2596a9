"""Matching a pasted face's sharpness and grain to the scene (so it does not look pasted on)."""

from __future__ import annotations

import math

import cv2
import numpy as np

_IMMERKAER = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def _gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img.astype(np.float32)


def noise_sigma(img: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Immerkaer's fast noise estimate (grey levels) over ``mask > 0.5`` (whole image if None).

    Includes fine texture as well as sensor/film grain; it is used comparatively (scene vs paste).
    """
    g = _gray(img)
    r = np.abs(cv2.filter2D(g, -1, _IMMERKAER, borderType=cv2.BORDER_REFLECT))
    sel = np.ones(g.shape, bool) if mask is None else mask > 0.5
    sel[:1, :] = sel[-1:, :] = False
    sel[:, :1] = sel[:, -1:] = False
    if sel.sum() < 16:
        return 0.0
    return float(math.sqrt(math.pi / 2.0) * r[sel].mean() / 6.0)


def detail_energy(img: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean absolute Laplacian (3x3) over the mask: high for sharp, low for blurred images."""
    g = _gray(img)
    lap = np.abs(cv2.Laplacian(g, cv2.CV_32F, ksize=3))
    sel = np.ones(g.shape, bool) if mask is None else mask > 0.5
    return float(lap[sel].mean()) if sel.any() else 0.0


def match_sharpness(src: np.ndarray, ref: np.ndarray, src_mask: np.ndarray, ref_mask: np.ndarray | None = None,
                    max_sigma: float = 3.0) -> tuple[np.ndarray, float]:
    """Blur ``src`` (if it is sharper than ``ref`` inside the masks) so their detail energy matches.

    Returns ``(image, sigma)``; ``sigma`` 0 means unchanged (``src`` is never sharpened).
    """
    ref_mask = src_mask if ref_mask is None else ref_mask
    target = detail_energy(ref, ref_mask)
    cur = detail_energy(src, src_mask)
    if cur <= target * 1.1 or cur == 0.0:
        return src, 0.0
    lo, hi = 0.0, max_sigma
    best = None
    for _ in range(6):  # bisection on the Gaussian sigma
        mid = (lo + hi) / 2.0
        e = detail_energy(cv2.GaussianBlur(src, (0, 0), mid), src_mask)
        if e > target:
            lo = mid
        else:
            hi = mid
        best = mid
    sigma = float(best if best is not None else 0.0)
    if sigma < 0.25:
        return src, 0.0
    return cv2.GaussianBlur(src, (0, 0), sigma), sigma


def add_grain(img: np.ndarray, sigma: float, rng: np.random.Generator, grain_size: float = 0.6) -> np.ndarray:
    """Monochrome Gaussian grain of standard deviation ``sigma`` grey levels (kept grey on grey images)."""
    if sigma <= 0.05:
        return img
    h, w = img.shape[:2]
    n = rng.standard_normal((h, w)).astype(np.float32)
    if grain_size > 0:
        n = cv2.GaussianBlur(n, (0, 0), grain_size)
        n /= max(float(n.std()), 1e-6)
    out = img.astype(np.float32) + (n * sigma)[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def match_grain(src: np.ndarray, ref: np.ndarray, src_mask: np.ndarray, ref_mask: np.ndarray | None = None,
                seed: int = 0, grain_size: float = 0.6,
                ring_mask: np.ndarray | None = None, max_add: float | None = None) -> tuple[np.ndarray, float]:
    """Add monochrome grain so ``src``'s noise estimate reaches ``ref``'s. Returns ``(image, added_sigma)``
    where ``added_sigma`` is the rise in the noise estimate the grain was scaled for (the grain is
    spatially correlated, so its raw amplitude is scaled up by the estimator's response to it),
    at most ``max_add``.

    Grain covers the whole photo while fine skin texture (wrinkles) only the face, so with a
    ``ring_mask`` (scene pixels around the face) the smaller of the two estimates is the target."""
    ref_mask = src_mask if ref_mask is None else ref_mask
    nt = noise_sigma(ref, ref_mask)
    if ring_mask is not None and (ring_mask > 0.5).sum() > 64:
        nt = min(nt, noise_sigma(ref, ring_mask))
    ns = noise_sigma(src, src_mask)
    add = math.sqrt(max(0.0, nt * nt - ns * ns))
    if max_add is not None:  # fine skin texture counts as "noise" too: never bury a face in grain
        add = min(add, max_add)
    if add < 0.3:
        return src, 0.0
    h, w = src.shape[:2]
    n = np.random.default_rng(seed).standard_normal((h, w)).astype(np.float32)
    if grain_size > 0:
        n = cv2.GaussianBlur(n, (0, 0), grain_size)
        n /= max(float(n.std()), 1e-6)
    k = max(noise_sigma(n, src_mask), 0.2)  # estimator response per unit grain amplitude
    amp = min(add / k, 4.0 * add)
    out = src.astype(np.float32) + (n * amp)[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8), add
