"""Scene intake: is this picture usable as a two-person scene? (Admin uploads and ``seed_demo``.)

A scene is accepted only with exactly two usable faces: two main faces (any face smaller than half
the largest one's eye distance is background and ignored), each with at least
``settings.SCENE_MIN_EYE_DISTANCE`` pixels between the eyes, a face mesh the engine can fit, and not
in profile (head turned more than ``SCENE_MAX_YAW`` or tilted more than ``SCENE_MAX_PITCH`` degrees).
The slots A/B are the two faces, ordered by the scene's hint (see ``services.scene_slots_from_faces``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

SCENE_MAX_YAW = 40.0  # degrees; the upload gate's limit (engine.gate.MAX_YAW)
SCENE_MAX_PITCH = 35.0
BACKGROUND_RATIO = 0.5  # a face with less than half the largest face's eye distance is background


@dataclass
class SceneFace:
    box: list[float]  # normalised [x, y, w, h]
    eye_distance: float
    yaw: float | None = None
    pitch: float | None = None
    problem: str | None = None  # code: too_small | no_mesh | profile


@dataclass
class SceneCheck:
    faces: list[SceneFace] = field(default_factory=list)  # the main faces, left to right
    background_faces: int = 0
    errors: list[str] = field(default_factory=list)  # sentences for the admin
    slots: list[list[float]] = field(default_factory=list)  # [A, B] when accepted

    @property
    def ok(self) -> bool:
        return not self.errors


def min_eye_distance() -> float:
    return float(getattr(settings, "SCENE_MIN_EYE_DISTANCE", 60.0))


def face_problem(*, eye_distance: float, pose: tuple[float, float, float] | None,
                 min_eye: float, max_yaw: float = SCENE_MAX_YAW, max_pitch: float = SCENE_MAX_PITCH) -> str | None:
    """The rule for one scene face. ``pose`` is (yaw, pitch, roll) from the face mesh, None when the
    mesh could not be fitted (then the engine cannot swap this face well: refused)."""
    if eye_distance < min_eye:
        return "too_small"
    if pose is None:
        return "no_mesh"
    yaw, pitch, _roll = pose
    if abs(yaw) > max_yaw or abs(pitch) > max_pitch:
        return "profile"
    return None


def _side(i: int, n: int) -> str:
    if n == 2:
        return _("left") if i == 0 else _("right")
    return _("face %(n)d from the left") % {"n": i + 1}


def check_scene(*, image, engine, hint: str = "", min_eye: float | None = None) -> SceneCheck:
    """Detect and judge the faces of a scene (BGR array). ``engine`` is an ``engine.Engine``."""
    from .services import scene_slots_from_faces

    min_eye = min_eye_distance() if min_eye is None else float(min_eye)
    h, w = image.shape[:2]
    found = engine.inspect(image)
    res = SceneCheck()
    if not found:
        res.errors.append(_("No face was found in this picture. A scene needs exactly two people facing the camera."))
        return res
    biggest = max(f.eye_distance for f in found)
    main = sorted((f for f in found if f.eye_distance >= BACKGROUND_RATIO * biggest), key=lambda f: float(f.center[0]))
    res.background_faces = len(found) - len(main)
    for f in main:
        x, y, bw, bh = (float(v) for v in f.box)
        x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(w), x + bw), min(float(h), y + bh)
        sf = SceneFace(box=[x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h], eye_distance=f.eye_distance)
        pose = None
        if f.eye_distance >= min_eye:
            lm = engine.landmarks(image, f)
            pose = lm.pose() if lm is not None else None
            if pose is not None:
                sf.yaw, sf.pitch = float(pose[0]), float(pose[1])
        sf.problem = face_problem(eye_distance=f.eye_distance, pose=pose, min_eye=min_eye)
        res.faces.append(sf)
    if len(main) != 2:
        res.errors.append(
            _("A scene needs exactly two people; %(n)d faces of similar size were found.") % {"n": len(main)}
        )
        return res
    for i, sf in enumerate(res.faces):
        side = _side(i, len(res.faces))
        if sf.problem == "too_small":
            res.errors.append(
                _("The %(side)s face is too small: %(px)d px between the eyes, at least %(min)d px are needed. "
                  "Use a larger picture or one where the faces are closer.")
                % {"side": side, "px": round(sf.eye_distance), "min": round(min_eye)}
            )
        elif sf.problem == "no_mesh":
            res.errors.append(_("The %(side)s face could not be measured (covered, cut off or too blurry).")
                              % {"side": side})
        elif sf.problem == "profile":
            res.errors.append(
                _("The %(side)s face is turned too far (%(yaw)d° sideways, %(pitch)d° up/down; at most "
                  "%(max_yaw)d° and %(max_pitch)d°). Both faces must look roughly towards the camera.")
                % {"side": side, "yaw": round(abs(sf.yaw or 0)), "pitch": round(abs(sf.pitch or 0)),
                   "max_yaw": round(SCENE_MAX_YAW), "max_pitch": round(SCENE_MAX_PITCH)}
            )
    if res.ok:
        res.slots = scene_slots_from_faces(boxes=[sf.box for sf in res.faces], hint=hint)
    return res


def check_stored_scene(*, scene) -> SceneCheck | None:
    """The intake check of a saved scene's picture (admin change page), None when it can't be read."""
    from engine import EngineError, decode_image, get_engine

    try:
        with scene.image.open("rb") as fh:
            image = decode_image(fh.read())
    except (OSError, ValueError, EngineError):
        return None
    return check_scene(image=image, engine=get_engine(settings.MODELS_DIR, diagnostics=False),
                       hint=scene.slot_hint)
