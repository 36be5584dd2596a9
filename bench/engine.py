"""Engine quality + speed benchmark, measured with a recognizer the engine does not use.

    .venv/bin/python bench/engine.py [--faces DIR] [--size 1024] [--repeat 3] [--no-write]

Needs requirements/bench.txt (dlib-bin, face_recognition_models). Runs on ONE core
(``cv2.setNumThreads(1)`` and the process pinned to one CPU).

* Scenes: every ordered pair (A, B) of the distinct people in ../shared/testdata/faces composed
  side by side (compose_scene, styles film/picnic/night in turn, 1024 px) with B's portrait swapped
  into A's slot and A's into B's ("composed"), plus every real photo of a person with each other
  person's portrait swapped in ("real").
* Identity: dlib's ResNet face descriptor (``dlib.face_recognition_model_v1`` from
  face_recognition_models), aligned on a ``dlib.full_object_detection`` built from dlib's frontal
  face detector box and five points of our own landmarks in dlib's 5-point layout (eye corners, base
  of the nose). dlib's 68-point shape predictor (non-commercial) is never used. A swap is recognised
  as the user when its distance to the user's reference descriptor is < 0.6 (dlib's threshold) and
  not as the scene person when its distance to the replaced scene face is >= 0.6. The user reference
  is the mean descriptor of that person's *other* photos where there are any (Obama), else the
  source photo itself.
* Pose/expression kept: mean distance between the 468 mesh landmarks of the scene face and of the
  result face, divided by the scene face's inter-ocular distance.
* Speed: Engine.run (diagnostics off) per couple photo at 1024 px, as a ratio to decoding + encoding
  the same scene JPEG in the same run, with the per-stage breakdown from ``Engine.last_report``.

Writes the figures between ``<!-- engine:start -->`` and ``<!-- engine:end -->`` in BENCHMARKS.md
and a contact sheet (user, scene, result face crops per swap) to bench/engine_contact_sheet.png.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from engine import Engine, compose_scene, decode_image, encode_jpeg, resize_max  # noqa: E402
from engine.landmarks import DLIB5, N_MESH  # noqa: E402

PEOPLE = {  # person -> photos; the first is the portrait used as the user's upload
    "obama": ["obama.jpg", "obama2.jpg", "obama3.jpg"],
    "biden": ["biden.jpg"],
    "hopper": ["grace_hopper.jpg"],
    "collins": ["astronaut.png"],
}
STYLES = ("film", "picnic", "night")
THRESHOLD = 0.6  # dlib's same-person distance
START, END = "<!-- engine:start -->", "<!-- engine:end -->"


class DlibRecognizer:
    """dlib frontal detector + ResNet descriptor, aligned with our 5 points in dlib's layout."""

    def __init__(self):
        import importlib.util

        import dlib

        # The package's __init__ needs pkg_resources (setuptools < 81); find the weights without it.
        spec = importlib.util.find_spec("face_recognition_models")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("face_recognition_models is not installed: pip install -r requirements/bench.txt")
        models = Path(list(spec.submodule_search_locations)[0]) / "models"
        weights = models / "dlib_face_recognition_resnet_model_v1.dat"
        self.dlib = dlib
        self.detector = dlib.get_frontal_face_detector()
        self.model = dlib.face_recognition_model_v1(str(weights))

    def descriptor(self, img: np.ndarray, lm, face) -> tuple[np.ndarray, bool]:
        """(128-d descriptor, whether dlib's own detector found the face)."""
        dlib = self.dlib
        x, y, w, h = (float(v) for v in face.box)
        H, W = img.shape[:2]
        pad = 0.6 * max(w, h)
        x0, y0 = max(0, int(x - pad)), max(0, int(y - pad))
        x1, y1 = min(W, int(x + w + pad)), min(H, int(y + h + pad))
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        up = 1 if max(w, h) < 120 else 0
        rects = self.detector(crop, up)
        found = len(rects) > 0
        if found:
            r = max(rects, key=lambda r: r.area())
            rect = dlib.rectangle(r.left() + x0, r.top() + y0, r.right() + x0, r.bottom() + y0)
        else:  # fall back to the YuNet box (counted in the report)
            rect = dlib.rectangle(int(x), int(y), int(x + w), int(y + h))
        pts = [dlib.point(int(round(float(lm.xy[i, 0]))), int(round(float(lm.xy[i, 1])))) for i in DLIB5]
        shape = dlib.full_object_detection(rect, pts)
        return np.array(self.model.compute_face_descriptor(rgb, shape, 0, 0.25)), found


@dataclass
class SwapResult:
    kind: str
    user: str
    scene_person: str
    scene_name: str
    d_user: float
    d_scene: float
    cos_user: float
    cos_scene: float
    lm_err: float
    method: str
    dlib_found: bool
    thumbs: list = field(default_factory=list)


def cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def face_thumb(img: np.ndarray, face, size: int = 112) -> np.ndarray:
    c = face.eye_center * 0.5 + face.mouth_center * 0.5
    half = 1.6 * max(face.eye_distance, 8)
    M = np.float32([[size / (2 * half), 0, size / 2 - c[0] * size / (2 * half)],
                    [0, size / (2 * half), size / 2 - c[1] * size / (2 * half)]])
    return cv2.warpAffine(img, M, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_CONSTANT)


def nearest(faces, target):
    return min(faces, key=lambda f: float(np.linalg.norm(f.center - target.center))) if faces else None


def main() -> int:
    default_faces = os.environ.get("LLS_TESTDATA_FACES", str(ROOT.parent / "shared" / "testdata" / "faces"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", default=default_faces)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="override a MeshSwapper attribute, e.g. --set scene_shape=0.6 (repeatable)")
    ap.add_argument("--dense", type=int, default=1, help="0: the 5-point path for comparison")
    ap.add_argument("--sheet", default=str(ROOT / "bench" / "engine_contact_sheet.png"))
    ap.add_argument("--md", default=str(ROOT / "BENCHMARKS.md"))
    args = ap.parse_args()

    cv2.setNumThreads(1)
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[0]})

    faces_dir = Path(args.faces)
    photos = {n: decode_image((faces_dir / n).read_bytes()) for ps in PEOPLE.values() for n in ps}
    eng = Engine(dense=bool(args.dense), diagnostics=False)
    for kv in args.set:
        name, value = kv.split("=", 1)
        if not hasattr(eng.mesh_swapper, name):
            ap.error(f"MeshSwapper has no attribute {name!r}")
        setattr(eng.mesh_swapper, name, type(getattr(eng.mesh_swapper, name))(float(value)))
    rec = DlibRecognizer()

    def analyse(img, face):
        lm = eng.landmarks(img, face)
        return lm

    # reference descriptors per photo
    desc = {}
    for n, img in photos.items():
        f = max(eng.inspect(img), key=lambda f: f.area)
        desc[n] = rec.descriptor(img, analyse(img, f), f)[0]

    def user_ref(person: str) -> np.ndarray:
        ps = PEOPLE[person]
        others = ps[1:] or ps[:1]
        return np.mean([desc[n] for n in others], axis=0)

    results: list[SwapResult] = []
    speed = []  # (run seconds, decode+encode seconds, timings dict)

    def evaluate(kind, scene_name, scene, out, targets, users, scene_people):
        found = eng.inspect(out)
        for ti, (target, user, sp) in enumerate(zip(targets, users, scene_people, strict=True)):
            up = next(p for p, ps in PEOPLE.items() if user in ps)
            rf = nearest(found, target)
            if rf is None or np.linalg.norm(rf.center - target.center) > 0.5 * target.eye_distance:
                rf = target  # not re-detected: measure at the scene face's place
            lm_s = eng.landmarks(scene, target)
            lm_r = eng.landmarks(out, rf) or lm_s
            d_res, found_d = rec.descriptor(out, lm_r, rf)
            d_scene = rec.descriptor(scene, lm_s, target)[0]
            ref = user_ref(up)
            err = float(np.linalg.norm(lm_r.xy[:N_MESH] - lm_s.xy[:N_MESH], axis=1).mean() / lm_s.iod)
            rep = eng.last_report["slots"][ti]
            uimg = photos[user]
            uf = max(eng.inspect(uimg), key=lambda f: f.area)
            results.append(SwapResult(
                kind, user, sp, scene_name,
                float(np.linalg.norm(d_res - ref)), float(np.linalg.norm(d_res - d_scene)),
                cosine(d_res, ref), cosine(d_res, d_scene), err, rep.get("method", "?"), found_d,
                [face_thumb(uimg, uf), face_thumb(scene, target), face_thumb(out, target)]))

    people = list(PEOPLE)
    # composed couple scenes: every ordered pair, users swapped in crosswise
    k = 0
    for a in people:
        for b in people:
            if a == b:
                continue
            pa, pb = PEOPLE[a][0], PEOPLE[b][0]
            scene = compose_scene(photos[pa], photos[pb], STYLES[k % 3], detector=eng.detector)
            k += 1
            scene, _ = resize_max(scene, args.size)
            jpeg = encode_jpeg(scene)
            scene = decode_image(jpeg)
            slots = eng.suggest_slots(scene)[:2]
            targets = eng.match_slots(scene, slots)
            users = [pb, pa]
            idents = [[photos[pb]], [photos[pa]]]
            runs, codecs = [], []
            for _ in range(args.repeat):
                t = time.perf_counter()
                img = decode_image(jpeg)
                encode_jpeg(img)
                codecs.append(time.perf_counter() - t)
                t = time.perf_counter()
                out = eng.run(scene, slots, idents)
                runs.append((time.perf_counter() - t, dict(eng.last_report["timings"])))
            runs.sort(key=lambda r: r[0])
            speed.append((runs[len(runs) // 2][0], statistics.median(codecs), runs[len(runs) // 2][1]))
            evaluate("composed", f"{pa}+{pb} ({STYLES[(k - 1) % 3]})", scene, out, targets, users, [a, b])
    # real photos as scenes
    for sp in people:
        for sname in PEOPLE[sp]:
            scene, _ = resize_max(photos[sname], args.size)
            slots = eng.suggest_slots(scene)
            big = max(range(len(slots)), key=lambda i: slots[i][2] * slots[i][3])
            slots = [slots[big]]
            targets = eng.match_slots(scene, slots)
            for up in people:
                if up == sp:
                    continue
                user = PEOPLE[up][0]
                out = eng.run(scene, slots, [[photos[user]]])
                evaluate("real", sname, scene, out, targets, [user], [sp])

    # -- summary -------------------------------------------------------------------------------
    n = len(results)
    as_user = sum(r.d_user < THRESHOLD for r in results)
    not_scene = sum(r.d_scene >= THRESHOLD for r in results)
    closer = sum(r.d_user < r.d_scene for r in results)
    mesh = sum(r.method == "mesh" for r in results)
    errs = [r.lm_err for r in results]
    secs = [s for s, _, _ in speed]
    codec = [c for _, c, _ in speed]
    ratio = [s / c for s, c, _ in speed]
    stages: dict[str, list[float]] = {}
    for _, _, tm in speed:
        for key, v in tm.items():
            stages.setdefault(key, []).append(v)

    def pct(x):
        return f"{100.0 * x / max(n, 1):.0f}%"

    lines = []
    cmd = "cd main && .venv/bin/python bench/engine.py" + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else "")
    lines += [
        "## Face-swap engine quality and speed (CPU, one core)",
        "",
        f"Command: `{cmd}` — machine: {platform.machine()}, {os.cpu_count()} cores (pinned to 1), "
        f"no GPU; scene long side {args.size} px; engine method: "
        f"{'dense mesh (MediaPipe 478 + piecewise affine)' if args.dense else '5-point similarity'}"
        f" ({', '.join(f'{k}={v}' for k, v in vars(eng.mesh_swapper).items())}); "
        f"{mesh}/{n} swaps used the mesh path.",
        "",
        "Identity is judged by dlib's ResNet descriptor (face_recognition_models, CC0), which the engine does "
        "not use; distance < 0.6 = same person.",
        "",
        "| measure | result | target |",
        "|---|---|---|",
        f"| recognised as the user (d(result, user) < 0.6) | {as_user}/{n} = {pct(as_user)} | ≥ 95% |",
        f"| not recognised as the replaced scene face (d(result, scene) ≥ 0.6) | {not_scene}/{n} = "
        f"{pct(not_scene)} | ≥ 95% |",
        f"| closer to the user than to the scene face | {closer}/{n} = {pct(closer)} | |",
        f"| mean dlib distance to user / to scene face | {np.mean([r.d_user for r in results]):.3f} / "
        f"{np.mean([r.d_scene for r in results]):.3f} | |",
        f"| mean dlib cosine to user / to scene face | {np.mean([r.cos_user for r in results]):.3f} / "
        f"{np.mean([r.cos_scene for r in results]):.3f} | |",
        f"| landmark error, result vs scene face (mean over 468 points / IOD), mean · max | "
        f"{100 * np.mean(errs):.2f}% · {100 * np.max(errs):.2f}% | < 3% |",
        f"| seconds per couple photo (Engine.run, 2 faces, median over {len(secs)} scenes) | "
        f"{statistics.median(secs):.3f} s (max {max(secs):.3f}) | ≤ 1.0 s |",
        f"| ratio to decode + encode of the same scene JPEG ({statistics.median(codec) * 1000:.1f} ms) | "
        f"{statistics.median(ratio):.1f}x | ≤ 6x |",
        "",
        "Per-stage seconds per couple photo (median over scenes; `swap.*` are parts of `swap`):",
        "",
        "| stage | seconds |",
        "|---|---|",
    ]
    for key in sorted(stages, key=lambda s: (s.startswith("swap."), s)):
        lines.append(f"| {key} | {statistics.median(stages[key]):.4f} |")
    lines += ["", "Per swap (d = dlib distance; ✔ = recognised as user and not as scene face):", "",
              "| kind | scene | scene person | user | d user | d scene | landmark err | method | dlib det |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ok = "✔" if (r.d_user < THRESHOLD and r.d_scene >= THRESHOLD) else "✘"
        lines.append(f"| {r.kind} | {r.scene_name} | {r.scene_person} | {r.user} | {r.d_user:.3f} {ok} | "
                     f"{r.d_scene:.3f} | {100 * r.lm_err:.2f}% | {r.method} | {'yes' if r.dlib_found else 'no'} |")

    # contact sheet: 4 swaps per row, each (user | scene | result)
    per_row = 4
    tiles = [np.hstack(r.thumbs + [np.full((112, 6, 3), 255, np.uint8)]) for r in results]
    while len(tiles) % per_row:
        tiles.append(np.full_like(tiles[0], 255))
    sheet = np.vstack([np.hstack(tiles[i:i + per_row]) for i in range(0, len(tiles), per_row)])
    rel = os.path.relpath(args.sheet, Path(args.md).parent)
    lines += ["", f"Contact sheet (per swap: user photo · scene face · result, in table order): [{rel}]({rel})", ""]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        cv2.imwrite(args.sheet, sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        write_section(Path(args.md), text)
        print(f"wrote {args.md} and {args.sheet}")
    return 0


def write_section(md: Path, text: str) -> None:
    """Replace (or append) the engine section between the markers; everything else is kept."""
    body = f"{START}\n{text}\n{END}"
    old = md.read_text(encoding="utf-8") if md.exists() else "# Benchmarks\n"
    if START in old and END in old:
        pre, rest = old.split(START, 1)
        _, post = rest.split(END, 1)
        new = pre + body + post
    else:
        new = old.rstrip("\n") + "\n\n" + body + "\n"
    md.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
