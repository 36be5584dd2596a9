"""Dense-landmark face swap: piecewise-affine (mesh) warp of the user's face onto the scene face's
geometry, an oval face mask without hair, scene mouth/eyes when expressions disagree, LAB colour and
low-frequency lighting transfer, sharpness/grain matching, feathered alpha blend.

Everything runs on a region of interest around the scene face at the scene's own resolution.
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from .align import similarity_transform, transform_points
from .blend import alpha_blend
from .color import lab_transfer
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
    mesh_triangles,
)
from .texture import match_grain, match_sharpness

MOUTH_OPEN = 0.12  # inner-lip gap / mouth width above which a mouth counts as open
EYE_CLOSED = 0.12  # lid gap / eye width below which an eye counts as closed
EYE_OPEN = 0.18

_LIP_IDX = sorted(set(INNER_LIPS) | set(OUTER_LIPS))


def _face_frame(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(eye midpoint, u along the eye line, v downwards, inter-ocular distance)."""
    re, le = xy[RIGHT_EYE].mean(0), xy[LEFT_EYE].mean(0)
    d = le - re
    iod = float(np.linalg.norm(d)) or 1.0
    u = d / iod
    v = np.array([-u[1], u[0]])
    return (re + le) / 2.0, u, v, iod


def mask_polygon(xy: np.ndarray, forehead_keep: float = 0.65, side_keep: float = 0.94) -> np.ndarray:
    """Face-oval polygon that stops short of the hairline (keeps ``forehead_keep`` of the forehead above
    the brows) and of the ears (cheek width scaled by ``side_keep``)."""
    xy = np.asarray(xy, np.float64)
    o, u, v, _ = _face_frame(xy)
    oval = xy[FACE_OVAL] - o
    cu, cv = oval @ u, oval @ v
    brow_v = float(min(((xy[RIGHT_BROW] - o) @ v).min(), ((xy[LEFT_BROW] - o) @ v).min()))
    cv = np.where(cv < brow_v, brow_v + forehead_keep * (cv - brow_v), cv)
    mid_u = float(np.median((xy[[1, 4, 5, 195, 197, 6, 168]] - o) @ u))  # nose bridge line
    cu = mid_u + side_keep * (cu - mid_u)
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
    num = cv2.GaussianBlur(x * m, (0, 0), sigma)
    den = cv2.GaussianBlur(m, (0, 0), sigma)
    return num / np.maximum(den, 1e-3)


class MeshSwapper:
    """Stateless dense swapper; see :meth:`swap`.

    ``scene_shape`` (0..1) is how much of the scene face's geometry the result keeps: 1 = the
    user's texture on exactly the scene face's landmarks (pose and expression exact), 0 = the
    user's own face shape placed by a similarity transform. In between, pose and expression come
    from the scene and part of the user's face shape (a strong identity cue) is kept.
    """

    def __init__(self, scene_shape: float = 0.8, feather: float = 0.1, lighting: float = 0.3,
                 forehead_keep: float = 0.65, side_keep: float = 0.94, color_transfer: bool = True,
                 texture_match: bool = True, lighting_sigma: float = 0.6):
        self.lighting_sigma = float(lighting_sigma)
        self.scene_shape = float(scene_shape)
        self.feather = float(feather)
        self.lighting = float(lighting)
        self.forehead_keep = float(forehead_keep)
        self.side_keep = float(side_keep)
        self.color_transfer = color_transfer
        self.texture_match = texture_match

    # -- geometry ---------------------------------------------------------------------------------
    def destination(self, tgt: np.ndarray, src: np.ndarray, keep_mouth: bool, keep_eyes: bool) -> np.ndarray:
        """Where the user's mesh vertices go in the scene (see ``scene_shape``)."""
        S = similarity_transform(src[:N_MESH], tgt[:N_MESH])
        sim = transform_points(S, src).astype(np.float64)
        w = self.scene_shape
        dst = w * tgt + (1.0 - w) * sim
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

    def swap_detailed(self, scene: np.ndarray, target_lm: Landmarks, src_img: np.ndarray, src_lm: Landmarks,
                      seed: int = 0) -> tuple[np.ndarray, dict]:
        """Return ``(scene copy with the face replaced, info)``. Pixels outside ``info["mask"] > 0`` are
        unchanged. ``info`` also holds ``timings`` (seconds per stage) and what was decided."""
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
        dst = self.destination(tgt, src, keep_mouth, keep_eyes)

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
        tgt_r, dst_r = tgt - off, dst - off

        # source crop (and pre-shrink when it is much larger than needed: no aliasing)
        src_img = to_bgr_u8(src_img)
        sh, sw = src_img.shape[:2]
        slo, shi = src.min(0), src.max(0)
        spad = 0.3 * float(max(shi - slo)) + 4
        sx0, sy0 = max(0, int(slo[0] - spad)), max(0, int(slo[1] - spad))
        sx1, sy1 = min(sw, int(math.ceil(shi[0] + spad))), min(sh, int(math.ceil(shi[1] + spad)))
        crop = src_img[sy0:sy1, sx0:sx1]
        src_c = src - np.array([sx0, sy0], np.float64)
        scale = math.sqrt(abs(np.linalg.det(similarity_transform(src, tgt)[:, :2])))
        if scale < 0.8:
            f = min(1.0, scale * 1.25)
            crop = cv2.resize(crop, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            src_c = src_c * f
        tm["prepare"] = time.perf_counter() - t0

        # piecewise-affine warp
        t = time.perf_counter()
        depth = target_lm.pts[:N_MESH, 2]
        map_x, map_y, inside = piecewise_affine_maps(dst_r, src_c, (rh, rw), depth)
        warped = cv2.remap(crop, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        valid = cv2.remap(np.full(crop.shape[:2], 255, np.uint8), map_x, map_y, cv2.INTER_NEAREST,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        tm["warp"] = time.perf_counter() - t

        # mask: scene oval (no hair, no ears) AND warped user's oval AND real source pixels
        t = time.perf_counter()
        fpx = self.feather * iod_t
        poly_t = mask_polygon(tgt_r, self.forehead_keep, self.side_keep)
        poly_d = mask_polygon(dst_r, self.forehead_keep, self.side_keep)
        hard = cv2.bitwise_and(fill_poly((rh, rw), poly_t), fill_poly((rh, rw), poly_d))
        hard = cv2.bitwise_and(hard, cv2.bitwise_and(valid, inside))
        mask = feather(hard, fpx)
        if keep_mouth:  # scene's own mouth interior (teeth / lip line) shows through
            hole = _dilated_poly((rh, rw), tgt_r[INNER_LIPS], 0.05 * iod_t)
            hole = cv2.bitwise_or(hole, _dilated_poly((rh, rw), dst_r[INNER_LIPS], 0.05 * iod_t))
            mask *= 1.0 - np.clip(cv2.GaussianBlur(hole.astype(np.float32) / 255, (0, 0), 0.04 * iod_t), 0, 1)
        if keep_eyes:
            hole = _dilated_poly((rh, rw), tgt_r[RIGHT_EYE], 0.1 * iod_t)
            hole = cv2.bitwise_or(hole, _dilated_poly((rh, rw), tgt_r[LEFT_EYE], 0.1 * iod_t))
            mask *= 1.0 - np.clip(cv2.GaussianBlur(hole.astype(np.float32) / 255, (0, 0), 0.05 * iod_t), 0, 1)
        # skin-only statistics region: the face minus eyes, brows and lips
        feats = np.zeros((rh, rw), np.uint8)
        for geo in (tgt_r, dst_r):
            for idx in (RIGHT_EYE, LEFT_EYE, RIGHT_BROW, LEFT_BROW, OUTER_LIPS):
                feats = cv2.bitwise_or(feats, _dilated_poly((rh, rw), geo[idx], 0.08 * iod_t))
        skin = ((mask > 0.5) & (feats == 0)).astype(np.float32)
        if skin.sum() < 50:
            skin = (mask > 0.5).astype(np.float32)
        tm["mask"] = time.perf_counter() - t

        # colour + lighting
        t = time.perf_counter()
        if self.color_transfer and skin.sum() >= 16:
            warped = lab_transfer(warped, roi, skin, ref_mask=skin, std_clip=(0.7, 1.3))
            if self.lighting > 0:
                sig = self.lighting_sigma * iod_t
                lw = cv2.cvtColor(warped, cv2.COLOR_BGR2LAB).astype(np.float32)
                ls = cv2.cvtColor(roi, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
                delta = _normalized_blur(ls, skin, sig) - _normalized_blur(lw[..., 0], skin, sig)
                lw[..., 0] = np.clip(lw[..., 0] + self.lighting * np.clip(delta, -40, 40), 0, 255)
                warped = cv2.cvtColor(np.clip(lw + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
        tm["color"] = time.perf_counter() - t

        # the scene's softness and grain
        t = time.perf_counter()
        blur_sigma = grain = 0.0
        if self.texture_match and skin.sum() >= 16:
            warped, blur_sigma = match_sharpness(warped, roi, skin)
            ring = ((mask == 0) & (valid > 0)).astype(np.float32)
            warped, grain = match_grain(warped, roi, skin, seed=seed, ring_mask=ring)
        tm["texture"] = time.perf_counter() - t

        t = time.perf_counter()
        blended = alpha_blend(warped, roi, mask)
        out = scene.copy()
        out[y0:y1, x0:x1] = blended
        full = np.zeros((H, W), np.float32)
        full[y0:y1, x0:x1] = mask
        tm["blend"] = time.perf_counter() - t
        info = {"mask": full, "timings": tm, "keep_mouth": bool(keep_mouth), "keep_eyes": bool(keep_eyes),
                "scale": scale, "blur_sigma": blur_sigma, "grain": grain, "roi": (x0, y0, x1 - x0, y1 - y0),
                "mouth_open": (mo_t, mo_s)}
        return out, info
