"""Dense face landmarks (MediaPipe face mesh, 478 points) run on a crop around each detected face,
plus what the engine reads from them: head pose, eye and mouth openness, named contours.

MediaPipe is imported lazily (it costs ~1.3 s) and is optional: when it is missing or fails on a
face, :meth:`MeshLandmarker.landmarks` returns ``None`` and the caller falls back to the 5-point path.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np

from .io import to_bgr_u8
from .types import Face

log = logging.getLogger(__name__)

N_MESH = 468  # face mesh vertices; 468..477 are the iris points (refine_landmarks=True)
N_LANDMARKS = 478

# Closed contours (MediaPipe indices). "Right" is the subject's right (image left for a frontal face).
FACE_OVAL = [10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
             176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109]
RIGHT_EYE = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7]
LEFT_EYE = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249]
RIGHT_BROW = [46, 53, 52, 65, 55, 107, 66, 105, 63, 70]
LEFT_BROW = [276, 283, 282, 295, 285, 336, 296, 334, 293, 300]
INNER_LIPS = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95]
OUTER_LIPS = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146]
NOSE_TIP = 1
RIGHT_IRIS, LEFT_IRIS = 468, 473
# dlib's 5-point layout (for the bench's independent recognizer): image-right eye outer/inner corner,
# image-left eye outer/inner corner, base of the nose.
DLIB5 = [263, 362, 33, 133, 2]


@cache
def mesh_triangles() -> np.ndarray:
    """(K, 3) int32 vertex indices of the face mesh triangles (3-cliques of MediaPipe's tesselation)."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    adj: dict[int, set[int]] = {}
    for a, b in FACEMESH_TESSELATION:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    tris = set()
    for a, nb in adj.items():
        for b in nb:
            if b <= a:
                continue
            for c in nb & adj[b]:
                if c > b:
                    tris.add((a, b, c))
    return np.array(sorted(tris), dtype=np.int32)


@dataclass
class Landmarks:
    """478 landmarks of one face in the pixel coordinates of the image they were found in.

    ``pts`` is (478, 3) float32: x, y in pixels, z relative depth in the same pixel scale
    (smaller = nearer the camera).
    """

    pts: np.ndarray

    @property
    def xy(self) -> np.ndarray:
        return self.pts[:, :2]

    @property
    def eye_centers(self) -> np.ndarray:
        """(2, 2): subject's right eye, left eye (the order of YuNet's first two keypoints)."""
        return np.stack([self.xy[RIGHT_EYE].mean(0), self.xy[LEFT_EYE].mean(0)]).astype(np.float32)

    @property
    def iod(self) -> float:
        """Inter-ocular distance (eye centre to eye centre) in pixels."""
        e = self.eye_centers
        return float(np.linalg.norm(e[1] - e[0]))

    def pose(self) -> tuple[float, float, float]:
        return head_pose(self.pts)

    def mouth_open(self) -> float:
        return mouth_openness(self.xy)

    def eyes_open(self) -> tuple[float, float]:
        return eye_openness(self.xy)

    def translated(self, dx: float, dy: float) -> Landmarks:
        p = self.pts.copy()
        p[:, 0] += dx
        p[:, 1] += dy
        return Landmarks(p)

    def scaled(self, s: float) -> Landmarks:
        return Landmarks(self.pts * np.float32(s))


def face_frame(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(eye midpoint, u along the eye line, v downwards, inter-ocular distance) of mesh points ``xy``."""
    re, le = xy[RIGHT_EYE].mean(0), xy[LEFT_EYE].mean(0)
    d = le - re
    iod = float(np.linalg.norm(d)) or 1.0
    u = d / iod
    v = np.array([-u[1], u[0]])
    return (re + le) / 2.0, u, v, iod


def frame_grid(shape: tuple[int, int], o: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel of an image of ``shape`` in the face frame of :func:`face_frame` (origin ``o``):
    ``(pu, pv)``, its distance along the eye line and downwards from the eye midpoint, in pixels."""
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    return (xx - o[0]) * u[0] + (yy - o[1]) * u[1], (xx - o[0]) * v[0] + (yy - o[1]) * v[1]


def brows_low(xy: np.ndarray, o: np.ndarray, v: np.ndarray) -> float:
    """How far below the eye midpoint ``o`` (along ``v``) the brows of mesh points ``xy`` reach."""
    return float(max(((xy[RIGHT_BROW] - o) @ v).max(), ((xy[LEFT_BROW] - o) @ v).max()))


def head_pose(pts: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from 3D mesh points.

    yaw > 0: the face turns towards the image's right; pitch > 0: the face looks down;
    roll > 0: the eye line rotates clockwise in the image. 0, 0, 0 = frontal and upright.
    """
    p = np.asarray(pts, np.float64)
    x = p[454] - p[234]  # across the face, at ear level (subject's left minus right)
    y = p[152] - p[10]  # chin minus forehead top
    x /= np.linalg.norm(x) + 1e-9
    y = y - x * np.dot(x, y)
    y /= np.linalg.norm(y) + 1e-9
    n = -np.cross(x, y)  # outward normal (towards the camera: negative z)
    yaw = math.degrees(math.atan2(n[0], -n[2]))
    pitch = math.degrees(math.atan2(n[1], -n[2]))
    roll = math.degrees(math.atan2(x[1], x[0]))
    return yaw, pitch, roll


def _ratio(xy: np.ndarray, top: int, bottom: int, a: int, b: int) -> float:
    w = float(np.linalg.norm(xy[a] - xy[b]))
    return float(np.linalg.norm(xy[top] - xy[bottom])) / w if w > 1e-6 else 0.0


def eye_openness(xy: np.ndarray) -> tuple[float, float]:
    """Lid gap / eye width per eye (subject's right, left); ~0.25-0.35 open, < 0.12 closed."""
    r = (_ratio(xy, 159, 145, 33, 133) + _ratio(xy, 158, 153, 33, 133) + _ratio(xy, 160, 144, 33, 133)) / 3
    left = (_ratio(xy, 386, 374, 263, 362) + _ratio(xy, 385, 380, 263, 362) + _ratio(xy, 387, 373, 263, 362)) / 3
    return r, left


def mouth_openness(xy: np.ndarray) -> float:
    """Inner-lip gap / mouth width; ~0 closed, > 0.15 clearly open (teeth may show)."""
    return (_ratio(xy, 13, 14, 78, 308) + _ratio(xy, 82, 87, 78, 308) + _ratio(xy, 312, 317, 78, 308)) / 3


class MeshLandmarker:
    """MediaPipe FaceMesh (static images, refined eyes/lips) on a square crop per face; of the meshes found
    in the crop (a partner cheek to cheek can be in it) the one matching the detector's eyes is used.

    Not thread-safe by itself; calls are serialised with a lock. ``available`` is False when
    MediaPipe cannot be imported (then :meth:`landmarks` always returns None).
    """

    def __init__(self, crop_scale: float = 2.0, crop_side: int = 384, max_eye_error: float = 0.3):
        self.crop_scale = float(crop_scale)
        self.crop_side = int(crop_side)
        self.max_eye_error = float(max_eye_error)
        self._mesh = None
        self._failed = False
        self._lock = threading.Lock()

    def _get(self):
        if self._mesh is None and not self._failed:
            try:
                import mediapipe as mp

                self._mesh = mp.solutions.face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True,
                                                             max_num_faces=3, min_detection_confidence=0.3)
                mesh_triangles()
            except Exception as exc:  # ImportError, protobuf mismatch, missing tflite ...
                log.warning("MediaPipe face mesh unavailable (%s): dense landmarks disabled", exc)
                self._failed = True
        return self._mesh

    @property
    def available(self) -> bool:
        return self._get() is not None

    def crop_transform(self, face: Face) -> np.ndarray:
        """2x3 affine mapping image pixels to the square, upright (roll-corrected) crop."""
        c = (face.eye_center * 0.5 + face.mouth_center * 0.5).astype(np.float64)
        size = self.crop_scale * max(float(face.box[2]), float(face.box[3]), 2.2 * face.eye_distance)
        s = self.crop_side / max(size, 1.0)
        a = -face.roll
        R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]) * s
        t = np.array([self.crop_side / 2.0, self.crop_side / 2.0]) - R @ c
        return np.hstack([R, t[:, None]])

    def landmarks(self, img: np.ndarray, face: Face) -> Landmarks | None:
        """478 landmarks of ``face`` in ``img`` coordinates, or None when the mesh fails or disagrees
        with the detector (eye centres more than ``max_eye_error`` eye distances from YuNet's)."""
        mesh = self._get()
        if mesh is None or face.eye_distance < 4:
            return None
        img = to_bgr_u8(img)
        M = self.crop_transform(face)
        s = math.sqrt(abs(np.linalg.det(M[:, :2])))
        # only the part of the photo the crop covers is touched (cost independent of the photo size)
        Mi0 = cv2.invertAffineTransform(M)
        n0 = float(self.crop_side)
        corners = np.array([[0, 0], [n0, 0], [0, n0], [n0, n0]]) @ Mi0[:, :2].T + Mi0[:, 2]
        h0, w0 = img.shape[:2]
        bx0, by0 = max(0, int(corners[:, 0].min()) - 2), max(0, int(corners[:, 1].min()) - 2)
        bx1, by1 = min(w0, int(math.ceil(corners[:, 0].max())) + 2), min(h0, int(math.ceil(corners[:, 1].max())) + 2)
        if bx1 - bx0 >= 8 and by1 - by0 >= 8 and (bx0 > 0 or by0 > 0 or bx1 < w0 or by1 < h0):
            img = img[by0:by1, bx0:bx1]
            M = M.copy()
            M[:, 2] += M[:, :2] @ np.array([bx0, by0], np.float64)
        else:
            bx0 = by0 = 0
        interp = cv2.INTER_AREA if s < 0.8 else cv2.INTER_LINEAR
        if s < 0.5:  # pre-shrink so the crop doesn't alias
            small = cv2.resize(img, None, fx=s * 1.5, fy=s * 1.5, interpolation=cv2.INTER_AREA)
            S = np.diag([s * 1.5, s * 1.5, 1.0])
            Mi = M @ np.linalg.inv(S)
            crop = cv2.warpAffine(small, Mi, (self.crop_side, self.crop_side), flags=cv2.INTER_LINEAR,
                                  borderMode=cv2.BORDER_REPLICATE)
        else:
            crop = cv2.warpAffine(img, M, (self.crop_side, self.crop_side), flags=interp,
                                  borderMode=cv2.BORDER_REPLICATE)
        try:
            with self._lock:
                res = mesh.process(cv2.cvtColor(crop, cv2.COLOR_BGR2RGB))
        except Exception as exc:  # pragma: no cover - defensive
            log.warning("face mesh failed: %s", exc)
            return None
        if not res.multi_face_landmarks:
            return None
        # the crop is twice the face: a partner cheek to cheek may be in it too. Take the mesh whose
        # eyes are the detector's (the nearest one), never simply the first face MediaPipe found.
        n = self.crop_side
        Minv = cv2.invertAffineTransform(M)
        best: tuple[float, Landmarks] | None = None
        for face_lm in res.multi_face_landmarks:
            lm = face_lm.landmark
            if len(lm) < N_LANDMARKS:
                continue
            pc = np.array([[p.x * n, p.y * n, p.z * n] for p in lm[:N_LANDMARKS]], dtype=np.float64)
            xy = pc[:, :2] @ Minv[:, :2].T + Minv[:, 2] + np.array([bx0, by0], np.float64)
            pts = np.hstack([xy, pc[:, 2:3] / s]).astype(np.float32)
            if not np.isfinite(pts).all():
                continue
            cand = Landmarks(pts)
            err = float(np.linalg.norm(cand.eye_centers - face.kps[:2], axis=1).max() / max(face.eye_distance, 1e-3))
            if best is None or err < best[0]:
                best = (err, cand)
        if best is None:
            return None
        err, out = best
        if err > self.max_eye_error:
            log.info("face mesh disagrees with the detector (eye error %.2f IOD): ignoring it", err)
            return None
        return out
