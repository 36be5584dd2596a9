"""Classical face swap: similarity warp + LAB colour transfer + Poisson blend."""

from __future__ import annotations

import math

import cv2
import numpy as np

from .align import similarity_transform, transform_points, valid_region
from .blend import seamless_blend
from .color import lab_transfer
from .io import to_bgr_u8
from .mask import face_axes, face_mask, face_polygon, polygon_mask
from .types import Face, Identity, NoFaceError


def _inside_fraction(face: Face, shape: tuple[int, ...]) -> float:
    """Share of the face outline polygon's vertices inside the image (1 = whole face visible)."""
    poly = face_polygon(face)
    h, w = shape[:2]
    inside = (poly[:, 0] >= 0) & (poly[:, 0] < w) & (poly[:, 1] >= 0) & (poly[:, 1] < h)
    return float(inside.mean())


def _angle_diff(a: float, b: float) -> float:
    d = (a - b + math.pi) % (2 * math.pi) - math.pi
    return abs(d)


class ClassicalSwapper:
    """Stateless swapper; see :meth:`swap`."""

    def __init__(self, feather: float = 0.14, color_transfer: bool = True, max_downscale_ratio: float = 0.8):
        self.feather = feather
        self.color_transfer = color_transfer
        self.max_downscale_ratio = max_downscale_ratio

    # -- source selection -------------------------------------------------------------------
    def source_cost(self, target: Face, face: Face, shape: tuple[int, ...]) -> float:
        roll = _angle_diff(face.roll, target.roll)
        yaw = abs(face.yaw_proxy - target.yaw_proxy)
        ratio = face.eye_distance / max(target.eye_distance, 1e-3)
        upscale = max(0.0, math.log(1.0 / max(ratio, 1e-3)))  # source smaller than target: blurry
        cut = 1.0 - _inside_fraction(face, shape)
        return 1.5 * roll + 2.0 * yaw + 0.7 * upscale + 3.0 * cut + 0.2 * (1.0 - face.score)

    def choose_source(self, target: Face, source: Identity) -> int:
        if not source.faces:
            raise NoFaceError("no_face", "identity has no faces", {"index": 0})
        costs = [self.source_cost(target, f, img.shape) for f, img in zip(source.faces, source.images, strict=True)]
        return int(np.argmin(costs))

    # -- the swap ---------------------------------------------------------------------------
    def swap(self, scene: np.ndarray, target: Face, source: Identity) -> np.ndarray:
        """Return a copy of ``scene`` with ``target``'s face replaced by ``source``'s.

        Pixels outside the (feathered) face mask are returned unchanged.
        """
        out, _ = self.swap_detailed(scene, target, source)
        return out

    def swap_detailed(self, scene: np.ndarray, target: Face, source: Identity) -> tuple[np.ndarray, dict]:
        scene = to_bgr_u8(scene)
        h, w = scene.shape[:2]
        idx = self.choose_source(target, source)
        src_img, src_face = to_bgr_u8(source.images[idx]), source.faces[idx]

        M = similarity_transform(src_face.kps, target.kps)
        s = math.sqrt(abs(np.linalg.det(M[:, :2])))
        if s < self.max_downscale_ratio:
            # Pre-shrink with area averaging so the warp doesn't alias.
            f = min(1.0, s * 1.25)
            src_img = cv2.resize(src_img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
            src_face = src_face.scaled(f)
            M = similarity_transform(src_face.kps, target.kps)

        # Only work on a region of interest around the target face (speed); offsets map back.
        o, u, v, d, e = face_axes(target)
        pad = int(2.5 * max(d, e)) + 8
        cx, cy = target.eye_center
        x0, y0 = max(0, int(cx) - pad), max(0, int(cy) - pad)
        x1, y1 = min(w, int(cx) + pad + int(e)), min(h, int(cy) + pad + int(e))
        roi_scene = scene[y0:y1, x0:x1]
        rh, rw = roi_scene.shape[:2]
        Mr = M.copy()
        Mr[:, 2] -= (x0, y0)
        tgt_roi = target.translated(-x0, -y0)

        warped = cv2.warpAffine(src_img, Mr, (rw, rh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        valid = valid_region(src_img.shape, Mr, (rh, rw))
        feather_px = self.feather * d
        tmask = face_mask((rh, rw), tgt_roi, feather=self.feather)
        smask = polygon_mask((rh, rw), transform_points(Mr, face_polygon(src_face)), feather_px)
        vk = max(3, int(feather_px) | 1)
        valid_soft = cv2.GaussianBlur(cv2.erode(valid, np.ones((vk, vk), np.uint8)), (0, 0), vk / 2.0)
        mask = np.minimum(np.minimum(tmask, smask), valid_soft)

        if self.color_transfer:
            ref_mask = tmask
            warped = lab_transfer(warped, roi_scene, mask, ref_mask=ref_mask)
        blended = seamless_blend(warped, roi_scene, mask)
        out = scene.copy()
        out[y0:y1, x0:x1] = blended
        full_mask = np.zeros((h, w), np.float32)
        full_mask[y0:y1, x0:x1] = mask
        return out, {"source_index": idx, "scale": s, "mask": full_mask}
