"""NeuralEngine: the classical Engine's detection, slot matching and identity building, with the swap
done by the operator's ONNX swapper (both faces in one batch), identity from an ArcFace-style ONNX
embedder (SFace when the registry lists none), optional GFPGAN restoration of each swapped face, and
paste-back with the classical engine's feathered face mask and blend. Before the swap, the scene people's
skin is moved towards their users' tones as in the classical engine (:mod:`engine.tone`): a swapper that
keeps the target's skin colour then gives a dark-skinned user a dark-skinned face, and one that carries
the user's own tone gets a neck that matches it. Same ``run`` signature."""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence

import cv2
import numpy as np

from engine.align import valid_region
from engine.blend import alpha_blend, seamless_blend
from engine.io import to_bgr_u8
from engine.landmarks import MeshLandmarker
from engine.mask import face_axes, face_mask
from engine.pipeline import Engine, Progress, Slot, safe_progress
from engine.registry import RegistryReport
from engine.types import Face, Identity, NoFaceError, SceneError

from .onnx_models import OnnxEmbedder, OnnxSwapper, align_crop

log = logging.getLogger(__name__)


def paste_back(scene: np.ndarray, crop: np.ndarray, M: np.ndarray, face: Face, *, feather: float = 0.14,
               blend: str = "alpha") -> tuple[np.ndarray, np.ndarray]:
    """Warp an aligned ``crop`` (made with the 2x3 ``M`` scene->crop) back into ``scene`` inside the
    classical face mask of ``face``. Returns ``(new scene, full-size float mask)``; pixels where the mask
    is 0 are unchanged."""
    H, W = scene.shape[:2]
    _, _, _, d, e = face_axes(face)
    pad = int(2.5 * max(d, e)) + 8
    cx, cy = face.eye_center
    x0, y0 = max(0, int(cx) - pad), max(0, int(cy) - pad)
    x1, y1 = min(W, int(cx) + pad + int(e)), min(H, int(cy) + pad + int(e))
    full = np.zeros((H, W), np.float32)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return scene.copy(), full
    roi = scene[y0:y1, x0:x1]
    rh, rw = roi.shape[:2]
    inv = cv2.invertAffineTransform(M.astype(np.float64))
    inv[:, 2] -= (x0, y0)
    warped = cv2.warpAffine(crop, inv, (rw, rh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    valid = valid_region(crop.shape, inv, (rh, rw))
    vk = max(3, int(feather * d) | 1)
    valid_soft = cv2.GaussianBlur(cv2.erode(valid, np.ones((vk, vk), np.uint8)), (0, 0), vk / 2.0)
    mask = np.minimum(face_mask((rh, rw), face.translated(-x0, -y0), feather=feather), valid_soft)
    blended = seamless_blend(warped, roi, mask) if blend == "seamless" else alpha_blend(warped, roi, mask)
    out = scene.copy()
    out[y0:y1, x0:x1] = blended
    full[y0:y1, x0:x1] = mask
    return out, full


class NeuralEngine(Engine):
    """Built from a verified :class:`~engine.registry.RegistryReport` (see ``select.get_engine``)."""

    def __init__(self, report: RegistryReport, models_dir: str | os.PathLike | None = None, *,
                 diagnostics: bool = False, prefer_gpu: bool = True, blend: str = "alpha", restore: bool = True):
        super().__init__(models_dir, dense=False, diagnostics=diagnostics)
        self.registry = report
        sw = report.spec("swapper")
        o = sw.options
        emap = o.get("emap") or None
        if emap and not os.path.isabs(emap):
            emap = report.models_dir / emap  # relative to MODELS_DIR, like every registry path
        self.swapper_net = OnnxSwapper(report.path("swapper"), input_size=sw.input_size,
                                       input_range=o.get("input_range", "0,1"),
                                       channel_order=o.get("channel_order", "rgb"), emap=emap, prefer_gpu=prefer_gpu)
        if report.usable("embedder"):
            em = report.spec("embedder")
            self.id_embedder = OnnxEmbedder(report.path("embedder"), size=em.input_size or 112,
                                            mean=em.options.get("mean", 127.5), std=em.options.get("std", 127.5),
                                            channel_order=em.options.get("channel_order", "rgb"),
                                            prefer_gpu=prefer_gpu)
        else:
            self.id_embedder = self.embedder  # SFace 128-d: fine for tests, wrong space for a real swapper
            log.warning("no ONNX embedder in the registry: using SFace's 128-d feature as the identity vector")
        self.restorer = None
        if restore and report.usable("restorer"):
            from .restore import GfpganRestorer

            rs = report.spec("restorer")
            self.restorer = GfpganRestorer(report.path("restorer"), size=rs.input_size or 512,
                                           prefer_gpu=prefer_gpu, **rs.options)
        self.blend = blend
        # the face mesh only for tone transfer (the scene people's skin towards the users' tones before the
        # swapper sees the scene; engine.tone); MediaPipe missing: no tone transfer
        self.tone_landmarker = MeshLandmarker()

    def identity_vector(self, photos: list[np.ndarray], si: int) -> tuple[np.ndarray, int]:
        """Mean unit identity over the user's photos (largest face of each) and the photo count."""
        v, n, _ = self._identity(photos, si)
        return v, n

    def _identity(self, photos: list[np.ndarray], si: int) -> tuple[np.ndarray, int, Identity]:
        try:
            ident = self.build_identity(photos, embed=False)
        except NoFaceError as exc:
            exc.detail["slot"] = si
            raise
        vecs = np.stack([self.id_embedder.embed(img, f) for img, f in zip(ident.images, ident.faces, strict=True)])
        m = vecs.mean(0)
        return (m / max(float(np.linalg.norm(m)), 1e-8)).astype(np.float32), len(vecs), ident

    def _tone(self, scene: np.ndarray, targets: Sequence[Face], idents: Sequence[Identity]) -> np.ndarray:
        """The scene with its people's skin moved towards their users' tones (see Engine._retone), or the
        scene itself when tone transfer is off or the mesh is unavailable."""
        lmk = self.tone_landmarker
        if self.tone.strength <= 0 or not lmk.available:
            return scene
        for ident in idents:
            ident.landmarks = [lmk.landmarks(img, f) for img, f in zip(ident.images, ident.faces, strict=True)]
        out = scene.copy()
        self._retone(out, scene, [lmk.landmarks(scene, f) for f in targets], idents)
        return out

    def run(self, scene_img: np.ndarray, slots: Sequence[Slot], identities: Sequence[Sequence[np.ndarray]],
            progress: Progress | None = None) -> np.ndarray:
        """As :meth:`Engine.run`: stages "detect", "swap", "finish"; returns BGR uint8 of the scene's size."""
        report = safe_progress(progress)

        timings: dict[str, float] = {}
        t = time.perf_counter()

        def tick(stage: str) -> None:
            nonlocal t
            now = time.perf_counter()
            timings[stage] = timings.get(stage, 0.0) + now - t
            t = now

        if len(identities) != len(slots):
            raise SceneError("scene_faces", "number of identities does not match slots",
                             {"reason": "count", "slots": len(slots), "identities": len(identities)})
        scene = to_bgr_u8(scene_img)
        report("detect", 0)
        targets = self.match_slots(scene, slots)
        tick("detect")
        n = max(1, len(slots))
        vecs, counts, idents = [], [], []
        for si, photos in enumerate(identities):
            v, c, ident = self._identity(list(photos), si)
            vecs.append(v)
            counts.append(c)
            idents.append(ident)
            report("detect", 10 + int(20 * (si + 1) / n))
        tick("identity")
        scene = self._tone(scene, targets, idents)
        toned = scene if self.keep_toned else None
        tick("tone")
        report("swap", 30)
        S = self.swapper_net.size
        aligned = [align_crop(scene, f, S) for f in targets]
        runs0 = self.swapper_net.runs
        swapped = self.swapper_net.swap_crops([c for c, _ in aligned], vecs)
        tick("swap.model")
        out = scene
        reports = []
        for si, (target, (_, M), crop) in enumerate(zip(targets, aligned, swapped, strict=True)):
            out, mask = paste_back(out, crop, M, target, blend=self.blend)
            scale = math.sqrt(abs(np.linalg.det(M[:, :2])))
            reports.append({"slot": si, "method": "neural", "photos": counts[si], "scale": scale, "mask": mask,
                            "restored": False})
        tick("swap.paste")
        report("swap", 75)
        if self.restorer is not None:
            R = self.restorer.size
            crops = [align_crop(out, f, R, self.restorer.template()) for f in targets]
            restored = self.restorer.restore_crops([c for c, _ in crops])
            tick("restore.model")
            for rep, target, (_, M), crop in zip(reports, targets, crops, restored, strict=True):
                out, _ = paste_back(out, crop, M, target, blend="alpha")
                rep["restored"] = True
            tick("restore.paste")
        report("swap", 90)
        self.last_report = {"slots": reports, "timings": timings, "engine": "neural",
                            "swap_runs": self.swapper_net.runs - runs0}
        if toned is not None:
            self.last_report["toned"] = toned
        report("finish", 100)
        return out
