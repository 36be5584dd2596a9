"""YuNet face detection."""

from __future__ import annotations

import os

import cv2
import numpy as np

from .io import shrink_max, to_bgr_u8
from .models import YUNET_FILE, resolve_model
from .types import Face, ModelError

DETECT_MAX_SIDE = 1280
COARSE_SIDE = 640  # a user's photo larger than this is searched at this size first...
COARSE_IOD = 40.0  # ...and the face found there is taken when its eyes are this many px apart in it


def map_face(face: Face, sx: float, sy: float) -> Face:
    """``face`` found in a resized copy, in the original image's pixels: a point ``(x, y)`` of the copy
    is ``(sx * x, sy * y)`` there (see :func:`engine.io.shrink_max`)."""
    a = np.array([sx, sy], np.float32)
    return Face(face.box * np.tile(a, 2), face.kps * a, face.score)


class YuNetDetector:
    """Wrapper around ``cv2.FaceDetectorYN``. Not thread-safe (one per worker process)."""

    def __init__(self, model_path: str | os.PathLike | None = None, score_threshold: float = 0.6,
                 nms_threshold: float = 0.3, top_k: int = 5000, models_dir: str | os.PathLike | None = None,
                 max_side: int = DETECT_MAX_SIDE):
        self.model_path = resolve_model(YUNET_FILE, model_path, models_dir)
        self.score_threshold = float(score_threshold)
        self.max_side = int(max_side)
        try:
            self._net = cv2.FaceDetectorYN.create(self.model_path, "", (320, 320), self.score_threshold,
                                                  float(nms_threshold), int(top_k))
        except cv2.error as exc:
            raise ModelError(message=f"cannot load YuNet: {exc}", detail={"path": self.model_path}) from None

    def detect(self, img: np.ndarray, max_side: int | None = None) -> list[Face]:
        """Faces in ``img`` (BGR), in original pixel coordinates, sorted by score descending. ``max_side``:
        search a copy at most this large (default the detector's own ``max_side``)."""
        img = to_bgr_u8(img)
        # a large photo is searched on a downscaled copy (fast integer box reduction first); the boxes and
        # keypoints are mapped back to the original pixels
        small, (sx, sy) = shrink_max(img, max_side or self.max_side)
        h, w = small.shape[:2]
        if h < 10 or w < 10:
            return []
        self._net.setInputSize((w, h))
        _, rows = self._net.detect(small)
        if rows is None or len(rows) == 0:
            return []
        faces = [Face.from_row(r) for r in np.asarray(rows, dtype=np.float32)]
        if small is not img:
            faces = [map_face(f, sx, sy) for f in faces]
        faces.sort(key=lambda f: f.score, reverse=True)
        return faces

    def largest(self, img: np.ndarray, coarse_side: int = COARSE_SIDE, coarse_iod: float = COARSE_IOD) -> Face | None:
        """The largest face in ``img`` (a user's photo), or None. A selfie's face is large: it is found on a
        copy at most ``coarse_side`` px wide (a quarter of the work at 1280 px) and taken when
        its eyes are at least ``coarse_iod`` px apart there; otherwise (a small or no face there) the
        photo is searched at the detector's full size."""
        img = to_bgr_u8(img)
        side = max(img.shape[:2])
        if coarse_side < self.max_side and side > coarse_side:
            coarse = self.detect(img, max_side=coarse_side)
            if coarse:
                face = max(coarse, key=lambda f: f.area)
                if face.eye_distance * coarse_side / side >= coarse_iod:  # eye distance in the copy
                    return face
        faces = self.detect(img)
        return max(faces, key=lambda f: f.area) if faces else None
