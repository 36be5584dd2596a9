"""Quick per-stage timing of one couple photo at 1024 px and at 4096 px (the engine bench's speed case).

    .venv/bin/python bench/engine_speed.py [--repeat 5] [--profile 4096] [--cpu N]

Same setup as the speed rows of ``bench/engine.py``: the first held-out scene, the first two held-out
users, one core (threads 1, pinned), ``Engine(diagnostics=False)``; decoded arrays in, result array out
(no decode/encode, like the bench). Prints the best of ``--repeat`` runs per size and the per-stage
seconds of that run; ``--profile SIZE`` adds a cProfile of one more run at that size. Writes nothing.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS",
             "TF_NUM_INTEROP_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cProfile  # noqa: E402
import pstats  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

SCENE = "xverse_couple_mw_outdoor.jpg"
USERS = ["faces/obama2.jpg", "faces/obama3.jpg"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--testdata", default=os.environ.get("LLS_TESTDATA", str(ROOT.parent / "shared" / "testdata")))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sizes", default="1024,4096")
    ap.add_argument("--profile", type=int, default=0, help="cProfile one more run at this size")
    ap.add_argument("--cpu", type=int, default=-1, help="CPU to pin to (default: the last allowed)")
    ap.add_argument("--users", default=",".join(USERS), help="two user photos under --testdata")
    ap.add_argument("--save", default="", help="save the results as <prefix>_<size>.png (quality checks)")
    args = ap.parse_args()

    cv2.setNumThreads(1)
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[args.cpu] if args.cpu < 0 else args.cpu})
    from engine import Engine, decode_image, resize_max

    data = Path(args.testdata)
    eng = Engine(diagnostics=False)
    src = decode_image((data / "scenes" / SCENE).read_bytes())
    users = [[decode_image((data / u).read_bytes())] for u in args.users.split(",")]
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f}; pinned to {os.sched_getaffinity(0)}")
    best: dict[int, float] = {}
    for side in (int(s) for s in args.sizes.split(",")):
        if side <= 1024:  # like bench/engine.py: at most 1024 px, smaller scenes upscaled to it
            img, _ = resize_max(src, side)
            if max(img.shape[:2]) < side:
                s = side / max(img.shape[:2])
                img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
        else:
            s = side / src.shape[1]
            img = cv2.resize(src, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
        slots = sorted(eng.suggest_slots(img), key=lambda b: b[2] * b[3], reverse=True)[:2]
        slots.sort(key=lambda b: b[0])
        eng.run(img, slots, users)  # warm-up (MediaPipe, caches)
        runs = []
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            out = eng.run(img, slots, users)
            runs.append((time.perf_counter() - t, time.process_time() - c, dict(eng.last_report["timings"])))
        dt, _, tm = min(runs, key=lambda r: r[0])
        cpu = min(r[1] for r in runs)
        best[side] = dt
        stages = ", ".join(f"{k} {v:.3f}" for k, v in sorted(tm.items()))
        # CPU seconds of this process (one core, one thread): not inflated by other processes waiting
        # for the same core, unlike the wall clock on a busy machine
        print(f"{img.shape[1]}x{img.shape[0]}: best {dt:.3f} s wall, {cpu:.3f} s CPU, of {len(runs)} "
              f"(wall: {' '.join(f'{r[0]:.2f}' for r in runs)}); stages of the best: {stages}")
        if args.save:
            cv2.imwrite(f"{args.save}_{side}.png", out)
        if args.profile == side:
            pr = cProfile.Profile()
            pr.enable()
            eng.run(img, slots, users)
            pr.disable()
            pstats.Stats(pr).sort_stats("tottime").print_stats(25)
    if len(best) == 2:
        a, b = sorted(best)
        print(f"ratio {b}/{a}: {best[b] / best[a]:.2f}x; load average now {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
