"""Smoke benchmark for the classical engine: compose a demo scene, swap two users, time it.

    .venv/bin/python bench/engine_smoke.py [--faces DIR] [--out result.jpg] [--repeat 5]

Prints per-stage progress, SFace diagnostics and timings. No Django needed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine import Engine, compose_scene, decode_image, encode_jpeg  # noqa: E402


def main() -> int:
    default_faces = os.environ.get("LLS_TESTDATA_FACES", str(ROOT.parent / "shared" / "testdata" / "faces"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", default=default_faces)
    ap.add_argument("--scene", nargs=2, default=["obama.jpg", "biden.jpg"])
    ap.add_argument("--users", nargs=2, default=["grace_hopper.jpg", "astronaut.png"])
    ap.add_argument("--style", default="film")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    load = lambda n: decode_image((Path(args.faces) / n).read_bytes())  # noqa: E731
    t = time.perf_counter()
    eng = Engine()
    print(f"engine load      {time.perf_counter() - t:.3f}s")
    t = time.perf_counter()
    scene = compose_scene(load(args.scene[0]), load(args.scene[1]), args.style, detector=eng.detector)
    print(f"compose_scene    {time.perf_counter() - t:.3f}s  {scene.shape[1]}x{scene.shape[0]}")
    slots = eng.suggest_slots(scene)
    users = [[load(args.users[0])], [load(args.users[1])]]
    out = eng.run(scene, slots, users, progress=lambda s, p: print(f"  progress {s:7s} {p:3d}%"))
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        out = eng.run(scene, slots, users)
        times.append(time.perf_counter() - t)
    times.sort()
    print(f"Engine.run       median {times[len(times) // 2]:.3f}s  min {times[0]:.3f}s  (n={len(times)})")
    for rep in eng.last_report["slots"]:
        print(f"  slot {rep['slot']}: cos(result,user)={rep['cos_user']:.3f} cos(result,scene)={rep['cos_scene']:.3f}")
    if args.out:
        Path(args.out).write_bytes(encode_jpeg(out))
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
