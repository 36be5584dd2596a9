"""onnxruntime adapters: the ArcFace-style identity embedder and the face swapper.

Swapper I/O convention (what an operator's ONNX must look like; MobileFaceSwap-style exports do):
  * image input  ``target``: float32 ``[N,3,S,S]`` (NCHW; NHWC ``[N,S,S,3]`` is also accepted), an aligned
    face crop (5-point ArcFace template scaled to S), RGB (or BGR, ``channel_order``), values in [0,1] or
    [-1,1] (``input_range`` in the registry);
  * identity input ``source``: float32 ``[N,D]``, the unit identity vector of the user (optionally
    projected by an ``emap`` matrix ``[D,D']`` and re-normalised);
  * output: the swapped crop, same layout, size and value range as the image input.
Inputs are matched by rank (4 = image, 2 = identity), not by name. A dynamic batch axis lets both faces
of a scene go through in one run; a model with a fixed batch of 1 is run once per face.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np

from engine.align import similarity_transform
from engine.types import Face, ModelError

log = logging.getLogger(__name__)

# insightface's 5-point ArcFace template for 112x112 crops (image-left eye first, like YuNet's kps).
ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], np.float32)


def arcface_template(size: int) -> np.ndarray:
    return ARCFACE_112 * (float(size) / 112.0)


def align_matrix(face: Face, size: int, template: np.ndarray | None = None) -> np.ndarray:
    """2x3 similarity mapping the scene face's 5 keypoints onto the template at ``size``."""
    return similarity_transform(face.kps, arcface_template(size) if template is None else template)


def align_crop(img: np.ndarray, face: Face, size: int, template: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    M = align_matrix(face, size, template)
    crop = cv2.warpAffine(img, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    return crop, M


def providers(prefer_gpu: bool = True) -> list[str]:
    """CUDA first when onnxruntime-gpu exposes it, CPU always."""
    import onnxruntime as ort

    have = ort.get_available_providers()
    out = ["CUDAExecutionProvider"] if prefer_gpu and "CUDAExecutionProvider" in have else []
    return out + ["CPUExecutionProvider"]


def _session(path: str | os.PathLike, prefer_gpu: bool = True):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=providers(prefer_gpu))
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own exception types
        raise ModelError(message=f"cannot load ONNX model {path}: {exc}", detail={"path": str(path)}) from None


def _to_tensor(crops_bgr: list[np.ndarray], rgb: bool, lo: float, hi: float, nhwc: bool) -> np.ndarray:
    x = np.stack(crops_bgr).astype(np.float32) / 255.0
    if rgb:
        x = x[..., ::-1]
    x = x * (hi - lo) + lo
    if not nhwc:
        x = x.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(x, dtype=np.float32)


def _from_tensor(y: np.ndarray, rgb: bool, lo: float, hi: float, nhwc: bool) -> np.ndarray:
    y = np.asarray(y, np.float32)
    if not nhwc:
        y = y.transpose(0, 2, 3, 1)
    y = (y - lo) / (hi - lo)
    if rgb:
        y = y[..., ::-1]
    return np.clip(y * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _range(value) -> tuple[float, float]:
    lo, hi = (float(v) for v in str(value).split(","))
    if hi <= lo:
        raise ValueError(f"bad input_range {value!r}")
    return lo, hi


def _nhwc(shape) -> bool:
    return len(shape) == 4 and shape[-1] == 3 and shape[1] != 3


class OnnxEmbedder:
    """ArcFace-style embedder: aligned 112x112 crop -> unit identity vector (D,)."""

    def __init__(self, path: str | os.PathLike, *, size: int = 112, mean: float = 127.5, std: float = 127.5,
                 channel_order: str = "rgb", prefer_gpu: bool = True):
        self.path = str(path)
        self.sess = _session(path, prefer_gpu)
        inp = self.sess.get_inputs()[0]
        self.input_name = inp.name
        self.nhwc = _nhwc(inp.shape)
        self.size = int(size)
        self.mean, self.std = float(mean), float(std)
        self.rgb = channel_order.lower() == "rgb"

    def embed_crops(self, crops_bgr: list[np.ndarray]) -> np.ndarray:
        x = np.stack(crops_bgr).astype(np.float32)
        if self.rgb:
            x = x[..., ::-1]
        x = (x - self.mean) / self.std
        if not self.nhwc:
            x = x.transpose(0, 3, 1, 2)
        v = np.asarray(self.sess.run(None, {self.input_name: np.ascontiguousarray(x)})[0], np.float32)
        v = v.reshape(len(crops_bgr), -1)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-8)

    def embed(self, img: np.ndarray, face: Face) -> np.ndarray:
        crop, _ = align_crop(img, face, self.size)
        return self.embed_crops([crop])[0]


class OnnxSwapper:
    """Runs the operator's swapper on aligned crops; see the module docstring for the convention."""

    def __init__(self, path: str | os.PathLike, *, input_size: int = 0, input_range: str = "0,1",
                 channel_order: str = "rgb", emap: str | os.PathLike | np.ndarray | None = None,
                 prefer_gpu: bool = True):
        self.path = str(path)
        self.sess = _session(path, prefer_gpu)
        ins = self.sess.get_inputs()
        img = [i for i in ins if len(i.shape) == 4]
        ident = [i for i in ins if len(i.shape) == 2]
        if len(ins) != 2 or len(img) != 1 or len(ident) != 1:
            raise ModelError(message=f"swapper {path}: expected one 4-D image input and one 2-D identity input, "
                                     f"got {[(i.name, i.shape) for i in ins]}", detail={"path": self.path})
        self.image_input, self.identity_input = img[0], ident[0]
        shape = self.image_input.shape
        self.nhwc = _nhwc(shape)
        spatial = shape[1] if self.nhwc else shape[2]
        size = spatial if isinstance(spatial, int) and spatial > 0 else int(input_size or 0)
        if input_size and isinstance(spatial, int) and spatial > 0 and spatial != int(input_size):
            raise ModelError(message=f"swapper {path} takes {spatial}px crops but the registry says {input_size}",
                             detail={"path": self.path})
        if size <= 0:
            raise ModelError(message=f"swapper {path}: crop size unknown (dynamic axes and no input_size)",
                             detail={"path": self.path})
        self.size = int(size)
        d = self.identity_input.shape[1]
        self.identity_dim = d if isinstance(d, int) and d > 0 else None
        b = shape[0]
        self.batched = not (isinstance(b, int) and b == 1)
        self.lo, self.hi = _range(input_range)
        self.rgb = channel_order.lower() == "rgb"
        if isinstance(emap, (str, os.PathLike)) and str(emap):
            emap = np.load(Path(emap))
        self.emap = np.asarray(emap, np.float32) if emap is not None and not isinstance(emap, str) else None
        self.runs = 0  # session.run calls (tests check both faces go in one batch)

    def identity(self, embedding: np.ndarray) -> np.ndarray:
        """The model's identity input for a unit embedding (emap projection, dimension check)."""
        v = np.asarray(embedding, np.float32).reshape(-1)
        if self.emap is not None:
            v = v @ self.emap
            v = v / max(float(np.linalg.norm(v)), 1e-8)
        if self.identity_dim is not None and v.shape[0] != self.identity_dim:
            raise ModelError(message=f"identity vector has {v.shape[0]} values, swapper expects {self.identity_dim}"
                                     " (wrong embedder or missing emap?)", detail={"path": self.path})
        return v

    def swap_crops(self, crops_bgr: list[np.ndarray], embeddings: list[np.ndarray]) -> list[np.ndarray]:
        """Swapped BGR uint8 crops (S,S,3), one per (crop, embedding) pair, in one run when batched."""
        if not crops_bgr:
            return []
        for c in crops_bgr:
            if c.shape[:2] != (self.size, self.size):
                raise ValueError(f"crop {c.shape[:2]} is not {self.size}x{self.size}")
        x = _to_tensor(crops_bgr, self.rgb, self.lo, self.hi, self.nhwc)
        ids = np.stack([self.identity(e) for e in embeddings]).astype(np.float32)
        groups = [slice(0, len(crops_bgr))] if self.batched else [slice(i, i + 1) for i in range(len(crops_bgr))]
        outs = []
        for g in groups:
            y = self.sess.run(None, {self.image_input.name: x[g], self.identity_input.name: ids[g]})[0]
            self.runs += 1
            outs.append(np.asarray(y))
        y = np.concatenate(outs, axis=0)
        expect = (len(crops_bgr), self.size, self.size, 3) if self.nhwc else (len(crops_bgr), 3, self.size, self.size)
        if y.shape != expect:
            raise ModelError(message=f"swapper output {y.shape}, expected {expect}", detail={"path": self.path})
        return list(_from_tensor(y, self.rgb, self.lo, self.hi, self.nhwc))
