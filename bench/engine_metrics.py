"""Artifact and pose measures for bench/engine.py (numpy + OpenCV only, no dlib, no engine import).

All functions take BGR uint8 images of the same size (the scene and the swapped result) and
MediaPipe face-mesh points (N x 2, pixel coordinates) of the scene face.

* :func:`paste_mask` — where the result differs from the scene around one face (what was pasted).
* :func:`skin_model` / :func:`nonskin` — a Gaussian chroma model (Lab a*, b*) fitted on the scene
  face's own cheeks, plus a darkness bound for hair; :func:`new_nonskin_fraction` is the share of
  the pasted skin area (eyes, brows, lips and nostrils left out) that is not skin in the result but
  was skin in the scene: the user's hair strands, a microphone, a grey patch, a tinted eye area.
* :func:`seam_strength` — the gradient the paste adds along its own boundary, in units of the
  scene's own strong edges at that place (90th percentile of the scene's gradient in the same band).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# MediaPipe face mesh indices (fixed by the model).
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
RIGHT_EYE = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7]
LEFT_EYE = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249]
RIGHT_BROW = [46, 53, 52, 65, 55, 107, 66, 105, 63, 70]
LEFT_BROW = [276, 283, 282, 295, 285, 336, 296, 334, 293, 300]
OUTER_LIPS = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146]
NOSTRILS = [98, 97, 2, 326, 327, 294, 278, 344, 440, 275, 4, 45, 220, 115, 48, 64]  # nose base incl. wings
CHEEKS = [50, 101, 118, 123, 117, 280, 330, 347, 352, 346, 205, 425]
FEATURES = (RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, OUTER_LIPS, NOSTRILS)
# dlib's 5-point layout (image-right eye outer/inner corner, image-left eye outer/inner corner, nose base)
DLIB5 = [263, 362, 33, 133, 2]

NONSKIN_CHROMA = 3.5  # Mahalanobis distance in (a*, b*) beyond which a pixel is not skin (chi2 2 dof: p < 0.002)
NONSKIN_DARK = 4.0  # L* more than this many cheek standard deviations below the darkest cheek decile


def iod(xy: np.ndarray) -> float:
    r = xy[RIGHT_EYE].mean(0)
    left = xy[LEFT_EYE].mean(0)
    return float(np.linalg.norm(left - r))


def _poly(shape, pts: np.ndarray) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(pts).astype(np.int32)], 255)
    return m


def oval_mask(shape, xy: np.ndarray, grow: float = 0.0) -> np.ndarray:
    m = _poly(shape, xy[FACE_OVAL])
    r = int(round(grow * iod(xy)))
    if r > 0:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    return m


def features_mask(shape, xy: np.ndarray, grow: float = 0.08) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    for idx in FEATURES:
        m |= _poly(shape, cv2.convexHull(xy[idx].astype(np.float32)).reshape(-1, 2))
    r = max(1, int(round(grow * iod(xy))))
    return cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))


def paste_mask(scene: np.ndarray, result: np.ndarray, xy: np.ndarray, level: float = 4.0) -> np.ndarray:
    """uint8 mask (255) of the pasted area around the face with mesh ``xy``: pixels within the face
    oval grown by 0.6 IOD where the smoothed difference exceeds ``level`` grey levels; the largest
    connected part, holes filled."""
    d = cv2.absdiff(scene, result).max(axis=2).astype(np.float32)
    d = cv2.GaussianBlur(d, (0, 0), max(1.0, 0.02 * iod(xy)))
    m = ((d > level) & (oval_mask(scene.shape, xy, grow=0.6) > 0)).astype(np.uint8) * 255
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, 8)
    if n <= 1:
        return np.zeros_like(m)
    big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    m = (lab == big).astype(np.uint8) * 255
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    filled = np.zeros_like(m)
    cv2.drawContours(filled, contours, -1, 255, thickness=cv2.FILLED)
    return filled


@dataclass
class SkinModel:
    mean: np.ndarray  # (a, b)
    icov: np.ndarray  # 2x2 inverse covariance
    dark: float  # L* below this is too dark for this face's skin


def _lab(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2LAB).astype(np.float32)  # 8-bit Lab: L 0..255, a/b offset 128


def skin_model(scene: np.ndarray, xy: np.ndarray) -> SkinModel:
    """Fit the skin colour of the scene face on discs around its cheek landmarks."""
    r = max(2, int(round(0.1 * iod(xy))))
    m = np.zeros(scene.shape[:2], np.uint8)
    for i in CHEEKS:
        cv2.circle(m, (int(round(xy[i, 0])), int(round(xy[i, 1]))), r, 255, -1)
    lab = _lab(scene)[m > 0]
    ab = lab[:, 1:]
    cov = np.cov(ab.T) + np.eye(2) * 1.0  # floor: JPEG-flat cheeks would give a degenerate model
    L = lab[:, 0]
    dark = float(np.percentile(L, 10) - NONSKIN_DARK * max(L.std(), 4.0))
    return SkinModel(ab.mean(0), np.linalg.inv(cov), dark)


def nonskin(img: np.ndarray, model: SkinModel) -> np.ndarray:
    """bool mask: pixels whose colour is not this face's skin (chroma outlier, or much darker)."""
    lab = _lab(img)
    d = lab[..., 1:] - model.mean
    maha = np.sqrt(np.einsum("...i,ij,...j->...", d, model.icov, d))
    return (maha > NONSKIN_CHROMA) | (lab[..., 0] < model.dark)


def new_nonskin_fraction(scene: np.ndarray, result: np.ndarray, xy: np.ndarray,
                         pasted: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """(share of the pasted skin area that is not skin in the result but was in the scene, that mask)."""
    if pasted is None:
        pasted = paste_mask(scene, result, xy)
    region = (pasted > 0) & (features_mask(scene.shape, xy) == 0)
    n = int(region.sum())
    if n == 0:
        return 0.0, np.zeros(scene.shape[:2], bool)
    model = skin_model(scene, xy)
    bad = region & nonskin(result, model) & ~nonskin(scene, model)
    return float(bad.sum()) / n, bad


def _grad(img: np.ndarray, sigma: float) -> np.ndarray:
    lab = cv2.GaussianBlur(_lab(img), (0, 0), sigma)
    gx = cv2.Sobel(lab, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(lab, cv2.CV_32F, 0, 1, ksize=3)
    return np.sqrt((gx ** 2 + gy ** 2).sum(axis=2))


def seam_strength(scene: np.ndarray, result: np.ndarray, xy: np.ndarray,
                  pasted: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """(seam, band): the 95th percentile of the gradient the result adds over the scene in a band
    along the paste boundary (width 0.12 IOD), divided by the 90th percentile of the scene's own
    gradient in that band. 0 = no added edge; 1 = an added edge as strong as the scene's strongest
    tenth of edges there (its jaw line, hairline, ears)."""
    if pasted is None:
        pasted = paste_mask(scene, result, xy)
    if not pasted.any():
        return 0.0, np.zeros(scene.shape[:2], bool)
    e = iod(xy)
    r = max(1, int(round(0.06 * e)))
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    band = (cv2.dilate(pasted, k) > 0) & (cv2.erode(pasted, k) == 0)
    sigma = max(0.8, 0.01 * e)
    gs, gr = _grad(scene, sigma), _grad(result, sigma)
    own = float(np.percentile(gs[band], 90))
    added = np.maximum(gr - gs, 0.0)[band]
    return float(np.percentile(added, 95)) / max(own, 1.0), band


def _lab_float(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img.astype(np.float32) / 255.0, cv2.COLOR_BGR2LAB)  # L 0..100, a*/b* signed


def tone_step(scene: np.ndarray, result: np.ndarray, xy: np.ndarray,
              pasted: np.ndarray | None = None) -> tuple[float, float]:
    """(added, natural): colour step across the paste boundary. At points along the boundary, the
    mean Lab colour 0.15-0.3 eye distances inside the paste is compared with the colour 0.03-0.15
    outside it, where the outside is the scene's own skin (neck, ears, the sides of the face: pixels of
    the cheek skin model; hair and background are left out), in the result and in the scene; ``added``
    is the 75th percentile over those boundary points of (ΔE result - ΔE scene), ``natural`` the median
    ΔE of the scene itself across the same points (its own face-to-neck shading). A face pasted darker
    or lighter than the neck and ears around it shows as a large ``added`` even when the feathered edge
    leaves no gradient spike. (0, 0) when no skin borders the paste."""
    if pasted is None:
        pasted = paste_mask(scene, result, xy)
    if not pasted.any():
        return 0.0, 0.0
    e = iod(xy)
    din = cv2.distanceTransform((pasted > 0).astype(np.uint8), cv2.DIST_L2, 5)
    dout = cv2.distanceTransform((pasted == 0).astype(np.uint8), cv2.DIST_L2, 5)
    inner = (din >= 0.15 * e) & (din <= 0.3 * e)
    outer = (dout >= 0.03 * e) & (dout <= 0.15 * e) & ~nonskin(scene, skin_model(scene, xy))
    ls, lr = _lab_float(scene), _lab_float(result)
    contours, _ = cv2.findContours(pasted, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    pts = max(contours, key=len).reshape(-1, 2)
    step = max(1, len(pts) // 120)
    R = max(3, int(round(0.25 * e)))
    H, W = pasted.shape
    added, natural = [], []
    for x, y in pts[::step]:
        x0, y0, x1, y1 = max(0, x - R), max(0, y - R), min(W, x + R + 1), min(H, y + R + 1)
        i, o = inner[y0:y1, x0:x1], outer[y0:y1, x0:x1]
        if i.sum() < 5 or o.sum() < max(5, R):
            continue
        ds = np.linalg.norm(ls[y0:y1, x0:x1][i].mean(0) - ls[y0:y1, x0:x1][o].mean(0))
        dr = np.linalg.norm(lr[y0:y1, x0:x1][i].mean(0) - lr[y0:y1, x0:x1][o].mean(0))
        added.append(dr - ds)
        natural.append(ds)
    if not added:
        return 0.0, 0.0
    return float(np.percentile(added, 75)), float(np.median(natural))


def cheek_lightness(img: np.ndarray, xy: np.ndarray) -> float:
    """Median L* (0-100) on discs around the face's cheek landmarks: the face's skin tone, for comparing
    a result with the user's photo (the result's cheeks are at the scene face's landmarks)."""
    r = max(2, int(round(0.1 * iod(xy))))
    m = np.zeros(img.shape[:2], np.uint8)
    for i in CHEEKS:
        cv2.circle(m, (int(round(xy[i, 0])), int(round(xy[i, 1]))), r, 255, -1)
    return float(np.median(_lab_float(img)[m > 0][:, 0]))


def tone_spill(scene: np.ndarray, toned: np.ndarray, xy: np.ndarray, others: tuple = ()) -> float:
    """What recolouring the scene people's skin (``toned``, engine.tone) changed where the scene is not
    skin: the 95th percentile, over the pixels within 4 eye distances of the face, outside its outline
    (the paste covers that), that neither its skin model nor those of the ``others`` faces (the partner,
    recoloured to their own user's tone) accept (hair, clothes, background; but also a neck in deep
    shadow, which the cheek model calls too dark), of the largest per-channel change in grey levels. 0
    when nothing was recoloured; a tone spilled onto a white shirt or a grey wall shows as tens."""
    e = iod(xy)
    c = xy[:468].mean(0)
    m = np.zeros(scene.shape[:2], np.uint8)
    cv2.circle(m, (int(round(c[0])), int(round(c[1]))), int(round(4 * e)), 255, -1)
    sel = (m > 0) & nonskin(scene, skin_model(scene, xy)) & (oval_mask(scene.shape, xy, grow=0.1) == 0)
    for o in others:
        sel &= nonskin(scene, skin_model(scene, o))
    if not sel.any():
        return 0.0
    d = cv2.absdiff(scene, toned).max(axis=2)
    return float(np.percentile(d[sel], 95))


def landmark_error(scene_xy: np.ndarray, result_xy: np.ndarray, n: int = 468) -> float:
    """Mean distance of the first ``n`` mesh points, result vs scene face, over the scene face's IOD."""
    return float(np.linalg.norm(result_xy[:n] - scene_xy[:n], axis=1).mean() / max(iod(scene_xy), 1e-6))
