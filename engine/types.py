"""Plain data types and the engine's exception hierarchy (no Django, no heavy imports)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Face",
    "Identity",
    "EngineError",
    "ImageDecodeError",
    "NoFaceError",
    "SceneError",
    "ModelError",
]


@dataclass
class Face:
    """One detected face in pixel coordinates of the image it was found in.

    ``box`` is ``(x, y, w, h)``; ``kps`` are YuNet's five landmarks in the order
    right eye, left eye, nose tip, right mouth corner, left mouth corner (the
    *subject's* right, i.e. the right eye is usually on the image's left).
    """

    box: np.ndarray
    kps: np.ndarray
    score: float

    def __post_init__(self) -> None:
        self.box = np.asarray(self.box, dtype=np.float32).reshape(4)
        self.kps = np.asarray(self.kps, dtype=np.float32).reshape(5, 2)
        self.score = float(self.score)

    @classmethod
    def from_row(cls, row: np.ndarray) -> Face:
        row = np.asarray(row, dtype=np.float32).ravel()
        return cls(box=row[0:4], kps=row[4:14], score=float(row[14]))

    def to_row(self) -> np.ndarray:
        """15-float YuNet row (box, 5 kps, score) as ``FaceRecognizerSF.alignCrop`` expects."""
        return np.concatenate([self.box, self.kps.ravel(), [self.score]]).astype(np.float32)

    @property
    def center(self) -> np.ndarray:
        x, y, w, h = self.box
        return np.array([x + w / 2.0, y + h / 2.0], dtype=np.float32)

    @property
    def eye_center(self) -> np.ndarray:
        return ((self.kps[0] + self.kps[1]) / 2.0).astype(np.float32)

    @property
    def mouth_center(self) -> np.ndarray:
        return ((self.kps[3] + self.kps[4]) / 2.0).astype(np.float32)

    @property
    def eye_distance(self) -> float:
        return float(np.linalg.norm(self.kps[1] - self.kps[0]))

    @property
    def area(self) -> float:
        return float(max(self.box[2], 0.0) * max(self.box[3], 0.0))

    @property
    def roll(self) -> float:
        """In-plane rotation of the eye line, radians (0 = level)."""
        d = self.kps[1] - self.kps[0]
        return float(math.atan2(float(d[1]), float(d[0])))

    @property
    def yaw_proxy(self) -> float:
        """Signed horizontal nose offset from the eye midpoint, in eye distances (~0 = frontal)."""
        d = self.kps[1] - self.kps[0]
        n = float(np.linalg.norm(d)) or 1.0
        u = d / n
        return float(np.dot(self.kps[2] - self.eye_center, u) / n)

    def scaled(self, s: float) -> Face:
        return Face(self.box * s, self.kps * s, self.score)

    def translated(self, dx: float, dy: float) -> Face:
        off = np.array([dx, dy], dtype=np.float32)
        return Face(self.box + np.array([dx, dy, 0, 0], dtype=np.float32), self.kps + off, self.score)


@dataclass
class Identity:
    """A user's face material: one (image, face) pair per usable photo plus SFace embedding.

    ``landmarks[i]`` is photo i's dense mesh (``Landmarks``) or None where MediaPipe failed;
    ``poses[i]`` its (yaw, pitch, roll) in degrees or None; ``embeddings[i]`` its SFace vector.
    ``outliers`` lists photos whose face does not match the others (never used as a source;
    ``embedding`` is the mean over the rest).
    """

    crops: list[np.ndarray] = field(default_factory=list)
    faces: list[Face] = field(default_factory=list)
    images: list[np.ndarray] = field(default_factory=list)
    embedding: np.ndarray | None = None
    landmarks: list[Any] = field(default_factory=list)
    poses: list[tuple[float, float, float] | None] = field(default_factory=list)
    embeddings: list[np.ndarray] = field(default_factory=list)
    outliers: list[int] = field(default_factory=list)


class EngineError(Exception):
    """Base error. ``code`` is a stable machine string the web tier maps to user messages."""

    default_code = "engine"

    def __init__(self, code: str | None = None, message: str | None = None, detail: dict[str, Any] | None = None):
        self.code = code or self.default_code
        self.message = message or self.code
        self.detail = dict(detail or {})
        super().__init__(self.message)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, detail={self.detail!r})"


class ImageDecodeError(EngineError):
    """``code`` is "decode" (not an image / corrupt) or "too_large" (pixel limit)."""

    default_code = "decode"


class NoFaceError(EngineError):
    """``code`` "no_face"; ``detail`` carries ``index`` (photo) and, from Engine.run, ``slot``."""

    default_code = "no_face"


class SceneError(EngineError):
    """``code`` "scene_faces": the scene's slots cannot be matched to detected faces."""

    default_code = "scene_faces"


class ModelError(EngineError):
    """``code`` "model_missing": a weight file could not be found or loaded."""

    default_code = "model_missing"
