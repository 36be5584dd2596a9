"""Engine benchmark on a FIXED tuning / held-out split, judged by a recognizer the engine does not use.

    .venv/bin/python bench/engine.py [--no-write] [--part both|held-out|tuning] [--no-4k] [--testdata DIR]

Needs requirements/bench.txt (dlib-bin, face_recognition_models). One core: OMP/OpenBLAS threads 1,
``cv2.setNumThreads(1)``, the process pinned to one CPU. The split (see bench/README.md) is fixed;
the engine may be tuned only on the tuning part, the figures reported are from the held-out part.

Per case (one user swapped into one face slot of one scene; the partner slot holds another user of
the same part): the upload gate (``engine.gate.check_photo``, product defaults), ``Engine.run``, then
on the result: YuNet re-detects the face, MediaPipe fits the mesh, dlib's ResNet descriptor is taken
(aligned on five mesh points in dlib's 5-point layout; dlib's 68-point predictor is never used).
A gate refusal, an engine error, an undetected result face or a failed mesh is a FAILED case,
listed by reason; nothing falls back to a value that counts as success.

Writes the section between ``<!-- engine:start -->`` and ``<!-- engine:end -->`` in BENCHMARKS.md
and bench/engine_contact_sheet.png (user · scene face · result, full-resolution crops, worst ten).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "TF_NUM_INTEROP_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench import engine_metrics as em  # noqa: E402

THRESHOLD = 0.6  # dlib's same-person distance
LM_TARGET = 0.03  # landmark error target, share of the inter-ocular distance
NONSKIN_MAX = 0.05  # artifact (a): share of the pasted skin area that became non-skin
SEAM_MAX = 1.0  # artifact (b): added boundary edge in units of the scene's own strong edges there
TONE_MAX = 6.0  # artifact (b): added colour step across the boundary, ΔE*ab (see the report for why)
TONE_GAP = 10.0  # skin tone kept: users whose cheeks differ from the scene face's by at least this L*
SCENE_SIDE = 1024
ENGINE_STATE = "unknown commit"
LM_FLOOR: list[float] = []  # landmark error of the unchanged scene faces after blur + JPEG (measurement noise)
BIG_SIDE = 4096

# ---- the fixed split (ENGINE tunes on "tuning"; do not change) -------------------------------------
SCENES = {
    "tuning": ["uniportrait_two_women_studio.png", "xverse_couple_mw_studio.jpg", "faces/biden.jpg"],
    "held-out": ["xverse_couple_mw_outdoor.jpg", "xverse_couple_mw_cheek.jpg", "faces/obama3.jpg"],
}
# real photographs as one-face scenes ("faces/..."; added in the fourth round, after that round's tuning):
# every user of the part who is another person goes into its one face
USERS_FACES = {
    "tuning": ["obama.jpg", "biden.jpg", "grace_hopper.jpg"],
    "held-out": ["obama2.jpg", "obama3.jpg", "astronaut.png"],  # astronaut only if it passes the gate
}
USERS_SYNTH = {"tuning": "sfhq_pt1_", "held-out": "sfhq_pt2_"}
CONDITIONAL = {"astronaut.png"}
PEOPLE = {"obama.jpg": "obama", "obama2.jpg": "obama", "obama3.jpg": "obama", "biden.jpg": "biden",
          "grace_hopper.jpg": "hopper", "astronaut.png": "collins"}
# scene faces left to right; the XVerse couple appears in three scenes (other photos of the same person)
SCENE_PEOPLE = {
    "uniportrait_two_women_studio.png": ["uniportrait woman L", "uniportrait woman R"],
    "xverse_couple_mw_studio.jpg": ["xverse man", "xverse woman"],
    "xverse_couple_mw_outdoor.jpg": ["xverse man", "xverse woman"],
    "xverse_couple_mw_cheek.jpg": ["xverse man", "xverse woman"],
    "faces/biden.jpg": ["biden"],
    "faces/obama3.jpg": ["obama"],
}


def scene_path(data: Path, name: str) -> Path:
    """A two-person scene from ``scenes/``, or a real photograph (``faces/...``) as a one-face scene."""
    return data / name if "/" in name else data / "scenes" / name


class DlibRecognizer:
    """dlib's ResNet descriptor on a chip aligned by five points in dlib's 5-point layout."""

    def __init__(self):
        import importlib.util

        import dlib

        spec = importlib.util.find_spec("face_recognition_models")  # its __init__ needs pkg_resources
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("face_recognition_models is not installed: pip install -r requirements/bench.txt")
        models = Path(list(spec.submodule_search_locations)[0]) / "models"
        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.model = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))

    def descriptor(self, img: np.ndarray, xy: np.ndarray) -> np.ndarray:
        dlib = self.dlib
        rgb = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        x0, y0 = xy[:468].min(0)
        x1, y1 = xy[:468].max(0)
        rect = dlib.rectangle(int(x0), int(y0), int(x1), int(y1))  # unused by the 5-point chip alignment
        pts = [dlib.point(int(round(float(xy[i, 0]))), int(round(float(xy[i, 1])))) for i in em.DLIB5]
        return np.array(self.model.compute_face_descriptor(rgb, dlib.full_object_detection(rect, pts), 0, 0.25))

    def detects(self, img: np.ndarray, box) -> bool:
        """Whether dlib's own (HOG) detector finds a face there too (information only)."""
        x, y, w, h = (float(v) for v in box)
        H, W = img.shape[:2]
        pad = 0.5 * max(w, h)
        x0, y0, x1, y1 = max(0, int(x - pad)), max(0, int(y - pad)), min(W, int(x + w + pad)), min(H, int(y + h + pad))
        crop = np.ascontiguousarray(cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_BGR2RGB))
        return len(self.detector(crop, 1 if max(w, h) < 120 else 0)) > 0


@dataclass
class User:
    name: str
    img: np.ndarray
    person: str
    gate: str | None = None  # refusal code, None = accepted
    xy: np.ndarray | None = None
    desc: np.ndarray | None = None
    face: object = None


@dataclass
class Case:
    part: str
    scene: str
    slot: int
    user: str
    partner: str
    failure: str | None = None
    d_user: float = float("nan")
    d_user_other: float | None = None
    d_scene: float = float("nan")
    d_scene_other: float | None = None
    lm_err: float = float("nan")
    d_pose: float = float("nan")  # largest of |yaw|, |pitch|, |roll| difference, result vs scene (degrees)
    d_mouth: float = float("nan")  # |mouth openness difference| (inner-lip gap / mouth width)
    d_eyes: float = float("nan")  # largest |eye openness difference| (lid gap / eye width)
    nonskin: float = float("nan")
    seam: float = float("nan")
    tone: float = float("nan")
    tone_natural: float = float("nan")
    spill: float = 0.0  # what tone transfer changed off the skin around the face (grey levels, see below)
    l_user: float = float("nan")  # cheek lightness L* of the user's photo, the scene face, the result
    l_scene: float = float("nan")
    l_result: float = float("nan")
    dlib_det: bool = False
    has_user_other: bool = False
    has_scene_other: bool = False
    crops: list = field(default_factory=list)

    @property
    def as_user(self) -> bool:
        return self.failure is None and self.d_user < THRESHOLD

    @property
    def not_scene(self) -> bool:
        return self.failure is None and (self.d_scene >= THRESHOLD or self.d_user < self.d_scene)

    @property
    def not_scene_other(self) -> bool | None:
        if self.d_scene_other is None:
            return None
        return self.failure is None and (self.d_scene_other >= THRESHOLD or self.d_user < self.d_scene_other)

    @property
    def as_user_other(self) -> bool | None:
        if self.d_user_other is None:
            return None
        return self.failure is None and self.d_user_other < THRESHOLD

    @property
    def pose_ok(self) -> bool:
        return self.failure is None and self.lm_err < LM_TARGET

    @property
    def clean(self) -> bool:
        return (self.failure is None and self.nonskin <= NONSKIN_MAX and self.seam <= SEAM_MAX
                and self.tone <= TONE_MAX)

    def problems(self) -> list[str]:
        if self.failure:
            return [self.failure]
        out = []
        if not self.as_user:
            out.append(f"not user {self.d_user:.2f}")
        if not self.not_scene:
            out.append(f"still scene {self.d_scene:.2f}")
        if self.not_scene_other is False:
            out.append(f"still scene (other photo) {self.d_scene_other:.2f}")
        if self.as_user_other is False:
            out.append(f"not user (other photo) {self.d_user_other:.2f}")
        if not self.pose_ok:
            out.append(f"landmarks {100 * self.lm_err:.1f}%")
        if self.nonskin > NONSKIN_MAX:
            out.append(f"non-skin {100 * self.nonskin:.1f}%")
        if self.seam > SEAM_MAX:
            out.append(f"seam {self.seam:.2f}")
        if self.tone > TONE_MAX:
            out.append(f"tone step ΔE {self.tone:.1f}")
        return out

    def badness(self) -> float:
        if self.failure:
            return 100.0
        fails = sum(1 for ok in (self.as_user, self.not_scene, self.pose_ok, self.not_scene_other,
                                 self.as_user_other) if ok is False)
        return (10.0 * fails + min(self.nonskin / NONSKIN_MAX, 5.0) + min(self.seam / SEAM_MAX, 5.0)
                + min(max(self.tone, 0.0) / TONE_MAX, 5.0))


def crop(img: np.ndarray, center, half: float) -> np.ndarray:
    """Square crop at full resolution (no resampling), padded grey at the image border."""
    h = int(round(half))
    cx, cy = (int(round(float(v))) for v in center)
    out = np.full((2 * h, 2 * h, 3), 200, np.uint8)
    x0, y0, x1, y1 = cx - h, cy - h, cx + h, cy + h
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(img.shape[1], x1), min(img.shape[0], y1)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = img[sy0:sy1, sx0:sx1]
    return out


def git_state() -> str:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "engine"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    files = ", ".join(f"`{line[3:]}`" for line in dirty.splitlines())
    return f"commit `{head}`" + (f" plus uncommitted changes in {files}" if dirty else " (engine/ clean)")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--testdata", default=os.environ.get("LLS_TESTDATA", str(ROOT.parent / "shared" / "testdata")))
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md and the sheet alone")
    ap.add_argument("--part", choices=["both", "held-out", "tuning"], default="both",
                    help="tuning: only the tuning part (for tuning the engine; writes nothing)")
    ap.add_argument("--no-4k", action="store_true", help="skip the 4096 px timing")
    ap.add_argument("--users", type=int, default=0, help="only the first N users of each part (a quick check; "
                    "not for reported figures)")
    ap.add_argument("--budget", type=float, default=360.0,
                    help="seconds; past this after the held-out part, the tuning part is skipped")
    ap.add_argument("--sheet", default=str(ROOT / "bench" / "engine_contact_sheet.png"))
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a MeshSwapper parameter, or tone.NAME of the ToneTransfer "
                         "(tuning only: prints, writes nothing)")
    ap.add_argument("--scene-side", type=int, default=SCENE_SIDE,
                    help="scale the scenes to this many px on their long side (tuning only: larger faces "
                         "run the working-size path; prints, writes nothing)")
    ap.add_argument("--flip", action="store_true",
                    help="mirror the scenes left-right (tuning only: other light directions against the same "
                         "users; prints, writes nothing)")
    ap.add_argument("--dump", default="", help="write every couple photo of the run into this folder")
    args = ap.parse_args()

    cv2.setNumThreads(1)
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[-1]})
    t_start = time.perf_counter()

    global ENGINE_STATE
    ENGINE_STATE = git_state()  # the engine code this process imports now
    from engine import Engine, decode_image, encode_jpeg, resize_max
    from engine.gate import check_photo

    data = Path(args.testdata)
    eng = Engine(diagnostics=False)
    eng.keep_toned = True
    for kv in args.set:
        name, value = kv.split("=", 1)
        if name.startswith("tone."):  # the ToneTransfer (frozen dataclass): tone.strength=0 turns it off
            field = name[len("tone."):]
            if not hasattr(eng.tone, field):
                ap.error(f"--set: ToneTransfer has no parameter {field!r}")
            eng.tone = dataclasses.replace(eng.tone, **{field: float(value)})
            continue
        if not hasattr(eng.mesh_swapper, name):
            ap.error(f"--set: MeshSwapper has no parameter {name!r}")
        setattr(eng.mesh_swapper, name, type(getattr(eng.mesh_swapper, name))(float(value)))
    if args.set or args.scene_side != SCENE_SIDE or args.flip:
        args.no_write = True
    rec = DlibRecognizer()
    parts = ["held-out", "tuning"] if args.part == "both" else [args.part]
    if args.part == "tuning":
        args.no_write = args.no_4k = True

    def load(path: Path) -> np.ndarray:
        return decode_image(path.read_bytes())

    def mesh_both(img, face):  # (Landmarks, their xy) from one mesh pass
        lm = eng.landmarks(img, face)
        return lm, (None if lm is None else np.asarray(lm.xy, np.float64))

    def mesh(img, face):
        return mesh_both(img, face)[1]

    # ---- scenes at 1024 px, their faces, meshes and descriptors --------------------------------
    scenes: dict[str, dict] = {}
    for name in sorted({s for p in SCENES.values() for s in p}):
        img, _ = resize_max(load(scene_path(data, name)), args.scene_side)
        if args.flip:
            img = np.ascontiguousarray(img[:, ::-1])
        if max(img.shape[:2]) < args.scene_side:  # 960 px scenes: up to 1024 like the product's work size
            s = args.scene_side / max(img.shape[:2])
            img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
        faces = sorted(eng.inspect(img), key=lambda f: f.area, reverse=True)[:len(SCENE_PEOPLE[name])]
        faces.sort(key=lambda f: float(f.center[0]))
        h, w = img.shape[:2]
        slots = [tuple(float(v) for v in (f.box[0] / w, f.box[1] / h, f.box[2] / w, f.box[3] / h)) for f in faces]
        both = [mesh_both(img, f) for f in faces]
        pts, xys = [b[0] for b in both], [b[1] for b in both]
        descs = [rec.descriptor(img, xy) if xy is not None else None for xy in xys]
        scenes[name] = {"img": img, "faces": faces, "slots": slots, "xy": xys, "desc": descs, "lm": pts}
        # the landmark measure's floor: the same faces after a slight blur and a JPEG q85 round trip
        soft = decode_image(encode_jpeg(cv2.GaussianBlur(img, (0, 0), 0.7), quality=85))
        for f, xy in zip(faces, xys, strict=True):
            g = min(eng.inspect(soft), key=lambda g, f=f: float(np.linalg.norm(g.center - f.center)), default=None)
            sxy = mesh(soft, g) if g is not None else None
            if xy is not None and sxy is not None:
                LM_FLOOR.append(em.landmark_error(xy, sxy))
    scene_person_photos: dict[str, list[tuple[str, np.ndarray]]] = {}
    for name, sc in scenes.items():
        for i, d in enumerate(sc["desc"]):
            if d is not None:
                scene_person_photos.setdefault(SCENE_PEOPLE[name][i], []).append((name, d))

    # ---- users: upload gate, mesh, descriptor -------------------------------------------------------
    users: dict[str, list[User]] = {}
    excluded: list[str] = []
    for part in ["held-out", "tuning"]:
        names = [f"faces/{n}" for n in USERS_FACES[part]]
        names += sorted(f"synthetic_faces/{p.name}" for p in (data / "synthetic_faces").glob(USERS_SYNTH[part] + "*"))
        lst = []
        for n in names:
            img = load(data / n)
            base = n.split("/", 1)[1]
            u = User(n, img, PEOPLE.get(base, base))
            chk = check_photo(eng, img)
            if not chk.ok:
                u.gate = chk.code
                if base in CONDITIONAL:
                    excluded.append(f"`{n}`: refused by the upload gate ({chk.code}, "
                                    f"{chk.eye_distance:.0f} px between the eyes) — included only if it passes")
                    continue
            if chk.face is not None:
                u.face = chk.face
                u.xy = mesh(img, chk.face)
                if u.xy is not None:
                    u.desc = rec.descriptor(img, u.xy)
            lst.append(u)
        users[part] = lst[:args.users] if args.users else lst
    photo_desc: dict[str, list[tuple[str, np.ndarray]]] = {}
    for lst in users.values():
        for u in lst:
            if u.desc is not None:
                photo_desc.setdefault(u.person, []).append((u.name, u.desc))

    # ---- cases ---------------------------------------------------------------------------------------
    cases: list[Case] = []
    run_secs: list[float] = []
    stage_secs: dict[str, list[float]] = {}
    skipped_tuning = False
    for part in parts:
        if part == "tuning" and args.part == "both" and time.perf_counter() - t_start > args.budget:
            skipped_tuning = True  # bounded run time on a busy machine: the held-out figures come first
            continue
        ulist = users[part]
        for k, sname in enumerate(SCENES[part]):
            sc = scenes[sname]
            groups: list[tuple[list[User], list[bool]]] = []
            if len(SCENE_PEOPLE[sname]) == 1:  # a one-face photograph: each user of another person alone
                groups = [([u], [True]) for u in ulist if u.person != SCENE_PEOPLE[sname][0]]
            else:
                order = ulist[k:] + ulist[:k]
                if len(order) % 2:
                    order = order + [order[0]]  # the odd one out fills a partner slot only
                for j in range(0, len(order), 2):
                    groups.append(([order[j], order[j + 1]],
                                   [True, not (j + 1 == len(order) - 1 and len(ulist) % 2)]))
            for pair, counted in groups:
                run_slots, run_ids, slot_cases = [], [], []
                for si, u in enumerate(pair):
                    c = Case(part, sname, si, u.name, pair[1 - si].name if len(pair) == 2 else "")
                    c.has_user_other = any(n != u.name for n, _ in photo_desc.get(u.person, []))
                    c.has_scene_other = any(n != sname for n, _ in
                                            scene_person_photos.get(SCENE_PEOPLE[sname][si], []))
                    if u.gate:
                        c.failure = f"gate refused the user photo: {u.gate}"
                    elif sc["xy"][si] is None or sc["desc"][si] is None:
                        c.failure = "scene face: mesh failed"
                    else:
                        run_slots.append(sc["slots"][si])
                        run_ids.append([u.img])
                    slot_cases.append(c)
                out = None
                if run_slots:
                    try:
                        t = time.perf_counter()
                        out = eng.run(sc["img"], run_slots, run_ids)
                        dt = time.perf_counter() - t
                        if len(run_slots) == 2 and part == "held-out":
                            run_secs.append(dt)
                            for key, v in (eng.last_report.get("timings") or {}).items():
                                stage_secs.setdefault(key, []).append(v)
                    except Exception as exc:  # every engine error is a failed case
                        code = getattr(exc, "code", "") or ""
                        for c in slot_cases:
                            if c.failure is None:
                                c.failure = f"engine error: {type(exc).__name__} {code}".strip()
                if args.dump and out is not None:
                    Path(args.dump).mkdir(parents=True, exist_ok=True)
                    stem = "_".join([part, Path(sname).stem] + [Path(u.name).stem for u in pair])
                    cv2.imwrite(str(Path(args.dump) / f"{stem}.jpg"), out, [cv2.IMWRITE_JPEG_QUALITY, 92])
                for si, c in enumerate(slot_cases):
                    if counted[si]:
                        if c.failure is None and out is not None:
                            evaluate(c, sc, si, pair[si], out, eng, rec, mesh_both, photo_desc, scene_person_photos)
                        add_crops(c, sc, si, pair[si], out)
                        cases.append(c)

    # ---- speed at 4096 px ------------------------------------------------------------------------------
    big: list[float] = []
    small_same: list[float] = []
    if not args.no_4k:
        sname = SCENES["held-out"][0]
        src = load(scene_path(data, sname))
        s = BIG_SIDE / src.shape[1]
        bimg = cv2.resize(src, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
        ok_users = [u for u in users["held-out"] if not u.gate][:2]
        bslots = sorted(eng.suggest_slots(bimg), key=lambda b: b[2] * b[3], reverse=True)[:2]
        bslots.sort(key=lambda b: b[0])
        # the same two users on the same scene at 1024 px, interleaved with the 4096 px runs (same
        # load, same user photos: the identity stage's cost depends on the user photo, not the scene)
        small_sc = scenes[sname]
        eng.keep_toned = False  # timing only: no copy of the toned scene for the measures
        for _ in range(3):
            t = time.perf_counter()
            try:
                eng.run(small_sc["img"], small_sc["slots"], [[u.img] for u in ok_users])
                small_same.append(time.perf_counter() - t)
            except Exception as exc:
                print("1024 px run failed:", exc)
            t = time.perf_counter()
            try:
                eng.run(bimg, bslots, [[u.img] for u in ok_users])
                big.append(time.perf_counter() - t)
            except Exception as exc:
                big.append(float("nan"))
                print("4096 px run failed:", exc)
            if big[-1] > 30:  # slow engine: one timing is enough
                break
        big_shape = bimg.shape

    # ---- report ------------------------------------------------------------------------------------------
    if skipped_tuning:
        excluded.append(f"the tuning part (skipped: the held-out part already took over {args.budget:.0f} s on "
                        "this busy machine; run `--part tuning`)")
    lines = report(cases, run_secs, stage_secs, big, big_shape if big else None, excluded, eng, small_same,
                   time.perf_counter() - t_start)
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        sheet = contact_sheet([c for c in cases if c.part == "held-out"])
        write_sheet(sheet, Path(args.sheet))
        from bench._markdown import write_section

        write_section("engine", text)
        print(f"wrote BENCHMARKS.md and {args.sheet} ({Path(args.sheet).stat().st_size / 1e6:.2f} MB)")
    return 0


def evaluate(c: Case, sc: dict, si: int, u: User, out: np.ndarray, eng, rec, mesh_both, photo_desc,
             scene_person_photos):
    from engine.landmarks import head_pose

    target = sc["faces"][si]
    found = eng.inspect(out)
    near = [f for f in found if np.linalg.norm(f.center - target.center) < 0.5 * target.eye_distance]
    if not near:
        c.failure = "result: no face detected at the slot"
        return
    rf = max(near, key=lambda f: f.score)
    r_lm, rxy = mesh_both(out, rf)
    if rxy is None:
        c.failure = "result: face mesh failed"
        return
    if u.desc is None:
        c.failure = "user photo: face mesh failed (cannot judge)"
        return
    sxy = sc["xy"][si]
    d = rec.descriptor(out, rxy)
    c.d_user = float(np.linalg.norm(d - u.desc))
    others = [v for n, v in photo_desc.get(u.person, []) if n != u.name]
    if others:
        c.d_user_other = float(min(np.linalg.norm(d - v) for v in others))
    c.d_scene = float(np.linalg.norm(d - sc["desc"][si]))
    sp = SCENE_PEOPLE[c.scene][si]
    other_scene = [v for n, v in scene_person_photos.get(sp, []) if n != c.scene]
    if other_scene:
        c.d_scene_other = float(min(np.linalg.norm(d - v) for v in other_scene))
    c.lm_err = em.landmark_error(sxy, rxy)
    s_lm = sc["lm"][si]
    if s_lm is not None:
        c.d_pose = float(np.max(np.abs(np.subtract(head_pose(r_lm.pts), head_pose(s_lm.pts)))))
        c.d_mouth = abs(r_lm.mouth_open() - s_lm.mouth_open())
        c.d_eyes = float(np.max(np.abs(np.subtract(r_lm.eyes_open(), s_lm.eyes_open()))))
    # the artifact measures judge the paste against what it is pasted into: the scene with its people's
    # skin already given the users' tones (engine.tone; the scene itself when nothing was retoned)
    ref = eng.last_report.get("toned")
    ref = sc["img"] if ref is None else ref
    pasted = em.paste_mask(ref, out, sxy)
    c.nonskin, _ = em.new_nonskin_fraction(ref, out, sxy, pasted)
    c.seam, _ = em.seam_strength(ref, out, sxy, pasted)
    c.tone, c.tone_natural = em.tone_step(ref, out, sxy, pasted)
    c.l_user, c.l_scene = em.cheek_lightness(u.img, u.xy), em.cheek_lightness(sc["img"], sxy)
    c.l_result = em.cheek_lightness(out, sxy)
    c.spill = em.tone_spill(sc["img"], ref, sxy, tuple(x for j, x in enumerate(sc["xy"]) if j != si and x is not None))
    c.dlib_det = rec.detects(out, rf.box)


def add_crops(c: Case, sc: dict, si: int, u: User, out):
    target = sc["faces"][si]
    half = 1.35 * target.eye_distance
    if u.face is not None:
        uc = crop(u.img, u.face.eye_center * 0.5 + u.face.mouth_center * 0.5, 1.35 * u.face.eye_distance)
    else:
        uc = crop(u.img, (u.img.shape[1] / 2, u.img.shape[0] / 2), min(u.img.shape[:2]) / 2)
    ctr = target.eye_center * 0.5 + target.mouth_center * 0.5
    c.crops = [uc, crop(sc["img"], ctr, half), crop(out, ctr, half) if out is not None else None]


def _f3(v: float | None) -> str:
    return "" if v is None else f"{v:.3f}"


def _pct(k: int, n: int) -> str:
    return f"{k}/{n} = {100.0 * k / max(n, 1):.0f}%"


def tone_rows(ok: list[Case]) -> list[str]:
    """The user's skin tone kept: for users whose cheeks are at least TONE_GAP L* darker (lighter) than the
    scene face's, the median lightness gap to the user's cheeks, scene face vs result (information: the
    user's photo has its own exposure, so 0 is not the aim; a gap that shrinks is the user's tone kept)."""
    rows = []
    for label, sign in (("darker", -1.0), ("lighter", 1.0)):
        sel = [c for c in ok if sign * (c.l_user - c.l_scene) >= TONE_GAP]
        if not sel:
            continue
        before = np.median([abs(c.l_user - c.l_scene) for c in sel])
        after = np.median([abs(c.l_user - c.l_result) for c in sel])
        rows.append(f"| skin tone kept: users ≥ {TONE_GAP:.0f} L* {label} than the scene face ({len(sel)}): "
                    f"cheek lightness gap to the user, scene face → result, median (information) | "
                    f"{before:.1f} → {after:.1f} L* | |")
    return rows


def summary_rows(cases: list[Case]) -> list[str]:
    n = len(cases)
    ok = [c for c in cases if c.failure is None]
    rows = [
        f"| cases (user × slot × scene) | {n} ({n - len(ok)} failed before judging) | |",
        f"| recognised as the user (d(result, user photo) < 0.6) | {_pct(sum(c.as_user for c in cases), n)} | ≥ 95% |",
        f"| no longer the scene person (d(result, scene face) ≥ 0.6 or closer to the user) | "
        f"{_pct(sum(c.not_scene for c in cases), n)} | ≥ 95% |",
    ]
    so = [c for c in cases if c.has_scene_other]
    if so:
        rows.append(f"| … nor the scene person in their other photos (XVerse couple, other scenes) | "
                    f"{_pct(sum(bool(c.not_scene_other) for c in so), len(so))} | |")
    uo = [c for c in cases if c.has_user_other]
    if uo:
        rows.append(f"| recognised as the user against a photo that was NOT the input (Obama) | "
                    f"{_pct(sum(bool(c.as_user_other) for c in uo), len(uo))} | |")
    allok = sum(c.as_user and c.not_scene and c.not_scene_other is not False and c.as_user_other is not False
                for c in cases)
    rows.append(f"| all identity criteria at once | {_pct(allok, n)} | |")
    if ok:
        rows += [
            f"| landmark error < 3% of the eye distance (468 mesh points, result vs scene) | "
            f"{_pct(sum(c.pose_ok for c in cases), n)}; mean {100 * np.mean([c.lm_err for c in ok]):.2f}%, "
            f"max {100 * np.max([c.lm_err for c in ok]):.2f}% (measurement floor: the unchanged scene faces after a "
            f"slight blur + JPEG, {100 * np.median(LM_FLOOR or [0.0]):.2f}%) | < 3% |",
            f"| … pose kept: largest yaw/pitch/roll difference, result vs scene (information) | median "
            f"{np.nanmedian([c.d_pose for c in ok]):.1f}°, worst {np.nanmax([c.d_pose for c in ok]):.1f}° | |",
            f"| … expression kept: mouth / eye openness difference (gap over width; open mouth ≈ 0.15-0.4, "
            f"open eye ≈ 0.25-0.35) (information) | median {np.nanmedian([c.d_mouth for c in ok]):.3f} / "
            f"{np.nanmedian([c.d_eyes for c in ok]):.3f}, worst {np.nanmax([c.d_mouth for c in ok]):.3f} / "
            f"{np.nanmax([c.d_eyes for c in ok]):.3f} | |",
            f"| artifact (a): pasted skin that became non-skin ≤ {100 * NONSKIN_MAX:.0f}% | "
            f"{_pct(sum(c.failure is None and c.nonskin <= NONSKIN_MAX for c in cases), n)}; median "
            f"{100 * np.median([c.nonskin for c in ok]):.1f}%, worst {100 * np.max([c.nonskin for c in ok]):.1f}% | "
            f"no case worse |",
            f"| artifact (b): seam along the paste boundary ≤ {SEAM_MAX:.1f} × the scene's own edges | "
            f"{_pct(sum(c.failure is None and c.seam <= SEAM_MAX for c in cases), n)}; median "
            f"{np.median([c.seam for c in ok]):.2f}, worst {np.max([c.seam for c in ok]):.2f} | no case worse |",
            f"| artifact (b): colour step the paste adds across its boundary ≤ ΔE {TONE_MAX:.0f} | "
            f"{_pct(sum(c.failure is None and c.tone <= TONE_MAX for c in cases), n)}; median "
            f"{np.median([c.tone for c in ok]):.1f}, worst {np.max([c.tone for c in ok]):.1f} (the scenes' own "
            f"step across the same boundaries: median {np.median([c.tone_natural for c in ok]):.1f}) | "
            f"no case worse |",
            *tone_rows(ok),
            f"| tone transfer's change off the skin around the face (hair, clothes, background within 4 eye "
            f"distances; 95th percentile, grey levels; information) | median "
            f"{np.median([c.spill for c in ok]):.1f}, worst {np.max([c.spill for c in ok]):.1f} | |",
            f"| dlib's own HOG detector finds the result face (information) | "
            f"{_pct(sum(c.dlib_det for c in ok), len(ok))} | |",
            f"| mean dlib distance to user / to scene face | {np.mean([c.d_user for c in ok]):.3f} / "
            f"{np.mean([c.d_scene for c in ok]):.3f} | |",
        ]
    return rows


def report(cases, run_secs, stage_secs, big, big_shape, excluded, eng, small_same, elapsed) -> list[str]:
    held = [c for c in cases if c.part == "held-out"]
    tune = [c for c in cases if c.part == "tuning"]
    cmd = ".venv/bin/python bench/engine.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    lines = [
        "## Face-swap engine: held-out quality and speed (CPU, one core)",
        "",
        f"Figures from {ENGINE_STATE}, {time.strftime('%Y-%m-%d %H:%M %Z')}. Command: `{cmd}` "
        f"(took {elapsed / 60:.1f} min) — {platform.machine()}, {os.cpu_count()} cores, pinned to one, no GPU; "
        f"load average {os.getloadavg()[0]:.1f} at the end (other processes share the core: timings are upper "
        f"bounds when it is above 1).",
        "",
        "**Held-out part** (never used for tuning; split in `bench/README.md`): users = 22 synthetic adults "
        "`synthetic_faces/sfhq_pt2_*` + `faces/obama2.jpg`, `faces/obama3.jpg`; scenes = "
        "`xverse_couple_mw_outdoor.jpg`, `xverse_couple_mw_cheek.jpg` (at 1024 px) and the real photograph "
        "`faces/obama3.jpg` as a one-face scene. Every user goes into one face slot of each two-person scene "
        "(A in one, B in the other; the partner slot holds the next user) and into the photograph (not "
        "Obama's own photos). "
        "Identity by dlib's ResNet descriptor (face_recognition_models, CC0), which the engine does not use; "
        "distance < 0.6 = same person. A gate refusal, engine error, undetected result face or failed mesh is "
        "a failed case, never a success.",
    ]
    if excluded:
        lines += ["", "Not included: " + "; ".join(excluded) + "."]
    lines += ["", "| held-out measure | result | target |", "|---|---|---|"] + summary_rows(held)
    if run_secs:
        lines.append(f"| seconds per couple photo, 1024 px scene, one core (median of {len(run_secs)}) | "
                     f"{statistics.median(run_secs):.2f} s (fastest {min(run_secs):.2f}, slowest "
                     f"{max(run_secs):.2f}) | ≤ 0.5 s |")
    if big:
        b = [x for x in big if x == x]
        val = f"{min(b):.2f} s" if b else "failed"
        ratio = ""
        if b and small_same:
            ratio = (f" = {min(b) / min(small_same):.2f}× the same scene and users at 1024 px "
                     f"({min(small_same):.2f} s, best of {len(small_same)}, runs interleaved)")
        lines.append(f"| seconds per couple photo, the first held-out scene upscaled to {big_shape[1]}×{big_shape[0]}, "
                     f"the first two held-out users (best of {len(big)}) | {val}{ratio} | ≤ 2× |")
    fails: dict[str, int] = {}
    for c in held:
        if c.failure:
            fails[c.failure] = fails.get(c.failure, 0) + 1
    if fails:
        lines += ["", "Failed held-out cases by reason: " + "; ".join(f"{k}: {v}" for k, v in sorted(fails.items()))
                  + "."]
    if stage_secs:
        lines += ["", "Seconds per held-out couple photo by stage (median): " + ", ".join(
            f"{k} {statistics.median(v):.3f}" for k, v in sorted(stage_secs.items())) + "."]
    lines += [
        "",
        "How the artifact measures work (`bench/engine_metrics.py`): the pasted area is where the result "
        "differs from the scene around the face. (a) A Gaussian skin-colour model (Lab a*, b*, plus a darkness "
        "bound) is fitted on the scene face's own cheeks; the measure is the share of the pasted skin area "
        "(eyes, brows, lips, nostrils left out) that is not skin in the result although it was skin in the "
        "scene — the user's hair strands, an occluder, a grey patch, a tinted eye area. A skin pixel falls "
        f"outside the model by chance with p < 0.002, so {100 * NONSKIN_MAX:.0f}% is far above noise (a hair strand "
        "a tenth of the eye distance wide across the forehead is about that much). (b) Along the paste boundary "
        "(a band 0.12 eye distances wide) the 95th percentile of the gradient the result adds over the scene, "
        "divided by the 90th percentile of the scene's own gradient in the same band; the threshold 1.0 means "
        "a seam as strong as the strongest tenth of the scene's own edges at that place (jaw line, hairline, "
        "ears) — a hard chin edge or a halo, not a soft blend. A feathered edge can still show a face pasted "
        "darker or lighter than the neck and ears around it, so (b) also measures the colour step across the "
        "boundary where the scene has skin outside it (neck, ears, sides of the face; mean Lab 0.15-0.3 eye "
        "distances inside vs 0.03-0.15 outside, at points along it; the 75th percentile of result step minus "
        "scene step): ΔE 6 is between two and three times the just-noticeable "
        "difference (ΔE ≈ 2.3) on top of the step the scene itself already has there. \"The scene\" in all "
        "three is the scene as the paste went into it: its people's skin already moved towards the users' "
        "tones (`engine.tone`, which recolours neck, ears and chest on purpose); identity is judged against "
        "the untouched scene face.",
        "",
        "Worst ten held-out cases (contact sheet: user photo · scene face · result, full-resolution crops): "
        "[bench/engine_contact_sheet.png](bench/engine_contact_sheet.png)",
        "",
        "| # | scene | slot | user | problems |",
        "|---|---|---|---|---|",
    ]
    for i, c in enumerate(sorted(held, key=lambda c: -c.badness())[:10]):
        lines.append(f"| {i + 1} | {c.scene} | {'AB'[c.slot]} | {c.user} | {', '.join(c.problems()) or 'none'} |")
    if tune:
        lines += ["", "**Tuning part** (the engine may be tuned on these; shown for comparison only, not the "
                  "reported figures): users `sfhq_pt1_*` (13) + `obama.jpg`, `biden.jpg`, `grace_hopper.jpg`; "
                  "scenes `uniportrait_two_women_studio.png`, `xverse_couple_mw_studio.jpg`, the photograph "
                  "`faces/biden.jpg` (one face).", "",
                  "| tuning measure | result | |", "|---|---|---|"] + summary_rows(tune)
    listed = held or tune
    lines += ["", f"<details><summary>Every {'held-out' if held else 'tuning'} case</summary>", "",
              "| scene | slot | user | d user | d user (other photo) | d scene | d scene (other photo) | landmarks | "
              "non-skin | seam | tone step | tone spill | verdict |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in listed:
        if c.failure:
            lines.append(f"| {c.scene} | {'AB'[c.slot]} | {c.user} | | | | | | | | | | ✘ {c.failure} |")
            continue
        lines.append(f"| {c.scene} | {'AB'[c.slot]} | {c.user} | {c.d_user:.3f} | {_f3(c.d_user_other)} | "
                     f"{c.d_scene:.3f} | {_f3(c.d_scene_other)} | {100 * c.lm_err:.2f}% | {100 * c.nonskin:.1f}% | "
                     f"{c.seam:.2f} | {c.tone:.1f} | {c.spill:.0f} | "
                     f"{'✔' if not c.problems() else '✘ ' + ', '.join(c.problems())} |")
    lines += ["", "</details>"]
    return lines


def contact_sheet(cases: list[Case]) -> np.ndarray | None:
    worst = sorted(cases, key=lambda c: -c.badness())[:10]
    rows = []
    for i, c in enumerate(worst):
        tiles = [t if t is not None else np.full_like(c.crops[1], 230) for t in c.crops]
        hmax = max(t.shape[0] for t in tiles)
        padded = [cv2.copyMakeBorder(t, 0, hmax - t.shape[0], 0, 6, cv2.BORDER_CONSTANT, value=(255, 255, 255))
                  for t in tiles]
        row = np.hstack(padded)
        label = np.full((26, row.shape[1], 3), 255, np.uint8)
        text = f"{i + 1}. {c.scene} slot {'AB'[c.slot]} user {c.user.split('/')[-1]}: {', '.join(c.problems())}"
        cv2.putText(label, text.replace("ΔE", "dE")[:150], (4, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1,
                    cv2.LINE_AA)
        rows.append(np.vstack([label, row]))
    if not rows:
        return None
    wmax = max(r.shape[1] for r in rows)
    rows = [cv2.copyMakeBorder(r, 0, 6, 0, wmax - r.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255))
            for r in rows]
    return np.vstack(rows)


def write_sheet(sheet: np.ndarray | None, path: Path, limit: int = 1_900_000) -> None:
    """PNG under ``limit`` bytes: full resolution, true colour when it fits, else a 256-colour palette
    with Floyd-Steinberg dithering (no false banding on skin)."""
    if sheet is None:
        return
    cv2.imwrite(str(path), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    if path.stat().st_size <= limit:
        return
    from PIL import Image

    img = Image.fromarray(cv2.cvtColor(sheet, cv2.COLOR_BGR2RGB))
    for colours in (256, 192, 128):
        palette = img.quantize(colours, method=Image.Quantize.MEDIANCUT)  # Pillow dithers only onto a palette
        img.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(path, optimize=True)
        if path.stat().st_size <= limit:
            return


if __name__ == "__main__":
    raise SystemExit(main())
