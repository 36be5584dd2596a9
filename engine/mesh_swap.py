"""Dense-landmark face swap: piecewise-affine (mesh) warp of the user's face onto the scene face's
geometry (the jaw line is the scene's), a face mask reaching the scene's jaw edge and fading over its
forehead and cheeks, the user's hair strands painted over with their own skin (:mod:`engine.skin`),
scene mouth/eyes when expressions disagree, LAB colour transfer measured on skin only (clamped gains)
followed by a smooth Lab colour field (blurred scene skin minus blurred paste skin, at the working
size) matched fully near the paste's edge so its tone meets the scene's neck, ears and temples
(eyes, brows and teeth keep their own hue), the scene's own face recoloured to the paste's tone where
the user's photo has nothing usable (beyond their outline, smeared texture), sharpness/grain
matching, feathered alpha blend.

Every stage runs on a crop around the scene face scaled to at most ``work_iod`` px between the eyes;
a larger face gets the result upscaled with the user's (or the scene's) fine detail added back, so
the time per face does not depend on the scene's resolution.
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from .align import similarity_transform, similarity_transform_3d, transform_points
from .blend import alpha_blend
from .color import transfer_stats
from .io import to_bgr_u8
from .landmarks import (
    FACE_OVAL,
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE,
    N_MESH,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
    Landmarks,
    brows_low,
    face_frame,
    frame_grid,
    mesh_triangles,
)
from .texture import match_grain, match_sharpness

MOUTH_OPEN = 0.12  # inner-lip gap / mouth width above which a mouth counts as open
EYE_CLOSED = 0.12  # lid gap / eye width below which an eye counts as closed
EYE_OPEN = 0.18

_LIP_IDX = sorted(set(INNER_LIPS) | set(OUTER_LIPS))


def mask_polygon(xy: np.ndarray, forehead_keep: float = 0.65, side_keep: float = 0.94,
                 jaw_grow: float | None = None, temple_keep: float | None = None,
                 brow_cut: float | None = None) -> np.ndarray:
    """Face-oval polygon that stops short of the hairline (keeps ``forehead_keep`` of the forehead above
    the brows) and of the ears (cheek width scaled by ``side_keep``).

    With ``jaw_grow`` (in eye distances) the lower face is not pulled in: below the nose the outline
    moves smoothly to the mesh's own jaw line, pushed outwards by ``jaw_grow`` so the paste reaches
    the jaw edge (no strip of the scene's beard or jaw line left inside).

    With ``temple_keep`` the outline above the eyes is pulled in towards the nose line by that factor
    (smoothly from the eye line to the brows): the temples, where a user's hair most often lies close to
    the skin's colour, stay the scene's.

    With ``brow_cut`` (eye distances) the outline's top is moved down to just below the brows (their
    lowest point plus ``brow_cut``): forehead and brows stay the scene's (a user with a fringe)."""
    xy = np.asarray(xy, np.float64)
    o, u, v, iod = face_frame(xy)
    oval = xy[FACE_OVAL] - o
    cu, cv = oval @ u, oval @ v
    brow_v = float(min(((xy[RIGHT_BROW] - o) @ v).min(), ((xy[LEFT_BROW] - o) @ v).min()))
    cv = np.where(cv < brow_v, brow_v + forehead_keep * (cv - brow_v), cv)
    if brow_cut is not None:
        cv = np.maximum(cv, brows_low(xy, o, v) + brow_cut * iod)
    mid_u = float(np.median((xy[[1, 4, 5, 195, 197, 6, 168]] - o) @ u))  # nose bridge line
    if temple_keep is not None:
        up = np.clip(cv / min(brow_v, -1e-3), 0.0, 1.0)  # 0 at the eye line, 1 at the brows and above
        up = up * up * (3 - 2 * up)
        cu = mid_u + (1.0 - (1.0 - temple_keep) * up) * (cu - mid_u)
    if jaw_grow is None:
        cu = mid_u + side_keep * (cu - mid_u)
        return (o + np.outer(cu, u) + np.outer(cv, v)).astype(np.float32)
    nose_v = float((xy[1] - o) @ v)
    mouth_v = float((xy[[61, 291]].mean(0) - o) @ v)
    t = np.clip((cv - nose_v) / max(mouth_v - nose_v, 1e-3), 0.0, 1.0)
    t = t * t * (3 - 2 * t)  # smoothstep: cheeks near the ears pulled in, jaw and chin not
    keep = side_keep + (1.0 - side_keep) * t
    cu = mid_u + keep * (cu - mid_u)
    # push the lower outline outwards (radially from the nose tip)
    cen = np.array([mid_u, nose_v])
    r = np.stack([cu, cv], 1) - cen
    r /= np.maximum(np.linalg.norm(r, axis=1, keepdims=True), 1e-6)
    cu = cu + jaw_grow * iod * t * r[:, 0]
    cv = cv + jaw_grow * iod * t * r[:, 1]
    return (o + np.outer(cu, u) + np.outer(cv, v)).astype(np.float32)


def fill_poly(shape: tuple[int, int], poly: np.ndarray) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    pts = np.round(np.asarray(poly, np.float32).reshape(-1, 2) * 16).astype(np.int32)
    cv2.fillPoly(m, [pts], 255, lineType=cv2.LINE_AA, shift=4)
    return m


def feather(mask_u8: np.ndarray, px: float) -> np.ndarray:
    """Erode by ~px/2 then Gaussian-blur with sigma px/2: a soft float mask whose 0.5 level sits inside."""
    k = max(1, int(round(px)))
    m = mask_u8
    if k > 1:
        er = max(1, k // 2)
        m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * er + 1, 2 * er + 1)))
        return np.clip(cv2.GaussianBlur(m.astype(np.float32) / 255.0, (0, 0), k / 2.0), 0.0, 1.0)
    return m.astype(np.float32) / 255.0


def _dilated_poly(shape, poly, px: float) -> np.ndarray:
    m = fill_poly(shape, poly)
    r = max(1, int(round(px)))
    return cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))


def piecewise_affine_maps(dst: np.ndarray, src: np.ndarray, shape: tuple[int, int],
                          depth: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward maps for ``cv2.remap``: each mesh triangle of ``dst`` (in output pixels) samples the
    matching triangle of ``src``. Pixels outside the mesh use the least-squares similarity.

    ``depth`` (per vertex, smaller = nearer) orders overlapping triangles of a turned face so the
    near side wins. Returns ``(map_x, map_y, inside)`` with ``inside`` a uint8 mesh coverage mask.
    """
    h, w = shape
    tris = mesh_triangles()
    dst = np.asarray(dst, np.float64)
    src = np.asarray(src, np.float64)
    if depth is not None:
        order = np.argsort(-np.asarray(depth, np.float64)[tris].mean(1), kind="stable")
        tris_sorted = tris[order]
    else:
        order = np.arange(len(tris))
        tris_sorted = tris
    ids = np.zeros((h, w), np.int32)
    dpts = np.round(dst).astype(np.int32)
    for k, t in zip(order, tris_sorted, strict=True):
        cv2.fillConvexPoly(ids, dpts[t], int(k) + 1)
    # affine per triangle: src = A @ [x, y, 1]
    D = np.concatenate([dst[tris].transpose(0, 2, 1), np.ones((len(tris), 1, 3))], axis=1)  # (K,3,3)
    S = src[tris].transpose(0, 2, 1)  # (K,2,3)
    det = np.linalg.det(D)
    ok = np.abs(det) > 1e-6
    G = similarity_transform(dst[:N_MESH], src[:N_MESH])
    A = np.repeat(G[None], len(tris), axis=0)
    A[ok] = S[ok] @ np.linalg.inv(D[ok])
    table = np.concatenate([G[None], A], axis=0).astype(np.float32).reshape(-1, 6)
    coef = table[ids]  # (h, w, 6)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x = coef[..., 0] * xx + coef[..., 1] * yy + coef[..., 2]
    map_y = coef[..., 3] * xx + coef[..., 4] * yy + coef[..., 5]
    return map_x, map_y, (ids > 0).astype(np.uint8) * 255


def _normalized_blur(x: np.ndarray, m: np.ndarray, sigma: float) -> np.ndarray:
    """Mask-normalised Gaussian blur (``x`` one or more channels, ``m`` a 2-D weight). Wide blurs run on a
    copy shrunk so sigma is ~4 px (the result is low-frequency anyway), which keeps the cost independent
    of sigma."""
    h, w = x.shape[:2]
    mx = x * (m[..., None] if x.ndim == 3 else m)
    d = sigma / 4.0
    if d > 1.5:
        sw, sh = max(2, int(round(w / d))), max(2, int(round(h / d)))
        xs = cv2.resize(mx, (sw, sh), interpolation=cv2.INTER_AREA)
        ms = cv2.resize(m, (sw, sh), interpolation=cv2.INTER_AREA)
        s = sigma * sw / w
        den = np.maximum(cv2.GaussianBlur(ms, (0, 0), s), 1e-3)
        out = cv2.GaussianBlur(xs, (0, 0), s) / (den[..., None] if x.ndim == 3 else den)
        return cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
    den = np.maximum(cv2.GaussianBlur(m, (0, 0), sigma), 1e-3)
    return cv2.GaussianBlur(mx, (0, 0), sigma) / (den[..., None] if x.ndim == 3 else den)


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def hair_below_brows(hair: np.ndarray, xy: np.ndarray, iod: float) -> np.ndarray:
    """float32 [0, 1]: the uint8 ``hair`` mask (strands found in the user's photo, warped to the scene)
    below the brows of the face whose mesh points are ``xy``, softened. There the user's photo has
    only the flat paint the strands were covered with; next to the scene face's own shading (a turned
    face's near cheek, a dark-skinned user's shaded temples) it showed as pale patches and creases.
    Above the brows (a fringe) the paint stays: the scene's forehead there cost identity."""
    o, u, v, _ = face_frame(xy)
    _, pv = frame_grid(hair.shape, o, u, v)
    below = _smoothstep((pv - brows_low(xy, o, v)) / (0.1 * iod))
    m = hair.astype(np.float32) / 255.0 * below
    return np.clip(cv2.GaussianBlur(m, (0, 0), max(0.8, 0.03 * iod)), 0.0, 1.0).astype(np.float32)


def solid_usable(usable: np.ndarray, px: float) -> np.ndarray:
    """``usable`` (float [0, 1], where the user's texture may be pasted) without strips narrower than
    about ``2 * px`` pixels between unusable parts: an ear's rim, painted-over strands and stretched
    pixels beyond the user's outline, left alone, showed as pale streaks in the scene's recoloured
    fill. A morphological opening of the usable part, softened; never more usable than before."""
    r = max(1, int(round(px)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    solid = cv2.morphologyEx((usable > 0.5).astype(np.uint8), cv2.MORPH_OPEN, disc)
    return np.minimum(usable, cv2.GaussianBlur(solid.astype(np.float32), (0, 0), 0.3 * r)).astype(np.float32)


LIT_SKIN = 55.0  # L* (0-100) of a face's lit skin (97th percentile) in a photo exposed normally, or above


def dim_photo_gain(lab: np.ndarray, skin: np.ndarray) -> float:
    """How much more the colour transfer may stretch the lightness contrast of a dim photo's face
    (float Lab on the 8-bit scale, ``skin`` its skin mask): 1 for a photo exposed normally (its lit
    skin at ``LIT_SKIN`` or lighter), up to 1.6 for an underexposed one. A dim photo's face has half
    the contrast of the same face lit well; with the usual limit on the stretch (1.3, which keeps a
    low-key photo's shadows from deepening further) its lashes, brows and eyes came out in a grey
    haze."""
    sel = skin > 0.5
    if sel.sum() < 16:
        return 1.0
    lit = float(np.percentile(lab[..., 0][sel], 97)) / 2.55
    return float(np.clip(LIT_SKIN / max(lit, 1.0), 1.0, 1.6))


class MeshSwapper:
    """Stateless dense swapper; see :meth:`swap`.

    ``scene_shape`` (0..1) is how much of the scene face's geometry the result keeps: 1 = the
    user's texture on exactly the scene face's landmarks (pose and expression exact), 0 = the
    user's own face shape placed by a similarity transform. In between, pose and expression come
    from the scene and part of the user's face shape (a strong identity cue) is kept. The face
    outline (jaw line) always follows the scene so the paste can reach the scene's jaw edge.

    ``work_iod``: every stage runs on a crop around the face scaled so the eyes are at most this
    many pixels apart; a larger scene face gets the result upscaled, the user's own fine detail
    (from a sharper photo) or the scene's fine detail/grain added back, and is pasted with the
    upscaled mask. Time per face therefore does not depend on the scene's resolution.
    """

    def __init__(self, scene_shape: float = 0.65, feather: float = 0.1, lighting: float = 0.7,
                 forehead_keep: float = 0.8, side_keep: float = 0.97, color_transfer: bool = True,
                 texture_match: bool = True, lighting_sigma: float = 0.6, work_iod: float = 120.0,
                 jaw_grow: float = 0.03, jaw_feather: float = 0.05, skin_cut: bool = True,
                 stretch_min: float = 0.2, max_grain: float = 2.0, chroma_max: float = 1.15,
                 lighting_chroma: float = 1.0, edge_match: float = 0.5, edge_sigma: float = 0.12,
                 edge_gain_l: float = 1.0, temple_keep: float = 0.9, brow_cut: float | None = 0.04,
                 feature_colour: bool = True, fill_unusable: bool = True, keep_edge: float = 0.15,
                 pose3d: bool = True, field_clip: float = 80.0,
                 brow_colour: bool = False, side_fringe: float = 0.38, forehead_texture: float = 2.5,
                 analysis_iod: float = 100.0, local_feature_chroma: bool = True,
                 feature_chroma_cap: float = 0.8, hair_fill: bool = True, usable_open: float = 0.06):
        # where hair covered the user's cheeks or temples (below the brows) the scene's own skin shows,
        # recoloured to the user's tone, instead of the flat paint the strands were covered with
        self.hair_fill = bool(hair_fill)
        # usable strips of the user's texture narrower than twice this many eye distances, between
        # unusable ones, go to the fill too (0: off; see solid_usable)
        self.usable_open = float(usable_open)
        self.local_feature_chroma = bool(local_feature_chroma)  # see _keep_feature_colour
        self.feature_chroma_cap = float(feature_chroma_cap)
        # the user's photo is read (skin, hair, fringe, bangs) at no more than this many px between the
        # eyes (0: at the crop's size, about 1.25 x work_iod)
        self.analysis_iod = float(analysis_iod)
        # strands this many times as textured as the cheeks mark where a user's bangs begin (0: off)
        self.forehead_texture = float(forehead_texture)
        self.side_fringe = float(side_fringe)  # see skin.has_fringe; > 1: a fringe across the forehead only
        # largest correction of the colour fields (lighting, edge match) in 8-bit Lab levels: a user lit
        # from the side differs from a scene lit from the other side by more than 40 at the face's edge
        self.field_clip = float(field_clip)
        self.pose3d = pose3d  # the user's shape turned in 3D to the scene's pose (see destination)
        self.lighting_sigma = float(lighting_sigma)
        self.feature_colour = feature_colour  # eyes, brows, teeth keep their chroma (see _keep_feature_colour)
        self.brow_colour = bool(brow_colour)  # ...the brows too (else: see _brows_not_cool)
        self.fill_unusable = fill_unusable  # no usable user texture: the scene, recoloured (see _fill_from_scene)
        self.keep_edge = float(keep_edge)  # band inside the user's outline (eye distances) that must be skin
        self.lighting_chroma = float(lighting_chroma)  # same for a*/b* (the tint of the scene's light)
        self.edge_match = float(edge_match)  # eye distances inside the paste's edge over which the colour
        self.edge_sigma = float(edge_sigma)  # is matched fully to the scene's, at this blur width
        self.edge_gain_l = float(edge_gain_l)  # (lightness: this share of it)
        self.scene_shape = float(scene_shape)
        self.brow_cut = brow_cut  # below the brows' lowest point, eye distances (a user's fringe); None = off
        self.temple_keep = float(temple_keep)  # share of the temples' width pasted (see mask_polygon)
        self.feather = float(feather)
        self.lighting = float(lighting)
        self.forehead_keep = float(forehead_keep)
        self.side_keep = float(side_keep)
        self.color_transfer = color_transfer
        self.texture_match = texture_match
        self.work_iod = float(work_iod)
        self.jaw_grow = float(jaw_grow)
        self.jaw_feather = float(jaw_feather)
        self.skin_cut = skin_cut
        self.chroma_max = float(chroma_max)  # largest a/b gain of the colour transfer (higher: cyan eyes)
        self.max_grain = float(max_grain)  # grey levels of grain added at most (working-size path)
        self.stretch_min = float(stretch_min)  # source area per scene pixel (vs the face's median) below
        # which the paste fades out (smeared texture from a grazing angle); 0 = off
        self.last_work_shape: tuple[int, int] | None = None  # size the stages ran at (tests, bench)

    # -- geometry ---------------------------------------------------------------------------------
    def destination(self, tgt3: np.ndarray, src3: np.ndarray, keep_mouth: bool, keep_eyes: bool) -> np.ndarray:
        """Where the user's mesh vertices go in the scene (see ``scene_shape``), in pixels (N, 2), from
        the scene face's and the user's mesh points with depth (N, 3). With ``pose3d`` the user's shape
        is turned in 3D to the scene face's pose before it is mixed in: a frontal user's shape on a
        turned scene face is not squashed sideways."""
        tgt3, src3 = np.asarray(tgt3, np.float64), np.asarray(src3, np.float64)
        tgt, src = tgt3[:, :2], src3[:, :2]
        if self.pose3d:
            S3 = similarity_transform_3d(src3[:N_MESH], tgt3[:N_MESH])
            sim = (src3 @ S3[:, :3].T + S3[:, 3])[:, :2]
        else:
            S = similarity_transform(src[:N_MESH], tgt[:N_MESH])
            sim = transform_points(S, src).astype(np.float64)
        # weight of the scene's geometry per vertex: ``scene_shape`` inside the face, rising smoothly
        # to 1 at the outline so the jaw line is the scene's (no fold-over near the outline)
        o, _, v, iod = face_frame(tgt)
        nose_v = float((tgt[1] - o) @ v)
        oval = np.array([p for p in tgt[FACE_OVAL] if float((p - o) @ v) > nose_v])  # the jaw line
        seg_a, seg_b = oval, np.roll(oval, -1, axis=0)
        ab = seg_b - seg_a
        tt = np.clip(((tgt[:, None, :] - seg_a[None]) * ab[None]).sum(-1) / np.maximum((ab * ab).sum(-1), 1e-9),
                     0.0, 1.0)
        dist = np.linalg.norm(tgt[:, None, :] - (seg_a[None] + tt[..., None] * ab[None]), axis=-1).min(1)
        w = self.scene_shape + (1.0 - self.scene_shape) * np.exp(-((dist / (0.3 * iod)) ** 2))
        dst = w[:, None] * tgt + (1.0 - w[:, None]) * sim
        low = ((tgt[FACE_OVAL] - o) @ v) > nose_v
        jaw = [i for i, lo in zip(FACE_OVAL, low, strict=True) if lo]
        dst[jaw] = tgt[jaw]
        if keep_mouth:
            dst[_LIP_IDX] = tgt[_LIP_IDX]
        if keep_eyes:
            idx = RIGHT_EYE + LEFT_EYE
            dst[idx] = tgt[idx]
        return dst

    # -- the swap ---------------------------------------------------------------------------------
    def swap(self, scene: np.ndarray, target_lm: Landmarks, src_img: np.ndarray, src_lm: Landmarks,
             seed: int = 0) -> np.ndarray:
        return self.swap_detailed(scene, target_lm, src_img, src_lm, seed)[0]

    def _region_mask(self, shape: tuple[int, int], tgt: np.ndarray, iod: float, brow_cut: float | None,
                     forehead: float) -> tuple[np.ndarray, np.ndarray]:
        """(soft float mask in the scene's geometry, its hard uint8 polygon): feathered inwards at the
        forehead and temples (fades over the scene's own skin), nearly hard at the jaw edge.
        ``forehead``: share of the forehead pasted (see :func:`mask_polygon`)."""
        poly = mask_polygon(tgt, forehead, self.side_keep, jaw_grow=self.jaw_grow,
                            temple_keep=self.temple_keep, brow_cut=brow_cut)
        hard = fill_poly(shape, poly)
        soft = feather(hard, self.feather * iod)
        sharp = np.clip(cv2.GaussianBlur(hard.astype(np.float32) / 255.0, (0, 0), max(0.6, self.jaw_feather * iod)),
                        0.0, 1.0)
        wj = self._jaw_weight(shape, tgt)
        return wj * sharp + (1.0 - wj) * soft, hard

    def _edge_weight(self, region: np.ndarray, iod: float) -> np.ndarray:
        """Per pixel of the boolean ``region``: 1 up to half of ``edge_match`` eye distances inside its
        edge, 0 from ``edge_match`` inwards (smooth in between): where colour is matched to the scene's."""
        din = cv2.distanceTransform(region.astype(np.uint8), cv2.DIST_L2, 5) / iod
        return _smoothstep((self.edge_match - din) / max(0.5 * self.edge_match, 1e-3))

    @staticmethod
    def _fill_from_scene(lw: np.ndarray, ls: np.ndarray, usable: np.ndarray, skin: np.ndarray,
                         scene_skin: np.ndarray, iod: float, weight: np.ndarray | None = None) -> np.ndarray:
        """Where the user's photo has nothing usable (beyond their face's outline: background, ear,
        collar; texture smeared by a grazing angle; outside the photo) the scene's own face shows,
        recoloured to the paste's tone around it: its shading and pores, the user's colour. Left to
        the plain scene, those spots show as pale or dark blotches in the face. ``lw`` (the paste) and
        ``ls`` (the scene) are float Lab on the 8-bit scale; returns the paste likewise."""
        good = skin * (usable > 0.9)
        if good.sum() < 16 or scene_skin.sum() < 16:
            return lw
        sig = 0.3 * iod
        delta = np.clip(_normalized_blur(lw, good, sig) - _normalized_blur(ls, scene_skin, sig), -120, 120)
        if weight is not None:
            delta *= weight[..., None]
        # a soft seam, inside the usable side: a thin one shows as a line where the two textures differ
        r = max(1, int(round(0.04 * iod)))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        core = cv2.erode((usable > 0.5).astype(np.uint8), disc)
        u = np.minimum(cv2.GaussianBlur(core.astype(np.float32), (0, 0), 0.04 * iod), usable)[..., None]
        return np.clip(lw * u + (ls + delta) * (1.0 - u), 0.0, 255.0)

    def _keep_feature_colour(self, lab_new: np.ndarray, lab_user: np.ndarray, skin: np.ndarray, dst: np.ndarray,
                             iod: float) -> np.ndarray:
        """Undo the skin's colour shift on what is not skin in the user's photo (eye whites, irises,
        brows, lashes, liner, teeth; the lips are skin-like tissue and follow the skin): they keep
        their own hue, their chroma scaled as the skin's chroma was around them (``local_feature_chroma``;
        never above the user's, nor above ``feature_chroma_cap`` of the new skin's there) and dimmed with
        their lightness, which follows the transfer. A shift fitted on skin and
        added to a neutral eye white tints it cyan or blue; added to dark brows, blue; to dark liner,
        red. ``lab_new`` (after the transfer) and ``lab_user`` (before) are float Lab on the 8-bit
        scale; returns ``lab_new`` with the features changed."""
        from .skin import feature_mask, sample_model

        shape = lab_new.shape[:2]
        feats = feature_mask(shape, dst, iod, 0.02, nose=False, lips=False, brows=self.brow_colour)
        ys, xs = np.nonzero(feats)
        if len(xs) == 0:
            return lab_new if self.brow_colour else self._brows_not_cool(lab_new, dst, iod)
        blur = max(0.7, 0.012 * iod)
        m = int(3 * blur) + 2  # the features' box, with room for the blur
        y0, y1 = max(0, ys.min() - m), min(shape[0], ys.max() + m + 1)
        x0, x1 = max(0, xs.min() - m), min(shape[1], xs.max() + m + 1)
        box = (slice(y0, y1), slice(x0, x1))
        lu, ln = lab_user[box], lab_new[box]
        p = sample_model(lab_user, dst, iod).probability(lu)
        # only on the features themselves: shadowed or wrinkled skin elsewhere follows the skin
        p[feats[box] == 0] = 1.0
        d = dst - np.array([x0, y0], np.float64)
        eyes = cv2.bitwise_or(fill_poly(p.shape, cv2.convexHull(d[RIGHT_EYE].astype(np.float32))),
                              fill_poly(p.shape, cv2.convexHull(d[LEFT_EYE].astype(np.float32))))
        p[eyes > 0] = 0.0
        p = cv2.GaussianBlur(p, (0, 0), blur)[..., None]
        dim = np.clip((ln[..., 0] + 8.0) / (lu[..., 0] + 8.0), 0.0, 1.0)  # darker: less chroma
        feat = ln.copy()
        if self.local_feature_chroma:
            # the same, measured on the skin around each feature: a photo lit orange from one side (or cool
            # in the shade) gave that eye the light's colour, kept as the eye's own (a red or lavender eye
            # on an evenly lit face). Never more chroma than the user's, nor than the new skin around it has
            sk_box = skin[box].astype(np.float32)
            sig = 0.25 * iod
            cu = np.linalg.norm(_normalized_blur(np.ascontiguousarray(lu[..., 1:]) - 128.0, sk_box, sig), axis=-1)
            cn = np.linalg.norm(_normalized_blur(np.ascontiguousarray(ln[..., 1:]) - 128.0, sk_box, sig), axis=-1)
            k_loc = np.clip(cn / np.maximum(cu, 1.0), 0.0, 1.0)
            ab = (lu[..., 1:] - 128.0) * (k_loc * dim)[..., None]
            c = np.linalg.norm(ab, axis=-1)
            cap = np.maximum(self.feature_chroma_cap * cn, 4.0)
            ab *= np.minimum(1.0, cap / np.maximum(c, 1e-3))[..., None]
            feat[..., 1:] = 128.0 + ab
        else:
            # the skin's change of chroma over the whole face (its hue kept): the whites stay about neutral
            # whatever the two skin tones, and a photo's warm cast fades with the skin's
            sel = skin > 0.5
            c_user = float(np.linalg.norm(np.median(lab_user[sel][:, 1:], 0) - 128.0)) if sel.any() else 0.0
            c_new = float(np.linalg.norm(np.median(lab_new[sel][:, 1:], 0) - 128.0)) if sel.any() else 0.0
            k = float(np.clip(c_new / c_user, 0.0, 1.2)) if c_user > 1.0 else 1.0
            feat[..., 1:] = 128.0 + (lu[..., 1:] - 128.0) * (k * dim)[..., None]
        out = lab_new.copy()
        out[box] = p * ln + (1.0 - p) * feat
        return out if self.brow_colour else self._brows_not_cool(out, dst, iod)

    @staticmethod
    def _brows_not_cool(lab: np.ndarray, dst: np.ndarray, iod: float) -> np.ndarray:
        """The brows follow the skin's colour shift (they are hair in the same light) but never turn
        blue or green: a* and b* are kept at or above neutral on them (skin is warmer anyway). Kept at
        their own hue instead, a photo's cool cast left brows blue-grey on a warm scene."""
        pts = np.vstack([dst[RIGHT_BROW], dst[LEFT_BROW]])
        m = int(0.03 * iod) + int(3 * max(0.7, 0.015 * iod)) + 3  # room for the grow and the blur
        h, w = lab.shape[:2]
        x0, y0 = max(0, int(pts[:, 0].min()) - m), max(0, int(pts[:, 1].min()) - m)
        x1, y1 = min(w, int(pts[:, 0].max()) + m + 1), min(h, int(pts[:, 1].max()) + m + 1)
        if x1 <= x0 or y1 <= y0:
            return lab
        shape = (y1 - y0, x1 - x0)
        off = np.array([x0, y0], np.float32)
        brows = cv2.bitwise_or(fill_poly(shape, cv2.convexHull((dst[RIGHT_BROW] - off).astype(np.float32))),
                               fill_poly(shape, cv2.convexHull((dst[LEFT_BROW] - off).astype(np.float32))))
        w8 = np.clip(cv2.GaussianBlur(cv2.dilate(brows, None, iterations=max(1, int(0.03 * iod))).astype(np.float32)
                                      / 255.0, (0, 0), max(0.7, 0.015 * iod)), 0.0, 1.0)[..., None]
        out = lab.copy()
        sub = out[y0:y1, x0:x1, 1:]
        sub += w8 * (np.maximum(sub, 128.0) - sub)
        return out

    @staticmethod
    def _jaw_weight(shape: tuple[int, int], tgt: np.ndarray) -> np.ndarray:
        """0 above the nose tip, 1 below the mouth corners (smooth in between), per pixel."""
        o, u, v, _ = face_frame(tgt)
        nose_v = float((tgt[1] - o) @ v)
        mouth_v = float((tgt[[61, 291]].mean(0) - o) @ v)
        _, pv = frame_grid(shape, o, u, v)
        return _smoothstep((pv - nose_v) / max(mouth_v - nose_v, 1e-3)).astype(np.float32)

    def swap_detailed(self, scene: np.ndarray, target_lm: Landmarks, src_img: np.ndarray, src_lm: Landmarks,
                      seed: int = 0) -> tuple[np.ndarray, dict]:
        """Return ``(scene copy with the face replaced, info)``. Pixels outside ``info["mask"] > 0`` are
        unchanged. ``info`` also holds ``timings`` (seconds per stage), ``work_shape`` (the size the
        stages ran at) and what was decided."""
        from .skin import (
            clear_forehead,
            face_box,
            feature_mask,
            fill_with_skin,
            has_fringe,
            sample_model,
            skin_probability,
            source_keep,
        )

        tm: dict[str, float] = {}
        t0 = time.perf_counter()
        scene = to_bgr_u8(scene)
        H, W = scene.shape[:2]
        tgt = target_lm.xy[:N_MESH].astype(np.float64)
        src = src_lm.xy[:N_MESH].astype(np.float64)
        iod_t = max(target_lm.iod, 1.0)

        # expression agreement
        mo_t, mo_s = target_lm.mouth_open(), src_lm.mouth_open()
        keep_mouth = (mo_t > MOUTH_OPEN) != (mo_s > MOUTH_OPEN) or abs(mo_t - mo_s) > 0.2
        et, es = target_lm.eyes_open(), src_lm.eyes_open()
        keep_eyes = any((a < EYE_CLOSED and b > EYE_OPEN) or (b < EYE_CLOSED and a > EYE_OPEN)
                        for a, b in zip(et, es, strict=True))
        dst = self.destination(target_lm.pts[:N_MESH], src_lm.pts[:N_MESH], keep_mouth, keep_eyes)

        # region of interest in the scene
        allp = np.vstack([tgt, dst])
        lo, hi = allp.min(0), allp.max(0)
        pad = 0.12 * float(max(hi - lo)) + 4
        x0, y0 = max(0, int(lo[0] - pad)), max(0, int(lo[1] - pad))
        x1, y1 = min(W, int(math.ceil(hi[0] + pad))), min(H, int(math.ceil(hi[1] + pad)))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return scene.copy(), {"mask": np.zeros((H, W), np.float32), "timings": tm, "skipped": "roi"}
        off = np.array([x0, y0], np.float64)
        roi = scene[y0:y1, x0:x1]
        rh, rw = roi.shape[:2]

        # working size: the stages below never see more than ~work_iod px between the eyes
        s_w = min(1.0, self.work_iod / iod_t)
        if s_w < 1.0:
            ww, wh = max(8, int(round(rw * s_w))), max(8, int(round(rh * s_w)))
            roi_w = cv2.resize(roi, (ww, wh), interpolation=cv2.INTER_AREA)
            fxy = np.array([ww / rw, wh / rh])
        else:
            wh, ww = rh, rw
            roi_w = roi
            fxy = np.array([1.0, 1.0])
        tgt_w = (tgt - off + 0.5) * fxy - 0.5
        dst_w = (dst - off + 0.5) * fxy - 0.5
        iod_w = iod_t * float(fxy.mean())
        self.last_work_shape = (wh, ww)

        # source crop, pre-shrunk when it is much larger than needed (no aliasing)
        src_img = to_bgr_u8(src_img)
        sh, sw = src_img.shape[:2]
        slo, shi = src.min(0), src.max(0)
        spad = 0.3 * float(max(shi - slo)) + 4
        sx0, sy0 = max(0, int(slo[0] - spad)), max(0, int(slo[1] - spad))
        sx1, sy1 = min(sw, int(math.ceil(shi[0] + spad))), min(sh, int(math.ceil(shi[1] + spad)))
        crop_full = src_img[sy0:sy1, sx0:sx1]
        src_c = src - np.array([sx0, sy0], np.float64)
        scale = math.sqrt(abs(np.linalg.det(similarity_transform(src, tgt)[:, :2])))  # source px -> scene px
        f_w = min(1.0, scale * float(fxy.mean()) * 1.25)
        if f_w < 1.0:
            crop = cv2.resize(crop_full, None, fx=f_w, fy=f_w, interpolation=cv2.INTER_AREA)
            src_cw = (src_c + 0.5) * f_w - 0.5
        else:
            crop, src_cw = crop_full, src_c
        tm["prepare"] = time.perf_counter() - t0

        # piecewise-affine warp (working size)
        t = time.perf_counter()
        depth = target_lm.pts[:N_MESH, 2]
        map_x, map_y, _inside = piecewise_affine_maps(dst_w, src_cw, (wh, ww), depth)
        warped = cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        valid = cv2.remap(np.full(crop.shape[:2], 255, np.uint8), map_x, map_y, cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        tm["warp"] = time.perf_counter() - t

        # mask: the scene's face region (no hair, no ears; reaching the jaw edge) x the user's skin
        # (the user's hair strands, background and occluders stay out: the scene shows there)
        t = time.perf_counter()
        hair_src = None
        iod_s = src_lm.iod * f_w
        # the user's side is read on the face's own box (outline plus half an eye distance): nothing
        # it decides reaches further out, and the crop's wide margin is mostly background
        edge = self.keep_edge if self.fill_unusable else 0.0
        if edge > 0:
            face, xy_f, fbox = face_box(crop, src_cw, iod_s, margin=0.5)
        else:  # the user's skin is kept wherever it is: read the whole crop
            face, xy_f, fbox = crop, src_cw, (slice(None), slice(None))
        # ...at no more than ``analysis_iod`` px between the eyes (the masks are smooth at that scale)
        a = min(1.0, self.analysis_iod / max(iod_s, 1.0)) if self.analysis_iod > 0 else 1.0
        if a < 0.9:
            face_a = cv2.resize(face, None, fx=a, fy=a, interpolation=cv2.INTER_AREA)
            ka = np.array([face_a.shape[1] / face.shape[1], face_a.shape[0] / face.shape[0]])
            xy_a, iod_a = (xy_f + 0.5) * ka - 0.5, iod_s * float(ka.mean())
        else:
            face_a, xy_a, iod_a = face, xy_f, iod_s

        def full(m: np.ndarray) -> np.ndarray:  # analysis size -> the face box's size
            return m if face_a is face else cv2.resize(m, (face.shape[1], face.shape[0]),
                                                       interpolation=cv2.INTER_LINEAR)

        hair_f = hair_a = None
        if self.skin_cut:
            # the user's hair strands are painted over with the surrounding skin (never pasted, and no
            # patch of the scene face showing through); background beyond the outline stays out
            p_a = skin_probability(face_a, xy_a, iod_a)
            hair_a, keep_a = source_keep(face_a, xy_a, iod_a, edge=edge, p=p_a)
            p_f, keep_f = full(p_a), full(keep_a)
            hair_f = hair_a if face_a is face else (full(hair_a) > 127).astype(np.uint8) * 255
            hair_src = np.zeros(crop.shape[:2], np.uint8)
            hair_src[fbox] = hair_f
            keep_src = np.zeros(crop.shape[:2], np.float32)
            keep_src[fbox] = keep_f
        # a fringe down to the user's brows, or a lock of hair over one of them: forehead and brows stay
        # the scene's (the cut sits just below the brows on both faces), never a forehead painted over
        # in one flat tone nor a strand's remnant across a brow
        fringe = self.brow_cut is not None and has_fringe(face_a, xy_a, iod_a, self.side_fringe, hair=hair_a)
        brow_cut = self.brow_cut if fringe else None
        # bangs that stop above the brows (brown ones pass the skin's colour test): the paste's forehead
        # ends below where their strands begin, the scene's forehead shows above
        forehead = self.forehead_keep
        if self.forehead_texture > 0 and not fringe:
            clear = clear_forehead(face_a, xy_a, iod_a, k=self.forehead_texture)
            forehead = float(np.clip(clear - 0.1, 0.0, self.forehead_keep))
        mask, hard = self._region_mask((wh, ww), tgt_w, iod_w, brow_cut, forehead)
        # ...and inside the user's own outline where it lies (temples, far cheek of a turned head)
        user_region = feather(fill_poly((wh, ww), mask_polygon(dst_w, forehead, self.side_keep,
                                                                  jaw_grow=self.jaw_grow,
                                                                  temple_keep=self.temple_keep,
                                                                  brow_cut=brow_cut)), self.feather * iod_w)
        mask = np.minimum(mask, np.maximum(user_region, _smoothstep(self._jaw_weight((wh, ww), tgt_w))))
        hair_w = None
        if hair_src is not None:
            keep = cv2.remap(keep_src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                             borderValue=0.0)
            if hair_src.any():
                hair_w = cv2.remap(hair_src, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                   borderValue=0)
                crop = crop.copy()
                crop[fbox] = fill_with_skin(face, hair_f, xy_f, iod_s, p=p_f)
                warped = cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        else:
            keep = np.ones((wh, ww), np.float32)
        # texture the user's photo only has at a grazing angle (the cheek edge of a frontal photo
        # stretched over the near cheek of a turned scene face) is smeared: leave it to the scene
        mxy = np.stack([map_x, map_y])
        gy, gx = np.gradient(mxy, axis=(1, 2))
        area = np.abs(gx[0] * gy[1] - gx[1] * gy[0])
        core = hard > 127
        usable = keep * (valid > 0)
        if self.hair_fill and hair_w is not None:
            usable = usable * (1.0 - hair_below_brows(hair_w, dst_w, iod_w))
        if core.any() and self.stretch_min > 0:
            med = float(np.median(area[core])) or 1.0
            ratio = cv2.GaussianBlur(area / med, (0, 0), max(1.0, 0.04 * iod_w))
            usable = usable * _smoothstep((ratio - self.stretch_min) / 0.25).astype(np.float32)
        if self.usable_open > 0:
            usable = solid_usable(usable, self.usable_open * iod_w)
        if not self.fill_unusable:
            mask = mask * usable
        if keep_mouth:  # scene's own mouth interior (teeth / lip line) shows through
            hole = _dilated_poly((wh, ww), tgt_w[INNER_LIPS], 0.05 * iod_w)
            hole = cv2.bitwise_or(hole, _dilated_poly((wh, ww), dst_w[INNER_LIPS], 0.05 * iod_w))
            mask *= 1.0 - np.clip(cv2.GaussianBlur(hole.astype(np.float32) / 255, (0, 0), 0.04 * iod_w), 0, 1)
        if keep_eyes:
            hole = _dilated_poly((wh, ww), tgt_w[RIGHT_EYE], 0.1 * iod_w)
            hole = cv2.bitwise_or(hole, _dilated_poly((wh, ww), tgt_w[LEFT_EYE], 0.1 * iod_w))
            mask *= 1.0 - np.clip(cv2.GaussianBlur(hole.astype(np.float32) / 255, (0, 0), 0.05 * iod_w), 0, 1)
        # skin-only statistics: the face minus eyes, brows, lips; scene side also minus its own hair
        feats = cv2.bitwise_or(feature_mask((wh, ww), tgt_w, iod_w, 0.08, nose=False),
                               feature_mask((wh, ww), dst_w, iod_w, 0.08, nose=False))
        skin = ((mask > 0.5) & (feats == 0) & (usable > 0.5)).astype(np.float32)
        if hair_w is not None:
            skin[hair_w > 0] = 0
        if skin.sum() < 50:
            skin = (mask > 0.5).astype(np.float32)
        lab_scene = cv2.cvtColor(roi_w, cv2.COLOR_BGR2LAB)
        scene_skin = sample_model(lab_scene, tgt_w, iod_w).probability(lab_scene)
        # the same pixels on both sides (lighting gradients cancel), minus what is not skin in the scene
        ref = skin * (scene_skin > 0.5)
        if ref.sum() < 50:
            ref = skin
        else:
            skin = ref
        tm["mask"] = time.perf_counter() - t

        # colour + low-frequency lighting, on skin only
        t = time.perf_counter()
        lw = None  # the paste in float Lab (8-bit scale) while colour stages work on it
        ls = lab_scene.astype(np.float32)
        if self.color_transfer and skin.sum() >= 16 and ref.sum() >= 16:
            lab_user = cv2.cvtColor(warped, cv2.COLOR_BGR2LAB).astype(np.float32)
            # mean/std colour transfer on skin (8-bit Lab scale)
            lw = transfer_stats(lab_user, ls, skin, ref, std_clip=(0.75, 1.3 * dim_photo_gain(lab_user, skin)),
                                chroma_clip=(0.0, self.chroma_max),  # > 1 pushes eye whites cyan
                                lo=(0.0, 1.0, 1.0), hi=(255.0, 255.0, 255.0))
            if self.lighting > 0:
                # low-frequency colour field: the paste's smooth Lab colour (blurred over skin) is moved
                # to the scene face's at the same place, so its tone meets the scene's neck and ears
                # and its lighting direction is the scene's; fine detail stays the user's
                def field(sig: float) -> np.ndarray:
                    return np.clip(_normalized_blur(ls, ref, sig) - _normalized_blur(lw, skin, sig),
                                   -self.field_clip, self.field_clip)

                gains = np.array([self.lighting, self.lighting_chroma, self.lighting_chroma], np.float32)
                delta = gains * field(self.lighting_sigma * iod_w)
                if self.edge_match > 0:
                    # towards the paste's edge the colour is matched fully and more locally: the face
                    # meets the scene's neck, ears and temples without a step; inside, the user's own
                    # shading (an identity cue) is kept
                    wb = self._edge_weight(mask * usable > 0.5, iod_w)[..., None]
                    eg = np.array([self.edge_gain_l, 1.0, 1.0], np.float32)
                    delta = wb * eg * field(self.edge_sigma * iod_w) + (1.0 - wb * eg) * delta
                lw = np.clip(lw + delta, 0.0, 255.0)
            if self.feature_colour:
                lw = self._keep_feature_colour(lw, lab_user, skin, dst_w, iod_w)
        if self.fill_unusable and float(usable[mask > 0.05].min(initial=1.0)) < 0.99:
            # the paste's tone towards its edge is the scene's already (edge_match): so is the fill's
            inner = 1.0 - self._edge_weight(mask > 0.5, iod_w)
            if lw is None:
                lw = cv2.cvtColor(warped, cv2.COLOR_BGR2LAB).astype(np.float32)
            lw = self._fill_from_scene(lw, ls, usable, skin, scene_skin * (mask > 0.05), iod_w,
                                       inner.astype(np.float32))
        if lw is not None:
            warped = cv2.cvtColor(np.clip(lw + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
        tm["color"] = time.perf_counter() - t

        # the scene's softness and grain
        t = time.perf_counter()
        blur_sigma = grain = 0.0
        if self.texture_match and skin.sum() >= 16:
            warped, blur_sigma = match_sharpness(warped, roi_w, skin, ref)
            if s_w >= 1.0:
                ring = ((mask == 0) & (valid > 0)).astype(np.float32)
                warped, grain = match_grain(warped, roi_w, skin, seed=seed, ring_mask=ring, max_add=self.max_grain)
        tm["texture"] = time.perf_counter() - t

        t = time.perf_counter()
        if s_w >= 1.0:
            blended = alpha_blend(warped, roi_w, mask)
            mask_full = mask
        else:
            blended, mask_full, grain = self._paste_up(
                roi, roi_w, warped, mask, skin, feats, crop_full, src_c, f_w, map_x, map_y, scale,
                sharpen=blur_sigma == 0.0, hair_w=hair_w)
        out = scene.copy()
        out[y0:y1, x0:x1] = blended
        full = np.zeros((H, W), np.float32)
        full[y0:y1, x0:x1] = mask_full
        tm["blend"] = time.perf_counter() - t
        info = {"mask": full, "timings": tm, "keep_mouth": bool(keep_mouth), "keep_eyes": bool(keep_eyes),
                "scale": scale, "blur_sigma": blur_sigma, "grain": grain, "roi": (x0, y0, x1 - x0, y1 - y0),
                "mouth_open": (mo_t, mo_s), "fringe": bool(fringe), "work_shape": (wh, ww), "work_scale": s_w}
        return out, info

    def _paste_up(self, roi, roi_w, warped_w, mask_w, skin_w, feats_w, crop_full, src_c, f_w, map_x, map_y,
                  scale, sharpen: bool, hair_w: np.ndarray | None = None):
        """Upscale the working-size result to the scene ROI and restore fine detail: the user's own (from
        the photo at the resolution it has) and, where that is not enough, the scene's fine band
        (grain, pores) so the paste is neither soft nor grainless. Only the mask's bounding box is
        touched at full resolution (a few cheap passes). Returns (roi result, mask, grain)."""
        rh, rw = roi.shape[:2]
        wh, ww = roi_w.shape[:2]
        ys, xs = np.nonzero(mask_w > 1.0 / 255)
        if len(xs) == 0:
            return roi.copy(), np.zeros((rh, rw), np.float32), 0.0
        kx, ky = rw / ww, rh / wh
        bx0, by0 = max(0, int(xs.min() * kx) - 2), max(0, int(ys.min() * ky) - 2)
        bx1, by1 = min(rw, int((xs.max() + 1) * kx) + 3), min(rh, int((ys.max() + 1) * ky) + 3)
        sw_, sh_ = bx1 - bx0, by1 - by0
        box = (slice(by0, by1), slice(bx0, bx1))

        def up(a):  # work size -> ROI size (bilinear; cv2.resize is ~3x faster than warpAffine), the box of it
            return cv2.resize(a, (rw, rh), interpolation=cv2.INTER_LINEAR)[box]

        def gray(a):
            return cv2.cvtColor(a, cv2.COLOR_BGR2GRAY).astype(np.float32)

        sub = roi[box]
        mask = np.clip(up(mask_w), 0.0, 1.0)
        hf_scene = gray(sub)
        hf_scene -= up(gray(roi_w))
        skin = (up(skin_w) > 0.5).view(np.uint8)  # a cv2 mask for meanStdDev
        has_skin = bool(skin.any())
        hf_user = None
        f_hi = min(1.0, scale * 1.25)
        if sharpen and f_hi > 1.3 * f_w:  # the user's photo has finer detail than the working size
            crop_hi = crop_full if f_hi >= 1.0 else cv2.resize(crop_full, None, fx=f_hi, fy=f_hi,
                                                                 interpolation=cv2.INTER_AREA)
            k = f_hi / f_w
            mx = (up(map_x) + 0.5) * k - 0.5
            my = (up(map_y) + 0.5) * k - 0.5
            hi = gray(cv2.remap(crop_hi, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101))
            lo = cv2.resize(cv2.resize(hi, (max(2, int(round(sw_ / kx))), max(2, int(round(sh_ / ky)))),
                                       interpolation=cv2.INTER_AREA), (sw_, sh_), interpolation=cv2.INTER_LINEAR)
            hf_user = hi - lo
            if hair_w is not None:  # no strand detail where the hair was painted over
                hf_user *= 1.0 - up(hair_w.astype(np.float32) / 255.0)
        e_s = float(cv2.meanStdDev(hf_scene, mask=skin)[1][0, 0]) if has_skin else 0.0
        e_u = float(cv2.meanStdDev(hf_user, mask=skin)[1][0, 0]) if (hf_user is not None and has_skin) else 0.0
        w_s = 0.0 if e_s <= 1e-3 else float(np.clip(1.0 - (e_u / e_s) ** 2, 0.0, 1.0)) ** 0.5
        detail = hf_user
        if w_s > 0:
            # the scene's fine band (grey: no colour from the scene face), kept off its eyes/brows/lips
            fw = np.clip(cv2.GaussianBlur(up(feats_w.astype(np.float32) / 255.0), (0, 0), 2.0), 0, 1)
            fw = (1.0 - fw) * hf_scene
            fw *= w_s
            detail = fw if detail is None else detail + fw
        base = up(warped_w).astype(np.float32)
        if detail is not None:
            base += cv2.merge([detail, detail, detail])
        # sub + mask * (base - sub) in one pass, then rounded and saturated to uint8
        blended = cv2.blendLinear(base, sub.astype(np.float32), mask, 1.0 - mask)
        out = roi.copy()
        out[box] = cv2.add(blended, 0, dtype=cv2.CV_8U)
        full_mask = np.zeros((rh, rw), np.float32)
        full_mask[box] = mask
        return out, full_mask, w_s * e_s
