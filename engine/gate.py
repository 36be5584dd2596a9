"""Upload quality gate: is this photo good material for a swap? (Used before a job is queued.)

Blocking codes (``PhotoCheck.code``): ``no_face``, ``multiple_faces`` (several faces of similar
size: we can't tell which one is the user), ``face_too_small`` (eye-to-eye distance below the
minimum), ``overexposed`` (the face washed out by light or flash), ``no_colour`` (a black-and-white
photo: the skin's tone cannot come from it), ``too_dark`` (the face too dark to read;
``PhotoCheck.exposure`` has the measures), ``blurry``, ``profile`` (head turned too far),
``eyes_closed``, ``occluded`` (something in front of the mouth/chin, hair or sunglasses over the
eyes: the photo cannot give a clean face; ``PhotoCheck.occlusion`` has the measured shares). A fringe
down to the brows is accepted: the swap keeps the scene's forehead and brows then. Non-blocking notes
(``PhotoCheck.notes``): ``multiple_faces_used`` (other, much smaller faces were ignored; ``position``
says which face is used), ``hair_over_brows`` (a fringe or a lock of hair down over the brows: the
result keeps the scene's forehead and brows, so it looks less like the user). Identity consistency
across one person's photos: :func:`same_person_check`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cv2
import numpy as np

from .identity import SAME_PERSON_COS, identity_outliers
from .io import to_bgr_u8
from .landmarks import Landmarks
from .types import Face

if TYPE_CHECKING:  # pragma: no cover
    from .pipeline import Engine

MIN_EYE_DISTANCE = 80.0  # px between the eye centres
MAX_YAW = 40.0  # degrees; beyond this one side of the face is mostly hidden
MAX_PITCH = 35.0
EYES_CLOSED = 0.12  # lid gap / eye width, both eyes
OCCLUDED_LOWER = 0.4  # share of foreign (flat or off-colour non-skin) pixels in the chin/mouth area
OCCLUDED_LIPS = 0.5  # share of the lips (open mouth excluded) that is neither lip, skin nor teeth
OCCLUDED_EYES = 0.45  # share of non-skin pixels around the eyes (brows and the eyes themselves excluded)
OCCLUSION_IOD = 100.0  # the occlusion check runs on the face scaled to this eye distance
NO_COLOUR = 4.0  # median skin chroma below this: a black-and-white photo (skin of any tone: 10-60)
OVEREXPOSED = 0.45  # share of the skin with a channel clipped: washed out by light or flash
TOO_DARK = 30.0  # L* of the face's lit parts (97th percentile) below this: too dark to see the face
MIN_SHARPNESS = 250.0  # variance of the Laplacian on the face normalised to 64 px eye distance
DOMINANT_AREA = 2.5  # the largest face counts as "the" face when it is this many times the next one
_NORM_IOD = 64.0


@dataclass
class PhotoCheck:
    code: str | None = None  # first blocking problem, None when the photo is usable
    notes: list[str] = field(default_factory=list)
    faces: int = 0
    face: Face | None = None  # the face the engine will use (the largest)
    position: str | None = None  # "left" / "center" / "right" of that face in the photo
    eye_distance: float = 0.0
    sharpness: float = 0.0
    yaw: float | None = None
    pitch: float | None = None
    eyes_open: tuple[float, float] | None = None
    landmarks: Landmarks | None = None
    occlusion: dict[str, float] | None = None  # see :func:`face_occlusion`
    exposure: dict[str, float] | None = None  # see :func:`face_exposure`

    @property
    def ok(self) -> bool:
        return self.code is None


def face_sharpness(img: np.ndarray, face: Face) -> float:
    """Variance of the Laplacian over the inner face, after scaling the face to a 64 px eye distance
    (so the number does not depend on the photo's resolution)."""
    s = _NORM_IOD / max(face.eye_distance, 1.0)
    c = face.eye_center * 0.5 + face.mouth_center * 0.5
    half = 1.1 * _NORM_IOD
    side = int(2 * half)
    M = np.float32([[s, 0, half - s * c[0]], [0, s, half - s * c[1]]])
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    gray = cv2.cvtColor(to_bgr_u8(img), cv2.COLOR_BGR2GRAY)
    if s < 0.5:  # area-average first so downscaling doesn't alias (aliasing looks "sharp")
        f = s * 1.5
        gray = cv2.resize(gray, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        M = np.float32([[s / f, 0, M[0, 2]], [0, s / f, M[1, 2]]])
        interp = cv2.INTER_AREA
    crop = cv2.warpAffine(gray, M, (side, side), flags=interp, borderMode=cv2.BORDER_REFLECT)
    inner = crop[int(0.25 * side):int(0.8 * side), int(0.2 * side):int(0.8 * side)]
    return float(cv2.Laplacian(inner.astype(np.float32), cv2.CV_32F, ksize=3).var())


def _face_crop(img: np.ndarray, lm: Landmarks) -> tuple[np.ndarray, np.ndarray, float]:
    """(crop, its landmarks, its eye distance): the face with a margin, scaled to ``OCCLUSION_IOD`` px
    between the eyes at most (the checks on it cost the same whatever the photo's size)."""
    xy = lm.xy.astype(np.float64)
    lo, hi = xy.min(0), xy.max(0)
    pad = 0.15 * float(max(hi - lo)) + 2
    h, w = img.shape[:2]
    x0, y0 = max(0, int(lo[0] - pad)), max(0, int(lo[1] - pad))
    x1, y1 = min(w, int(np.ceil(hi[0] + pad))), min(h, int(np.ceil(hi[1] + pad)))
    crop = to_bgr_u8(img)[y0:y1, x0:x1]
    s = min(1.0, OCCLUSION_IOD / max(lm.iod, 1.0))
    if s < 1.0:
        crop = cv2.resize(crop, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    return crop, (xy - [x0, y0]) * s, lm.iod * s


def face_occlusion(img: np.ndarray, lm: Landmarks) -> dict[str, float]:
    """:func:`engine.skin.occlusion` on the face's crop (:func:`_face_crop`), plus ``brows_hidden`` (1.0
    or 0.0): hair down to the brows or a lock over one of them (:func:`engine.skin.has_fringe`, the
    swap's own test)."""
    from .skin import has_fringe, occlusion, source_keep

    crop, xy_c, iod_c = _face_crop(img, lm)
    occ = occlusion(crop, xy_c, iod_c)
    hair, _ = source_keep(crop, xy_c[:468], iod_c)
    occ["brows_hidden"] = float(has_fringe(crop, xy_c[:468], iod_c, hair=hair))
    return occ


def face_exposure(img: np.ndarray, lm: Landmarks) -> dict[str, float]:
    """Light and colour of the face's skin (inside the outline, eyes, brows and lips left out), on the
    face's crop: ``lightness`` (median L*, 0-100), ``highlights`` (97th percentile of L*: the lit
    parts; 57-93 on the test photos, dark-skinned users included, against ``TOO_DARK`` 30),
    ``chroma`` (median a*b* chroma; skin of every tone has colour, a black-and-white photo none)
    and ``clipped`` (share of pixels with a channel at 250 or more: washed out by light)."""
    from .landmarks import FACE_OVAL
    from .skin import feature_mask, poly_mask

    crop, xy_c, iod_c = _face_crop(img, lm)
    xy_c = xy_c[:468]
    inner = poly_mask(crop.shape[:2], xy_c[FACE_OVAL]) > 0
    inner &= feature_mask(crop.shape[:2], xy_c, iod_c, 0.05) == 0
    if not inner.any():
        return {"lightness": 0.0, "highlights": 0.0, "chroma": 0.0, "clipped": 0.0}
    lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)[inner].astype(np.float32)
    L = lab[:, 0] / 2.55
    return {"lightness": float(np.median(L)), "highlights": float(np.percentile(L, 97)),
            "chroma": float(np.median(np.hypot(lab[:, 1] - 128.0, lab[:, 2] - 128.0))),
            "clipped": float((crop[inner].max(1) >= 250).mean())}


def _position(face: Face, width: int) -> str:
    x = float(face.center[0]) / max(width, 1)
    return "left" if x < 0.4 else ("right" if x > 0.6 else "center")


def check_photo(engine: Engine, img: np.ndarray, *, min_eye_distance: float = MIN_EYE_DISTANCE,
                max_yaw: float = MAX_YAW, min_sharpness: float = MIN_SHARPNESS) -> PhotoCheck:
    """Assess one upload (BGR). The checks run in the order of the codes in the module docstring;
    ``code`` is the first that fails, the measurements are filled as far as they got."""
    img = to_bgr_u8(img)
    faces = sorted(engine.inspect(img), key=lambda f: f.area, reverse=True)
    res = PhotoCheck(faces=len(faces))
    if not faces:
        res.code = "no_face"
        return res
    face = faces[0]
    res.face, res.position = face, _position(face, img.shape[1])
    if len(faces) > 1:
        if faces[0].area < DOMINANT_AREA * faces[1].area:
            res.code = "multiple_faces"
            return res
        res.notes.append("multiple_faces_used")
    res.eye_distance = face.eye_distance
    if face.eye_distance < min_eye_distance:
        res.code = "face_too_small"
        return res
    lm = engine.landmarks(img, face)
    res.landmarks = lm
    if lm is not None:  # light first: a face too dark to read also measures as blurred
        res.exposure = exp = face_exposure(img, lm)
        if exp["clipped"] > OVEREXPOSED:  # (washed out, the skin has lost its colour too)
            res.code = "overexposed"
            return res
        if exp["chroma"] < NO_COLOUR:
            res.code = "no_colour"
            return res
        if exp["highlights"] < TOO_DARK:
            res.code = "too_dark"
            return res
    res.sharpness = face_sharpness(img, face)
    if res.sharpness < min_sharpness:
        res.code = "blurry"
        return res
    if lm is not None:
        yaw, pitch, _ = lm.pose()
        res.yaw, res.pitch = yaw, pitch
        res.eyes_open = lm.eyes_open()
        if abs(yaw) > max_yaw or abs(pitch) > MAX_PITCH:
            res.code = "profile"
            return res
        if max(res.eyes_open) < EYES_CLOSED:
            res.code = "eyes_closed"
            return res
        res.occlusion = face_occlusion(img, lm)
        occ = res.occlusion
        # a fringe down to the brows alone is fine: the swap keeps the scene's forehead and brows then
        if occ["lower"] > OCCLUDED_LOWER or occ["lips"] > OCCLUDED_LIPS or occ["eyes"] > OCCLUDED_EYES:
            res.code = "occluded"
            return res
        if occ["brows_hidden"]:  # accepted; the result keeps the scene's forehead and brows: say so
            res.notes.append("hair_over_brows")
    elif abs(face.yaw_proxy) > 0.35:  # no mesh: the nose far off the eye midpoint = turned head
        res.code = "profile"
    return res


def same_person_check(engine: Engine, images: list[np.ndarray], faces: list[Face] | None = None,
                      threshold: float = SAME_PERSON_COS) -> list[int]:
    """Indices of photos that are not the same person as the others (SFace, mean identity):
    see :func:`identity.identity_outliers`. ``faces`` (one per image) skips detection."""
    if len(images) < 2:
        return []
    vecs = []
    for i, img in enumerate(images):
        f = faces[i] if faces is not None else max(engine.inspect(img), key=lambda f: f.area)
        vecs.append(engine.embedder.embed(to_bgr_u8(img), f))
    return identity_outliers(vecs, threshold)
