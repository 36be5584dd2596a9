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
    from .landmarks import MeshLandmarker


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


SAME_PERSON_COS = 0.363  # OpenCV's SFace cosine threshold (same identity at >= 0.363)


def identity_outliers(vecs: list[np.ndarray], threshold: float = SAME_PERSON_COS) -> list[int]:
    """Indices of embeddings that do not look like the same person as the others.

    With 3+ photos each is compared with the normalised mean of the *other* photos; a photo
    below ``threshold`` is an outlier. If that flags more than half of them there is no majority
    person and every photo is returned. With 2 photos, both are returned when they disagree
    (there is no telling which one is the odd one). Fewer than 2: nothing to compare.
    """
    n = len(vecs)
    if n < 2:
        return []
    V = np.stack([np.asarray(v, np.float32).ravel() for v in vecs])
    if n == 2:
        return [0, 1] if cosine(V[0], V[1]) < threshold else []
    out = []
    for i in range(n):
        rest = np.delete(V, i, axis=0).mean(0)
        if cosine(V[i], rest) < threshold:
            out.append(i)
    if len(out) * 2 > n:
        return list(range(n))
    return out


def build_identity(images: list[np.ndarray], detector: YuNetDetector,
                   embedder: SFaceEmbedder | None = None, landmarker: MeshLandmarker | None = None,
                   reject_outliers: bool = True) -> Identity:
    """One entry per photo: its largest face. Raises ``NoFaceError(detail={"index": i})``.

    ``embedding`` is the normalised mean of per-photo embeddings (None without an embedder);
    with 3+ photos, photos that are not the same person as the majority go to ``outliers`` and
    are left out of the mean. ``landmarks``/``poses`` are filled when a ``landmarker`` is given.
    """
    if not images:
        raise NoFaceError("no_face", "no photos given", {"index": 0})
    ident = Identity()
    vecs = []
    for i, img in enumerate(images):
        img = to_bgr_u8(img)
        face = detector.largest(img)
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
        lm = landmarker.landmarks(img, face) if landmarker is not None else None
        ident.landmarks.append(lm)
        ident.poses.append(lm.pose() if lm is not None else None)
    ident.embeddings = vecs
    if vecs:
        keep = list(range(len(vecs)))
        if reject_outliers and len(vecs) >= 3:
            ident.outliers = identity_outliers(vecs)
            if len(ident.outliers) < len(vecs):
                keep = [i for i in keep if i not in ident.outliers]
        m = np.mean(np.stack([vecs[i] for i in keep]), axis=0)
        n = float(np.linalg.norm(m))
        ident.embedding = (m / n if n > 0 else m).astype(np.float32)
    return ident
