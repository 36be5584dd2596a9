"""SFace embeddings and per-user identity building."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .io import to_bgr_u8
from .models import SFACE_FILE, resolve_model
from .types import Face, Identity, ModelError, NoFaceError

if TYPE_CHECKING:  # pragma: no cover
    from .detect import YuNetDetector


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, dtype=np.float32).ravel()
    b = np.asarray(b, dtype=np.float32).ravel()
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a, b) / (na * nb))


class SFaceEmbedder:
    """Wrapper around ``cv2.FaceRecognizerSF`` (128-d, unit-normalised features)."""

    def __init__(self, model_path: str | os.PathLike | None = None, models_dir: str | os.PathLike | None = None):
        self.model_path = resolve_model(SFACE_FILE, model_path, models_dir)
        try:
            self._net = cv2.FaceRecognizerSF.create(self.model_path, "")
        except cv2.error as exc:
            raise ModelError(message=f"cannot load SFace: {exc}", detail={"path": self.model_path}) from None

    def align(self, img: np.ndarray, face: Face) -> np.ndarray:
        """112x112 aligned crop."""
        return self._net.alignCrop(to_bgr_u8(img), face.to_row().reshape(1, 15))

    def embed_crop(self, crop: np.ndarray) -> np.ndarray:
        v = np.asarray(self._net.feature(crop), dtype=np.float32).ravel()
        n = float(np.linalg.norm(v))
        return v / n if n > 0 else v

    def embed(self, img: np.ndarray, face: Face) -> np.ndarray:
        """Unit float32 vector (128,) for ``face`` in ``img``."""
        return self.embed_crop(self.align(img, face))


def largest_face(faces: list[Face]) -> Face | None:
    return max(faces, key=lambda f: f.area) if faces else None


def build_identity(images: list[np.ndarray], detector: YuNetDetector,
                   embedder: SFaceEmbedder | None = None) -> Identity:
    """One entry per photo: its largest face. Raises ``NoFaceError(detail={"index": i})``.

    ``embedding`` is the normalised mean of per-photo embeddings (None without an embedder).
    """
    if not images:
        raise NoFaceError("no_face", "no photos given", {"index": 0})
    ident = Identity()
    vecs = []
    for i, img in enumerate(images):
        img = to_bgr_u8(img)
        face = largest_face(detector.detect(img))
        if face is None:
            raise NoFaceError("no_face", f"no face found in photo {i}", {"index": i})
        ident.images.append(img)
        ident.faces.append(face)
        if embedder is not None:
            crop = embedder.align(img, face)
            ident.crops.append(crop)
            vecs.append(embedder.embed_crop(crop))
        else:
            x, y, w, h = (int(round(v)) for v in face.box)
            H, W = img.shape[:2]
            x0, y0 = max(0, x), max(0, y)
            ident.crops.append(img[y0:min(H, y + h), x0:min(W, x + w)].copy())
    if vecs:
        m = np.mean(np.stack(vecs), axis=0)
        n = float(np.linalg.norm(m))
        ident.embedding = (m / n if n > 0 else m).astype(np.float32)
    return ident
