"""Skin colour model of one face, sampled from its own mesh (cheeks, nose bridge, mid forehead), and
what the engine reads from it: a per-pixel skin probability (hair strands, background, occluders are
not skin) and the regions of a face that must not be judged by colour (eyes, brows, lips, nostrils).

All functions take an image and dense landmarks in the same pixel frame; callers run them on a crop
at the engine's working size (about 100-140 px between the eyes), so cost does not grow with the photo.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .landmarks import FACE_OVAL, INNER_LIPS, LEFT_BROW, LEFT_EYE, OUTER_LIPS, RIGHT_BROW, RIGHT_EYE

# Sample points: cheeks (under the eyes and mid-cheek), nose bridge, lower forehead between the brows.
SKIN_SAMPLES = [50, 280, 117, 346, 205, 425, 6, 197, 9, 151, 101, 330]
NOSE = [168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 129, 358, 49, 279, 64, 294, 48, 278, 115, 344]
# Lower face (chin and jaw below the mouth corners, under the nose), for the occlusion check.
LOWER_FACE = [57, 43, 106, 182, 83, 18, 313, 406, 335, 273, 287, 410, 322, 391, 393, 164, 167, 165, 92, 186]
CHIN = [152, 148, 176, 149, 150, 136, 172, 58, 132, 361, 288, 397, 365, 379, 378, 400, 377]

# LAB (OpenCV 8-bit) tolerances: chroma is what tells skin from hair; lightness varies with shading.
_MIN_CHROMA_STD = 2.5
_MIN_L_STD = 8.0
_L_WEIGHT = 0.35  # lightness counts less than chroma (shadows)
_L_WEIGHT_BRIGHT = 0.7  # grey/white hair is brighter than the skin


@dataclass
class SkinModel:
    mean: np.ndarray  # LAB (3,)
    std: np.ndarray  # LAB (3,), floored

    def distance(self, lab: np.ndarray) -> np.ndarray:
        """Normalised colour distance of each LAB pixel from the skin (about < 2.5 skin, > 4 not)."""
        d = (lab.astype(np.float32) - self.mean) / self.std
        d[..., 0] *= np.where(d[..., 0] > 0, _L_WEIGHT_BRIGHT, _L_WEIGHT)  # shadows are still skin
        return np.sqrt((d * d).sum(-1))

    def probability(self, lab: np.ndarray, lo: float = 2.5, hi: float = 4.5) -> np.ndarray:
        return np.clip((hi - self.distance(lab)) / (hi - lo), 0.0, 1.0).astype(np.float32)


def poly_mask(shape: tuple[int, int], poly: np.ndarray, hull: bool = False) -> np.ndarray:
    pts = np.asarray(poly, np.float32).reshape(-1, 2)
    if hull:
        pts = cv2.convexHull(pts).reshape(-1, 2)
    m = np.zeros(shape, np.uint8)
    cv2.fillPoly(m, [np.round(pts * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
    return m


def dilate(m: np.ndarray, px: float) -> np.ndarray:
    r = int(round(px))
    if r < 1:
        return m
    return cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))


def sample_model(lab: np.ndarray, xy: np.ndarray, iod: float) -> SkinModel:
    """Robust (median / MAD) LAB skin statistics from small discs around :data:`SKIN_SAMPLES`."""
    h, w = lab.shape[:2]
    m = np.zeros((h, w), np.uint8)
    r = max(1, int(round(0.07 * iod)))
    for i in SKIN_SAMPLES:
        x, y = xy[i]
        if 0 <= x < w and 0 <= y < h:
            cv2.circle(m, (int(round(x)), int(round(y))), r, 255, -1)
    px = lab[m > 0].astype(np.float32)
    if len(px) < 8:
        px = lab.reshape(-1, 3).astype(np.float32)
    med = np.median(px, 0)
    mad = np.median(np.abs(px - med), 0) * 1.4826
    std = np.maximum(mad, [_MIN_L_STD, _MIN_CHROMA_STD, _MIN_CHROMA_STD]).astype(np.float32)
    return SkinModel(med.astype(np.float32), std)


def feature_mask(shape: tuple[int, int], xy: np.ndarray, iod: float, grow: float = 0.06,
                 nose: bool = True) -> np.ndarray:
    """uint8 mask of eyes, brows, lips (and the nose): parts that are not skin-coloured by nature."""
    m = np.zeros(shape, np.uint8)
    groups = [RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, OUTER_LIPS] + ([NOSE] if nose else [])
    for g in groups:
        m = cv2.bitwise_or(m, poly_mask(shape, xy[g], hull=True))
    return dilate(m, grow * iod)


def skin_probability(img: np.ndarray, xy: np.ndarray, iod: float, model: SkinModel | None = None) -> np.ndarray:
    """float32 [0, 1]: how skin-like each pixel of ``img`` (BGR) is for this face, cleaned of speckles
    (isolated pores, highlights) so only strands and patches of non-skin remain."""
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    model = model or sample_model(lab, xy, iod)
    p = model.probability(lab)
    k = max(3, int(round(0.04 * iod)) | 1)
    p = cv2.medianBlur((p * 255).astype(np.uint8), min(k, 5)).astype(np.float32) / 255.0
    return p


def _face_frame(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    re, le = xy[RIGHT_EYE].mean(0), xy[LEFT_EYE].mean(0)
    u = (le - re) / max(float(np.linalg.norm(le - re)), 1e-6)
    return (re + le) / 2.0, np.array([-u[1], u[0]])


def hair_mask(img: np.ndarray, xy: np.ndarray, iod: float) -> np.ndarray:
    """uint8 mask of non-skin regions that reach into the face from its upper or side edge (hair
    strands, a fringe, a hat brim, a hand from the side). Non-skin patches that stay inside the face
    (shadows, freckles, make-up, the features) are not hair and are kept."""
    shape = img.shape[:2]
    p = skin_probability(img, xy, iod)
    feats = feature_mask(shape, xy, iod)
    region = poly_mask(shape, xy[FACE_OVAL])
    nonskin = ((p < 0.5) & (feats == 0) & (dilate(region, 0.15 * iod) > 0)).astype(np.uint8)
    if not nonskin.any():
        return np.zeros(shape, np.uint8)
    inner = cv2.erode(region, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * max(1, int(0.12 * iod)) + 1,) * 2))
    o, v = _face_frame(xy)
    mouth_v = float((xy[[61, 291]].mean(0) - o) @ v)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    above = ((xx - o[0]) * v[0] + (yy - o[1]) * v[1]) < mouth_v
    seed = (nonskin > 0) & (inner == 0) & above
    n, labels = cv2.connectedComponents(nonskin, connectivity=8)
    hit = np.unique(labels[seed])
    hit = hit[hit > 0]
    if len(hit) == 0:
        return np.zeros(shape, np.uint8)
    return np.isin(labels, hit).astype(np.uint8) * 255


def source_keep(img: np.ndarray, xy: np.ndarray, iod: float) -> tuple[np.ndarray, np.ndarray]:
    """``(hair, keep)`` in ``img``'s frame: ``hair`` (uint8) covers hair strands and things reaching into
    the face from its edge (see :func:`hair_mask`), grown by a small margin, to be painted over with
    the surrounding skin; ``keep`` (float32 [0, 1]) is 0 beyond the face outline where the photo is
    not skin (background, collar): only the neck may come along with the face there."""
    hair = dilate(hair_mask(img, xy, iod), 0.03 * iod)
    inside = poly_mask(img.shape[:2], xy[FACE_OVAL]).astype(np.float32) / 255.0
    keep = np.maximum(inside, (skin_probability(img, xy, iod) > 0.5).astype(np.float32))
    return hair, np.clip(cv2.GaussianBlur(keep, (0, 0), max(0.8, 0.02 * iod)), 0.0, 1.0)


def occlusion(img: np.ndarray, xy: np.ndarray, iod: float) -> dict[str, float]:
    """Share of foreign (non-skin) pixels in the lower face (chin, mouth surroundings) and around the
    eyes (between brows and cheeks, eyes themselves excluded). ``img`` at working size.

    Lower face: a pixel counts when it is not skin-coloured, not redder than the skin (lips) and
    flat (a beard is textured; a microphone, a phone, a hand-held object mostly is not) or strongly
    off-skin in chroma. Eyes: any non-skin pixel (hair strands, sunglasses, a hand)."""
    shape = img.shape[:2]
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    model = sample_model(lab, xy, iod)
    dist = model.distance(lab)
    nonskin = dist > 4.0
    redder = (lab[..., 1].astype(np.float32) - model.mean[1]) > 2.0 * model.std[1]
    L = lab[..., 0].astype(np.float32)
    d = (lab.astype(np.float32) - model.mean) / model.std
    sig = max(1.0, 0.05 * iod)
    mu = cv2.GaussianBlur(L, (0, 0), sig)
    local_std = np.sqrt(np.maximum(cv2.GaussianBlur(L * L, (0, 0), sig) - mu * mu, 0.0))
    flat = local_std < 6.0
    chroma_off = np.sqrt(d[..., 1] ** 2 + d[..., 2] ** 2) > 6.0
    foreign = nonskin & ~redder & flat & (chroma_off | (np.hypot(d[..., 1], d[..., 2]) > 3.0))
    lower = poly_mask(shape, xy[CHIN + LOWER_FACE], hull=True) > 0
    lower_frac = float(foreign[lower].mean()) if lower.any() else 0.0
    # the lips: red, skin-like or (open mouth) teeth; a microphone or a hand-held object in front
    # of the mouth makes them something else
    lips = (poly_mask(shape, xy[OUTER_LIPS]) > 0) & (poly_mask(shape, xy[INNER_LIPS]) == 0)  # not the open mouth
    ab = lab[..., 1:].astype(np.float32) - 128.0
    sab = model.mean[1:] - 128.0
    chroma, skin_chroma = np.hypot(ab[..., 0], ab[..., 1]), float(np.hypot(*sab))
    cos_hue = (ab @ sab) / np.maximum(chroma * skin_chroma, 1e-6)
    # lips of every skin tone keep a warm hue with some colour; grey, black, white or blue things do not
    off_colour = (chroma < 0.4 * skin_chroma) | (cos_hue < 0.64)
    lip_foreign = off_colour & (L < model.mean[0] + model.std[0])  # bright and grey: teeth
    lips_frac = float(lip_foreign[lips].mean()) if lips.any() else 0.0

    eyes = np.zeros(shape, np.uint8)
    for g in (RIGHT_EYE, LEFT_EYE):
        eyes = cv2.bitwise_or(eyes, dilate(poly_mask(shape, xy[g], hull=True), 0.28 * iod))
    inner = feature_mask(shape, xy, iod, grow=0.04, nose=False)
    band = (eyes > 0) & (inner == 0) & (poly_mask(shape, xy[FACE_OVAL]) > 0)
    eye_frac = float(nonskin[band].mean()) if band.any() else 0.0
    return {"lower": lower_frac, "lips": lips_frac, "eyes": eye_frac}
