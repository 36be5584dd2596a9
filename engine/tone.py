"""The scene person's skin tone moved towards the user's, before the face is swapped in.

The swap matches the paste's colour to the scene face's skin so the face meets the scene's neck, ears
and hands without a step. On its own that gives every user the scene person's complexion: a
dark-skinned user on a light-skinned scene comes out several shades lighter (and less like
themselves). Here the scene person's visible skin around the face (face, ears, neck, chest) is first
given the user's tone; the swap then matches the paste to that, and the edge still meets skin of the
same tone.

A change of skin tone under the same light is a change of albedo: a per-channel gain in RGB
(multiplicative, so the scene's shading, highlights and shadows are kept). The gain is the ratio of
the user's skin colour to the scene face's, partly: the user's photo has its own exposure and white
balance, so small differences are left alone (``dead``), lightness moves by ``strength`` of the rest
and the hue by ``chroma`` of it.

Which pixels: the scene face's own skin colour model (:mod:`engine.skin`) x the person mask (MediaPipe
selfie segmentation, when available: a beige wall is not skin) x a region around this person's head and
neck (the partner's skin, nearer the other face, is left to the partner's own tone). Everything runs on
a copy reduced to about ``work_iod`` px between the eyes; only the final gain touches full-size pixels.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .landmarks import FACE_OVAL, face_frame
from .skin import feature_mask, poly_mask, sample_model

log = logging.getLogger(__name__)

_LUMA = np.array([0.114, 0.587, 0.299])  # B, G, R


def skin_tone(img: np.ndarray, xy: np.ndarray, work_iod: float = 60.0) -> np.ndarray | None:
    """Median BGR colour (float, 0-255) of a face's skin: inside the face outline, eyes, brows, lips and
    nostrils left out, pixels the face's own skin model accepts (hair strands, glasses, shadows of a
    fringe are not skin). None when too little skin is visible."""
    xy = np.asarray(xy, np.float64)
    _, _, _, iod = face_frame(xy)
    lo, hi = xy[FACE_OVAL].min(0), xy[FACE_OVAL].max(0)
    h, w = img.shape[:2]
    x0, y0 = max(0, int(lo[0]) - 2), max(0, int(lo[1]) - 2)
    x1, y1 = min(w, int(math.ceil(hi[0])) + 3), min(h, int(math.ceil(hi[1])) + 3)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    s = min(1.0, work_iod / iod)
    crop = img[y0:y1, x0:x1]
    if s < 1.0:
        crop = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    p = (xy - [x0, y0] + 0.5) * s - 0.5
    shape = crop.shape[:2]
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
    prob = sample_model(lab, p, iod * s).probability(lab)
    inside = (poly_mask(shape, p[FACE_OVAL], hull=True) > 127) & (feature_mask(shape, p, iod * s, 0.08) == 0)
    sel = inside & (prob > 0.6)
    if int(sel.sum()) < 30:
        return None
    px = crop[sel].astype(np.float64)
    # the lit half of the skin: a face turned from the light (or one in flat light) has the same tone
    luma = px @ _LUMA
    return np.median(px[luma >= np.median(luma)], axis=0)


def gain_lut(gain: np.ndarray) -> np.ndarray:
    """(256, 1, 3) uint8 table for ``cv2.LUT``: each channel times its gain; brightening with a soft knee
    (x g / (1 + (g - 1) x / 255)) so highlights reach white without one channel clipping before the
    others (a blue cast on a bright cheek)."""
    x = np.arange(256, dtype=np.float64)[:, None]
    g = np.asarray(gain, np.float64)[None, :]
    y = x * g / (1.0 + np.maximum(g - 1.0, 0.0) * x / 255.0)
    return np.clip(y + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)


EXPOSED = 190.0  # luma the brightest 1 % of a normally exposed face crop reaches (eye whites, teeth, shine)


def exposure_scale(img: np.ndarray, xy: np.ndarray) -> float:
    """How much darker than normal the photo around a face is exposed (>= 1, at most 2): the brightest
    1 % of a crop twice the face's size (eye whites, teeth, the shine on the skin, the background)
    reaches about :data:`EXPOSED` in a normally exposed photo whatever the skin tone; a dim selfie's
    does not, and its skin would otherwise read as darker skin."""
    xy = np.asarray(xy, np.float64)
    lo, hi = xy[FACE_OVAL].min(0), xy[FACE_OVAL].max(0)
    c, half = (lo + hi) / 2.0, (hi - lo)
    h, w = img.shape[:2]
    x0, y0 = (max(0, int(v)) for v in c - half)
    x1, y1 = min(w, int(c[0] + half[0]) + 1), min(h, int(c[1] + half[1]) + 1)
    crop = img[y0:y1, x0:x1]
    if crop.size == 0:
        return 1.0
    k = max(1, int(max(crop.shape[:2]) // 256))
    luma = cv2.cvtColor(np.ascontiguousarray(crop[::k, ::k]), cv2.COLOR_BGR2GRAY)
    top = float(np.percentile(luma, 99))
    return float(np.clip(EXPOSED / max(top, 1.0), 1.0, 2.0))


@dataclass(frozen=True)
class ToneTransfer:
    """How far the scene person's skin moves towards the user's tone (see the module docstring)."""

    strength: float = 0.9  # share of the lightness ratio beyond ``dead`` that is applied
    chroma: float = 0.4  # share of the hue ratio applied (a photo's light colours its skin too)
    hue_max: float = 0.15  # largest log hue ratio counted
    dead: float = 0.05  # log lightness ratio left alone (exposure differences between photos)
    gain_lo: float = 0.35
    gain_hi: float = 1.4  # a pale user's photo is often overexposed
    reach: float = 3.0  # eye distances from the line down the middle of the head, neck and chest
    length: float = 7.0  # eye distances that line runs below the nose
    skin_band: tuple[float, float] = (2.0, 3.5)  # skin-model distance: fully recoloured below, not above
    work_iod: float = 40.0  # the weights are smooth: the gain itself is applied at full size

    def gain(self, user: np.ndarray | None, scene: np.ndarray | None) -> np.ndarray:
        """Per-channel BGR gain for the scene person's skin (ones when either tone is unknown)."""
        if user is None or scene is None or self.strength <= 0:
            return np.ones(3)
        lr = np.log(np.maximum(np.asarray(user, np.float64), 1.0) / np.maximum(np.asarray(scene, np.float64), 1.0))
        ly = float(lr @ _LUMA)
        ly_applied = math.copysign(max(abs(ly) - self.dead, 0.0), ly) * self.strength
        hue = np.clip(lr - ly, -self.hue_max, self.hue_max) * self.chroma
        sc = np.asarray(scene, np.float64)
        if np.ptp(sc) < 0.04 * max(float(sc.mean()), 1.0):  # a black-and-white scene stays without colour
            hue[:] = 0.0
        return np.clip(np.exp(ly_applied + hue), self.gain_lo, self.gain_hi)

    def region(self, shape: tuple[int, int], xy: np.ndarray, others: Sequence[np.ndarray] = ()) -> np.ndarray:
        """float32 [0, 1] weight of the pixels that belong to this person's head, neck and chest (in the
        frame of ``xy``): within about 1.9 eye distances of the line from the nose down the neck, above it
        no higher than the hairline's top, and nearer this person than any face in ``others``."""
        h, w = shape
        xx = np.arange(w, dtype=np.float32)[None, :]
        yy = np.arange(h, dtype=np.float32)[:, None]

        def axis_distance(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            o, _, v, iod = face_frame(np.asarray(f, np.float64))
            a = o + 0.6 * iod * v
            v0, v1 = np.float32(v[0]), np.float32(v[1])
            px, py = xx - np.float32(a[0]), yy - np.float32(a[1])  # broadcast to (h, w) below
            along = px * v0 + py * v1
            t = np.clip(along, 0.0, self.length * iod)
            d = cv2.magnitude(px - t * v0, py - t * v1) / np.float32(iod)
            return d, along / np.float32(iod)  # (distance to the nose-to-chest line, < 0 above the nose)

        d, up = axis_distance(xy)
        wgt = np.clip((self.reach - d) / 0.5, 0.0, 1.0) * np.clip((up + 3.0) / 0.5, 0.0, 1.0)
        for f in others:
            d2, _ = axis_distance(f)
            wgt *= np.clip((d2 - d) / 0.4 + 0.5, 0.0, 1.0)
        return (wgt * wgt * (3 - 2 * wgt)).astype(np.float32)

    @staticmethod
    def _attached(wgt: np.ndarray, xy: np.ndarray, iod: float) -> np.ndarray:
        """``wgt`` on the skin joined to the face (neck, ears, a V-neck's chest, bare shoulders and arms),
        0 on skin apart from it: hands and forearms in front of the body are in other light, so the skin
        model takes some of them and not others; one hand recoloured and the other not looked worse
        than both left alone."""
        on = (wgt > 0.25).astype(np.uint8)
        n, labels = cv2.connectedComponents(on, connectivity=8)
        if n <= 2:
            return wgt
        face = np.zeros(on.shape, np.uint8)
        cv2.fillPoly(face, [np.round(xy[FACE_OVAL]).astype(np.int32)], 1)
        keep = np.unique(labels[(face > 0) & (on > 0)])
        keep = keep[keep > 0]
        if len(keep) == 0:
            return wgt
        # the kept components, grown a little so the soft fringe of the weight around them stays
        joined = np.isin(labels, keep).astype(np.uint8)
        r = max(1, int(round(0.1 * iod)))
        joined = cv2.dilate(joined, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
        return wgt * joined.astype(np.float32)

    def apply(self, img: np.ndarray, xy: np.ndarray, gain: np.ndarray, others: Sequence[np.ndarray] = (),
              person: np.ndarray | None = None) -> np.ndarray:
        """``img`` (BGR uint8) with this person's skin multiplied by ``gain`` (per channel), in place;
        also returned. ``person``: a float person mask of ``img`` at any reduced size (or None)."""
        gain = np.asarray(gain, np.float64)
        if np.all(np.abs(gain - 1.0) < 0.01):
            return img
        xy = np.asarray(xy, np.float64)
        o, u, v, iod = face_frame(xy)
        H, W = img.shape[:2]
        ra, lb = self.reach + 0.1, 0.6 + self.length + self.reach + 0.1
        corners = np.array([o + a * iod * u + b * iod * v for a in (-ra, ra) for b in (-3.2, lb)])
        x0, y0 = max(0, int(corners[:, 0].min())), max(0, int(corners[:, 1].min()))
        x1, y1 = min(W, int(math.ceil(corners[:, 0].max()))), min(H, int(math.ceil(corners[:, 1].max())))
        if x1 - x0 < 8 or y1 - y0 < 8:
            return img
        s = min(1.0, self.work_iod / iod)
        roi = img[y0:y1, x0:x1]
        if s < 1.0:
            k = max(1, int(0.5 / s))  # a strided copy first: an area resize of a 4096 px scene's ROI is slow
            small = cv2.resize(roi[::k, ::k], None, fx=s * k, fy=s * k, interpolation=cv2.INTER_AREA)
        else:
            small = roi
        sh, sw = small.shape[:2]
        fxy = np.array([sw / (x1 - x0), sh / (y1 - y0)])

        def local(p: np.ndarray) -> np.ndarray:
            return (np.asarray(p, np.float64)[:, :2] - [x0, y0] + 0.5) * fxy - 0.5

        p = local(xy)
        lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB)
        # stricter than the swap's skin test (2.5 / 4.5): beige clothes and light brown hair next to the
        # skin are not recoloured with it
        prob = sample_model(lab, p, iod * float(fxy.mean())).probability(lab, *self.skin_band)
        wgt = prob * self.region((sh, sw), p, [local(f) for f in others])
        if person is not None:
            ky, kx = person.shape[0] / H, person.shape[1] / W
            pm = person[int(y0 * ky):max(int(y0 * ky) + 1, int(math.ceil(y1 * ky))),
                        int(x0 * kx):max(int(x0 * kx) + 1, int(math.ceil(x1 * kx)))]
            wgt *= cv2.resize(pm, (sw, sh), interpolation=cv2.INTER_LINEAR)
        wgt = self._attached(wgt, p, iod * float(fxy.mean()))
        wgt = cv2.GaussianBlur(wgt, (0, 0), 0.6)
        lut = gain_lut(gain)
        # full size, band by band of rows, only the columns with weight (skin is a small part of the ROI):
        # the fully retoned pixel is a per-channel table, blended in by the weight upscaled to the band
        on = wgt > 1.0 / 512
        fx, fy = 1.0 / fxy[0], 1.0 / fxy[1]  # full-size px per small px
        band = 8
        for r0 in range(0, sh, band):
            cols = np.flatnonzero(on[r0:r0 + band].any(axis=0))
            if len(cols) == 0:
                continue
            X0, X1 = int((cols[0] - 1) * fx), min(x1 - x0, int(math.ceil((cols[-1] + 2) * fx)))
            # bands of full-size rows that tile the ROI exactly (a row done twice would get the gain twice)
            Y0 = int(round(r0 * fy))
            Y1 = y1 - y0 if r0 + band >= sh else min(y1 - y0, int(round((r0 + band) * fy)))
            X0 = max(0, X0)
            if X1 <= X0 or Y1 <= Y0:
                continue
            # full-size pixel (X, Y) of the ROI samples the small map at ((X + .5) / fx - .5, ...)
            M = np.array([[1.0 / fx, 0.0, (X0 + 0.5) / fx - 0.5], [0.0, 1.0 / fy, (Y0 + 0.5) / fy - 0.5]])
            wb = cv2.warpAffine(wgt, M, (X1 - X0, Y1 - Y0), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                borderMode=cv2.BORDER_REPLICATE)
            sub = np.ascontiguousarray(roi[Y0:Y1, X0:X1])
            roi[Y0:Y1, X0:X1] = cv2.blendLinear(cv2.LUT(sub, lut), sub, wb, 1.0 - wb)
        return img


class PersonSegmenter:
    """MediaPipe selfie segmentation (Apache-2.0, in the mediapipe wheel) of a whole scene: a soft float
    mask of the people in it, or None when MediaPipe is unavailable. Calls are serialised (not
    thread-safe by itself)."""

    def __init__(self, max_side: int = 512, lo: float = 0.2):
        self.max_side = int(max_side)
        self.lo = float(lo)  # model output at which the mask starts (it is 1 from lo + 0.5)
        self._seg = None
        self._failed = False
        self._lock = threading.Lock()

    def mask(self, img: np.ndarray) -> np.ndarray | None:
        """Soft person mask at most ``max_side`` px on its long side (the scene's aspect ratio)."""
        with self._lock:
            if self._seg is None and not self._failed:
                try:
                    import mediapipe as mp

                    self._seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0)
                except Exception as exc:  # ImportError, protobuf mismatch ...
                    log.warning("MediaPipe selfie segmentation unavailable (%s): no person mask", exc)
                    self._failed = True
            if self._seg is None:
                return None
            h, w = img.shape[:2]
            s = min(1.0, self.max_side / max(h, w))
            small = img if s >= 1.0 else cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
            try:
                out = self._seg.process(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
            except Exception as exc:  # pragma: no cover - a broken graph: no person mask, never a failed job
                log.warning("MediaPipe selfie segmentation failed (%s): no person mask", exc)
                return None
        if out.segmentation_mask is None:
            return None
        return np.clip((out.segmentation_mask.astype(np.float32) - self.lo) / 0.5, 0.0, 1.0)
