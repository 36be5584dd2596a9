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

from .landmarks import (
    FACE_OVAL,
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
    face_frame,
    frame_grid,
)

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
SHINE_CHROMA = 0.5  # a lighter patch with at least this share of the skin's chroma...
SHINE_HUE = 15.0  # ...and within this many degrees of its hue is shine on the skin, not hair
FRINGE = 0.7  # share of non-skin just above the brows from which a photo has a fringe down to them
SIDE_FRINGE = 0.38  # ...just above one brow: a side fringe or a lock of hair over it, which...
BROW_HAIR = 0.35  # ...covers this share of the ring around that brow (it comes down over the brow)


@dataclass
class SkinModel:
    mean: np.ndarray  # LAB (3,)
    std: np.ndarray  # LAB (3,), floored

    def distance(self, lab: np.ndarray) -> np.ndarray:
        """Normalised colour distance of each LAB pixel from the skin (about < 2.5 skin, > 4 not)."""
        d = lab.astype(np.float32)  # in place from here (this runs several times per face)
        d -= self.mean
        d *= (1.0 / self.std).astype(np.float32)
        lum = d[..., 0]
        lum *= np.where(lum > 0, np.float32(_L_WEIGHT_BRIGHT), np.float32(_L_WEIGHT))  # shadows are still skin
        d *= d
        return cv2.sqrt(cv2.transform(d, np.ones((1, 3), np.float32)))  # sum over the channels

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
    """Grow a uint8 mask by ``px`` (a disc); by distance transform for large radii (cost independent of px)."""
    r = int(round(px))
    if r < 1:
        return m
    if r <= 3:
        return cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    dist = cv2.distanceTransform((m == 0).astype(np.uint8), cv2.DIST_L2, 3)
    return (dist <= r).astype(np.uint8) * 255


def erode(m: np.ndarray, px: float) -> np.ndarray:
    """Shrink a uint8 mask by ``px`` (see :func:`dilate`)."""
    r = int(round(px))
    if r < 1:
        return m
    return (cv2.distanceTransform((m > 0).astype(np.uint8), cv2.DIST_L2, 3) > r).astype(np.uint8) * 255


class Outline:
    """The face outline's mask (:data:`FACE_OVAL`) with its grown and shrunk versions, all from one pair of
    distance transforms (the same pixels as :func:`dilate` / :func:`erode` of it)."""

    def __init__(self, shape: tuple[int, int], xy: np.ndarray):
        self.mask = poly_mask(shape, xy[FACE_OVAL])
        self._out: np.ndarray | None = None
        self._in: np.ndarray | None = None

    def grown(self, px: float) -> np.ndarray:
        r = int(round(px))
        if r <= 3:
            return dilate(self.mask, px)
        if self._out is None:
            self._out = cv2.distanceTransform((self.mask == 0).astype(np.uint8), cv2.DIST_L2, 3)
        return (self._out <= r).astype(np.uint8) * 255

    def shrunk(self, px: float) -> np.ndarray:
        r = int(round(px))
        if r < 1:
            return self.mask
        if self._in is None:
            self._in = cv2.distanceTransform((self.mask > 0).astype(np.uint8), cv2.DIST_L2, 3)
        return (self._in > r).astype(np.uint8) * 255


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
                 nose: bool = True, lips: bool = True, brows: bool = True) -> np.ndarray:
    """uint8 mask of eyes, brows, lips (and the nose): parts that are not skin-coloured by nature.
    ``lips=False``: the mouth's opening (teeth, tongue) but not the lips around it."""
    m = np.zeros(shape, np.uint8)
    groups = ([RIGHT_EYE, LEFT_EYE] + ([RIGHT_BROW, LEFT_BROW] if brows else [])
              + [OUTER_LIPS if lips else INNER_LIPS] + ([NOSE] if nose else []))
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


def hair_mask(img: np.ndarray, xy: np.ndarray, iod: float, outline: Outline | None = None) -> np.ndarray:
    """uint8 mask of hair strands and things reaching into the face from its upper or side edge (a
    fringe, a hat brim, a hand from the side). Non-skin patches that stay inside the face (shadows,
    freckles, make-up, the features) are not hair and are kept.

    Pass 1: non-skin components (eyes, brows and lips set aside) that touch the face's upper/side
    edge. Pass 2: a colour model of what pass 1 found catches the rest of the same strands where
    they cross the nose or the cheeks (the eye, brow and lip outlines themselves stay untouched)."""
    shape = img.shape[:2]
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    model = sample_model(lab, xy, iod)
    p = model.probability(lab)
    p = cv2.medianBlur((p * 255).astype(np.uint8), 3).astype(np.float32) / 255.0
    feats = feature_mask(shape, xy, iod, grow=0.03, nose=False)
    for g in (RIGHT_EYE, LEFT_EYE):  # lashes, lid creases and crow's feet are not hair either
        feats = cv2.bitwise_or(feats, dilate(poly_mask(shape, xy[g], hull=True), 0.15 * iod))
    outline = outline or Outline(shape, xy)
    region = outline.mask
    near = outline.grown(0.15 * iod) > 0
    # not skin-coloured, and either off the skin's hue or textured (strands): a smooth shadow on the
    # cheek is darker than the skin model but neither
    d = (lab.astype(np.float32) - model.mean) / model.std
    L = lab[..., 0].astype(np.float32)
    sig = max(0.8, 0.04 * iod)
    mu = cv2.GaussianBlur(L, (0, 0), sig)
    textured = np.sqrt(np.maximum(cv2.GaussianBlur(L * L, (0, 0), sig) - mu * mu, 0.0)) > 5.0
    off_hue = np.hypot(d[..., 1], d[..., 2]) > 3.0
    nonskin = ((p < 0.5) & (off_hue | (textured & (np.abs(d[..., 0]) > 3.0))) & (feats == 0) & near)
    nonskin = nonskin.astype(np.uint8)
    if not nonskin.any():
        return np.zeros(shape, np.uint8)
    inner = outline.shrunk(max(1, int(0.12 * iod)))
    o, u, v, _ = face_frame(xy)
    mouth_v = float((xy[[61, 291]].mean(0) - o) @ v)
    pu, pv = frame_grid(shape, o, u, v)
    above = pv < mouth_v
    seed = (nonskin > 0) & (inner == 0) & above
    _, labels = cv2.connectedComponents(nonskin, connectivity=8)
    # ...and reach into the face (a strand across it), not only lie along its edge (temple hair,
    # ears, the face's own shadowed edge), where the feathered paste fades anyway
    deep = outline.shrunk(max(1, int(0.25 * iod)))
    seeded = np.unique(labels[seed])
    deep_hit = np.unique(labels[deep > 0])
    chroma_dev = np.hypot(d[..., 1], d[..., 2])
    dt = cv2.distanceTransform(nonskin, cv2.DIST_L2, 3)
    nl = int(labels.max()) + 1
    count = np.maximum(np.bincount(labels.ravel(), minlength=nl), 1)
    mean_dt = np.bincount(labels.ravel(), weights=dt.ravel(), minlength=nl) / count
    mean_col = np.bincount(labels.ravel(), weights=chroma_dev.ravel(), minlength=nl) / count
    hit = []
    for lb in seeded:
        if lb == 0:
            continue
        colour = float(mean_col[lb])
        if float(mean_dt[lb]) > 0.05 * iod:
            if colour > 8.0:  # a wide lock of clearly other colour; else the face's shadowed side
                hit.append(lb)
        elif lb in deep_hit or colour > 6.0:  # a strand across the face, or one of clearly other colour
            hit.append(lb)
    hit = np.array([lb for lb in hit if not _skin_detail(lab, labels, lb, p, region, iod)], np.int32)
    # below the mouth only at the sides, clear of the jaw line (jaw shadows and beards are not hair)
    chin_v = float((xy[152] - o) @ v)
    sides = (np.abs(pu) > 0.6 * iod) & (pv < mouth_v + 0.4 * (chin_v - mouth_v)) & (inner > 0)
    # shine on the skin (a lit cheek, a forehead's glare) joined to hair or background beyond the
    # outline is not hair: lighter than the skin, a little paler, the skin's own hue
    skin_chroma = float(np.hypot(model.mean[1] - 128.0, model.mean[2] - 128.0))
    ab = lab[..., 1:].astype(np.float32) - 128.0
    skin_ab = model.mean[1:] - 128.0
    chroma = np.hypot(ab[..., 0], ab[..., 1])
    cos_hue = (ab @ skin_ab) / np.maximum(chroma * max(skin_chroma, 1e-6), 1e-6)
    shine = ((L > model.mean[0]) & (chroma > SHINE_CHROMA * skin_chroma) & (chroma < 1.05 * skin_chroma)
             & (cos_hue > np.cos(np.radians(SHINE_HUE))))
    # grey or white hair (and glare) along the face's edge: brighter than the skin and nearly colourless
    # (the wide-lock rule above keeps a component only when it is clearly coloured)
    pale = (p < 0.5) & (d[..., 0] > 2.0) & (chroma < 0.6 * skin_chroma)
    pale &= (region > 0) & (deep == 0) & (above | sides) & (feats == 0) & ~shine
    if len(hit) == 0 and not pale.any():
        return np.zeros(shape, np.uint8)
    hair = (np.isin(labels, hit) & (region > 0) & (above | sides) & ~shine) | pale
    if hair.sum() >= 20:
        px = lab[hair].astype(np.float32)
        hm, hs = np.median(px, 0), np.maximum(np.median(np.abs(px - np.median(px, 0)), 0) * 1.4826, 3.0)
        # the same strands where they cross the nose or a cheek: near pass 1's hair, never on the
        # eyes with their lashes and liner, the brows, the lips or the nostrils
        tight = cv2.bitwise_or(feature_mask(shape, xy, iod, grow=0.0, nose=False),
                               dilate(feature_mask(shape, xy, iod, grow=0.0, nose=True)
                                      & ~poly_mask(shape, xy[RIGHT_BROW + LEFT_BROW], hull=True), 0.1 * iod)) > 0
        close = dilate(hair.astype(np.uint8) * 255, 0.35 * iod) > 0
        cand = (p < 0.5) & ~tight & close & (region > 0) & above & ~shine
        ys, xs = np.nonzero(cand)  # the colour test only where it can change anything
        dh = np.sqrt((((lab[ys, xs].astype(np.float32) - hm) / hs) ** 2).sum(-1))
        hair[ys[dh < 3.0], xs[dh < 3.0]] = True
    return hair.astype(np.uint8) * 255


SKIN_DETAIL_L = 0.85  # a patch this light against the skin around it...
SKIN_DETAIL_HUE = 12.0  # ...within this many degrees of its hue...
SKIN_DETAIL_CHROMA = (0.4, 1.3)  # ...and with this share of its chroma is the skin's own detail


def _skin_detail(lab: np.ndarray, labels: np.ndarray, lb: int, p: np.ndarray, region: np.ndarray,
                 iod: float) -> bool:
    """Whether non-skin component ``lb`` of ``labels`` is the skin's own detail rather than hair: inside
    the outline it is nearly as light as the skin just around it, of the same hue and about as
    colourful. Crow's feet and the shaded side of a dark-skinned face fail the skin colour test and
    reach into the face like a strand. Hair across a face is far darker than the skin beside it, or
    of another hue, or grey."""
    ys, xs = np.nonzero(labels == lb)
    r = max(2, int(round(0.08 * iod)))
    y0, y1 = max(0, ys.min() - r - 1), min(labels.shape[0], ys.max() + r + 2)
    x0, x1 = max(0, xs.min() - r - 1), min(labels.shape[1], xs.max() + r + 2)
    inside = region[y0:y1, x0:x1] > 0
    comp = ((labels[y0:y1, x0:x1] == lb) & inside).astype(np.uint8) * 255
    if not comp.any():
        return False
    ring = (dilate(comp, max(1, int(round(0.03 * iod)))) == 0) & (dilate(comp, r) > 0)
    ring &= (p[y0:y1, x0:x1] > 0.5) & inside
    if ring.sum() < 10:
        return False
    box = lab[y0:y1, x0:x1].astype(np.float32)
    c, s = box[comp > 0].mean(0) - (0.0, 128.0, 128.0), box[ring].mean(0) - (0.0, 128.0, 128.0)
    if c[0] < SKIN_DETAIL_L * s[0]:
        return False
    k = float(np.hypot(c[1], c[2])) / max(float(np.hypot(s[1], s[2])), 1.0)
    if not SKIN_DETAIL_CHROMA[0] <= k <= SKIN_DETAIL_CHROMA[1]:
        return False
    dh = np.degrees(np.arctan2(c[2], c[1]) - np.arctan2(s[2], s[1]))
    return bool(abs((dh + 180.0) % 360.0 - 180.0) < SKIN_DETAIL_HUE)


BEYOND = 0.25  # eye distances beyond the user's outline that jaw and neck skin may come from
EAR_SIDE = 0.75  # eye distances from the face's midline beyond which the outline's band is an ear's place


def source_keep(img: np.ndarray, xy: np.ndarray, iod: float, edge: float = 0.0,
                p: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(hair, keep)`` in ``img``'s frame: ``hair`` (uint8) covers hair strands and things reaching into
    the face from its edge (see :func:`hair_mask`), grown by a small margin, to be painted over with
    the surrounding skin; ``keep`` (float32 [0, 1]) is 0 beyond the face outline where the photo is
    not skin (background, collar): only the neck may come along with the face there. With ``edge``
    (eye distances) the same holds in that band inside the outline (the mesh's outline often takes in
    a little hair, ear or background; grey hair and glare at the temples), and beyond the outline only
    skin below the mouth (jaw, neck) is kept: an ear is skin-coloured too; nor is the band at ear
    height along the sides (:data:`EAR_SIDE`). ``p``: :func:`skin_probability` of ``img``, when the
    caller has it already."""
    shape = img.shape[:2]
    outline = Outline(shape, xy)
    hair = dilate(hair_mask(img, xy, iod, outline), 0.05 * iod)
    region = outline.mask
    skin = (skin_probability(img, xy, iod) if p is None else p) > 0.5
    if edge > 0:
        o, u, v, _ = face_frame(xy)
        mouth_v = float((xy[[61, 291]].mean(0) - o) @ v)
        pu, pv = frame_grid(shape, o, u, v)
        below = pv > mouth_v
        # and close to the outline: further out a pale background or an earlobe passes for skin too
        skin &= (region > 0) | (below & (outline.grown(BEYOND * iod) > 0))
        # in the band along the sides at ear height an earlobe (skin-coloured) or an earring's stud lies
        # on the outline: a turned scene's far cheek stretched them over its skin as a pale blob; there
        # the scene's own skin shows, recoloured
        ears = (np.abs(pu) > EAR_SIDE * iod) & (pv > 0.1 * iod) & ~below
        skin &= ~ears
        region = outline.shrunk(edge * iod)
    inside = region.astype(np.float32) / 255.0
    keep = np.maximum(inside, skin.astype(np.float32))
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
    return {"lower": lower_frac, "lips": lips_frac, "eyes": eye_frac, "fringe": _fringe(nonskin, xy, iod)[0]}


def _fringe(nonskin: np.ndarray, xy: np.ndarray, iod: float) -> tuple[float, float, float]:
    """Shares of non-skin pixels in the strip just above the brows (a fringe down to them): over both
    brows, above the right one, above the left one."""
    shape = nonskin.shape[:2]
    o, _, v, _ = face_frame(xy)
    shift = np.float32([[1, 0, -0.22 * iod * v[0]], [0, 1, -0.22 * iod * v[1]]])
    strips = []
    for g in (RIGHT_BROW, LEFT_BROW):
        brow = poly_mask(shape, xy[g], hull=True)
        above = cv2.warpAffine(dilate(brow, 0.04 * iod), shift, (shape[1], shape[0])) > 0
        strips.append(above & (brow == 0))
    right, left = strips
    both, r, lf = (float(nonskin[st].mean()) if st.any() else 0.0 for st in (right | left, right, left))
    return both, r, lf


def face_box(img: np.ndarray, xy: np.ndarray, iod: float, margin: float = 0.3):
    """(img cropped to the face outline's box plus ``margin`` eye distances, xy in it, the slices)."""
    lo = xy[FACE_OVAL].min(0) - margin * iod
    hi = xy[FACE_OVAL].max(0) + margin * iod
    h, w = img.shape[:2]
    x0, y0 = max(0, int(lo[0])), max(0, int(lo[1]))
    x1, y1 = min(w, int(np.ceil(hi[0])) + 1), min(h, int(np.ceil(hi[1])) + 1)
    box = (slice(y0, y1), slice(x0, x1))
    return img[box], xy - np.array([x0, y0], np.float64), box


def has_fringe(img: np.ndarray, xy: np.ndarray, iod: float, side: float = SIDE_FRINGE,
               hair: np.ndarray | None = None) -> bool:
    """Hair down to the brows: across the forehead (:data:`FRINGE` of the strip above both brows), or
    a lock over one brow: ``side`` of the strip above it not skin and ``hair`` (:func:`hair_mask`, when
    given) on :data:`BROW_HAIR` of the ring around that brow. Pasted, such a photo's forehead carries
    the hair's remnants onto the scene face (a dark streak across the brow, a flat painted patch beside
    it); the swap keeps the scene's forehead and brows instead. A side fringe that stops above the brows
    is not enough: the brows are the user's own and are pasted."""
    img, xy, box = face_box(img, np.asarray(xy, np.float64), iod)
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    both, right, left = _fringe(sample_model(lab, xy, iod).distance(lab) > 4.0, xy, iod)
    if both > FRINGE:
        return True
    if hair is None:
        return False
    hair = hair[box]
    shape = img.shape[:2]
    for share, g in ((right, RIGHT_BROW), (left, LEFT_BROW)):
        if share <= side:
            continue
        brow = poly_mask(shape, xy[g], hull=True)
        ring = (dilate(brow, 0.12 * iod) > 0) & (dilate(brow, 0.03 * iod) == 0)
        if ring.any() and float((hair[ring] > 0).mean()) > BROW_HAIR:
            return True
    return False


def clear_forehead(img: np.ndarray, xy: np.ndarray, iod: float, k: float = 2.5, share: float = 0.3,
                   steps: int = 20) -> float:
    """Share (0..1) of the forehead's height, from the brows up to the mesh's outline, that is free of
    hair: scanning up from the brows, the first band across the forehead where more than ``share`` of
    the pixels are ``k`` times as textured as the cheeks' skin (strands) is where hair begins. Brown
    bangs have the skin's hue and pass its colour model; their strands do not pass for skin's texture.
    1.0: no hair found up to the outline."""
    img, xy, _ = face_box(img, np.asarray(xy, np.float64), iod, margin=0.1)
    shape = img.shape[:2]
    L = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
    fine = np.abs(L - cv2.GaussianBlur(L, (0, 0), max(0.7, 0.03 * iod)))
    energy = cv2.GaussianBlur(fine, (0, 0), max(0.7, 0.04 * iod))
    o, u, v, _ = face_frame(xy)
    pu, pv = frame_grid(shape, o, u, v)
    oval = poly_mask(shape, xy[FACE_OVAL]) > 0
    feats = feature_mask(shape, xy, iod, 0.06) > 0
    nose_v = float((xy[1] - o) @ v)
    cheeks = (oval & ~feats & (pv > 0.25 * iod) & (pv < nose_v) & (np.abs(pu) > 0.35 * iod)
              & (np.abs(pu) < 0.8 * iod))
    if not cheeks.any():
        return 1.0
    textured = energy > max(k * float(np.median(energy[cheeks])), 3.0)
    brow_v = float(min(((xy[RIGHT_BROW] - o) @ v).min(), ((xy[LEFT_BROW] - o) @ v).min()))
    top_v = float(((xy[FACE_OVAL] - o) @ v).min())
    reach = float(np.abs(np.concatenate([(xy[RIGHT_BROW] - o) @ u, (xy[LEFT_BROW] - o) @ u])).max())
    band = oval & ~feats & (np.abs(pu) < 0.8 * reach)
    height = brow_v - top_v
    if height <= 1.0:
        return 1.0
    for i in range(steps):
        row = band & (pv <= brow_v - height * i / steps) & (pv > brow_v - height * (i + 1) / steps)
        if row.sum() >= 5 and float(textured[row].mean()) > share:
            return i / steps
    return 1.0


def wide_blur(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur whose cost does not grow with sigma: wide ones run on a copy shrunk to ~3 px sigma."""
    h, w = x.shape[:2]
    d = sigma / 3.0
    if d <= 1.5:
        return cv2.GaussianBlur(x, (0, 0), sigma)
    sw, sh = max(2, int(round(w / d))), max(2, int(round(h / d)))
    small = cv2.GaussianBlur(cv2.resize(x, (sw, sh), interpolation=cv2.INTER_AREA), (0, 0), sigma * sw / w)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def fill_with_skin(img: np.ndarray, hole: np.ndarray, xy: np.ndarray, iod: float,
                   p: np.ndarray | None = None) -> np.ndarray:
    """``img`` with the ``hole`` pixels replaced by the face's own skin around them: a mask-normalised
    blur of the skin-coloured pixels only, so the hair outside the face (unlike with a plain inpaint)
    never bleeds back in. Smooth by design (computed on a small copy); grain and detail come back
    when the face is pasted."""
    h, w = img.shape[:2]
    p = skin_probability(img, xy, iod) if p is None else p
    sk = (p > 0.8) & (dilate(hole, 0.05 * iod) == 0)  # not the strands' fringe
    f = min(1.0, 24.0 / max(iod, 1.0))  # ~24 px between the eyes is plenty for a smooth fill
    sw, sh = max(2, int(round(w * f))), max(2, int(round(h * f)))
    wgt = cv2.resize(sk.astype(np.float32), (sw, sh), interpolation=cv2.INTER_AREA)
    col = cv2.resize(img.astype(np.float32) * sk[..., None], (sw, sh), interpolation=cv2.INTER_AREA)
    i_s = iod * sw / w
    num = cv2.GaussianBlur(col, (0, 0), max(0.8, 0.12 * i_s))
    den = cv2.GaussianBlur(wgt, (0, 0), max(0.8, 0.12 * i_s))[..., None]
    num2 = cv2.GaussianBlur(col, (0, 0), max(1.5, 0.5 * i_s))  # where no skin is near: wider
    den2 = cv2.GaussianBlur(wgt, (0, 0), max(1.5, 0.5 * i_s))[..., None]
    mean = img[sk].astype(np.float32).mean(0) if sk.any() else img.reshape(-1, 3).astype(np.float32).mean(0)
    far = np.where(den2 > 1e-3, num2 / np.maximum(den2, 1e-6), mean)
    fill = np.where(den > 0.05, num / np.maximum(den, 1e-6), far).astype(np.float32)
    fill = cv2.resize(fill, (w, h), interpolation=cv2.INTER_LINEAR)
    a = cv2.GaussianBlur((hole > 0).astype(np.float32), (0, 0), max(0.7, 0.01 * iod))[..., None]
    out = img.astype(np.float32) * (1 - a) + fill * a
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
