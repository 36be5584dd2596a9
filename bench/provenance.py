"""Benchmark of the invisible watermark (engine/provenance/watermark.py): is the result id still
read after JPEG q75, a 50 % downscale and a 10 % crop, and is the mark invisible (PSNR)?

    .venv/bin/python bench/provenance.py [--faces DIR] [--no-write]

Test set: every ordered pair of the distinct test portraits composed into a scene (1280×896, styles
cycling film/picnic/night; every other one with the Standard visible label first, as stored), plus
each portrait on its own at its native size. Each image gets a fresh random result id. Writes its
section of BENCHMARKS.md between the provenance markers. No Django needed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from bench._markdown import write_section  # noqa: E402
from engine import compose_scene, decode_image, encode_jpeg, provenance  # noqa: E402
from engine.scenes import STYLES  # noqa: E402

PEOPLE = ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "astronaut.png", "obama2.jpg", "obama3.jpg"]


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(encode_jpeg(img, quality=quality), np.uint8), cv2.IMREAD_COLOR)


def half(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)


def crop10(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Keep 90 % of the width and 90 % of the height at a random offset."""
    h, w = img.shape[:2]
    ch, cw = int(h * 0.9), int(w * 0.9)
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return img[y : y + ch, x : x + cw]


def build_set(faces: Path) -> list[tuple[str, np.ndarray]]:
    load = {n: decode_image((faces / n).read_bytes()) for n in PEOPLE}
    images = []
    for i, (a, b) in enumerate(itertools.permutations(PEOPLE, 2)):
        style = STYLES[i % len(STYLES)]
        scene = compose_scene(load[a], load[b], style, seed=i)
        if i % 2 == 0:
            scene = provenance.add_visible_mark(scene, provenance.visible_text("ko" if i % 4 == 0 else "en"))
        images.append((f"scene {a}+{b} ({style})", scene))
    for name, img in load.items():
        images.append((f"portrait {name}", img))
    return images


def main() -> int:
    default_faces = os.environ.get("LLS_TESTDATA_FACES", str(ROOT.parent / "shared" / "testdata" / "faces"))
    ap = argparse.ArgumentParser()
    ap.add_argument("--faces", default=default_faces)
    ap.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = ap.parse_args()

    rng = np.random.default_rng(2026)
    images = build_set(Path(args.faces))
    attacks = {
        "none (stored JPEG q92)": lambda im: jpeg(im, 92),
        "JPEG re-encode, quality 75": lambda im: jpeg(im, 75),
        "50 % downscale (INTER_AREA)": half,
        "10 % crop (90 % × 90 %, random offset)": lambda im: crop10(im, rng),
        "all three: crop, then downscale, then JPEG 75": lambda im: jpeg(half(crop10(im, rng)), 75),
        "unmarked image (false positives)": None,
    }
    hits = {name: 0 for name in attacks}
    psnrs, embed_t, read_t = [], [], []
    sizes = set()
    for label, img in images:
        payload = provenance.payload_for(uuid.uuid4())
        t = time.perf_counter()
        marked = provenance.embed_mark(img, payload)
        embed_t.append(time.perf_counter() - t)
        psnrs.append(provenance.psnr(img, marked))
        sizes.add(f"{img.shape[1]}×{img.shape[0]}")
        for name, attack in attacks.items():
            probe = img if attack is None else attack(marked)
            t = time.perf_counter()
            reading = provenance.read_mark(probe)
            read_t.append(time.perf_counter() - t)
            ok = reading.found if attack is None else reading.payload == payload
            hits[name] += int(ok)
            if (attack is None) == ok:
                print(f"  {'false positive' if attack is None else 'missed'}: {label} / {name}")
    n = len(images)
    lines = [
        "## Invisible watermark: robustness and invisibility",
        "",
        f"Command: `.venv/bin/python bench/provenance.py` — machine: {platform.machine()}, "
        f"{os.cpu_count()} cores. Test set: {n} images — {n - len(PEOPLE)} composed couple scenes "
        f"(1280×896, every other one with the Standard visible label) and {len(PEOPLE)} test portraits at "
        f"native size ({', '.join(sorted(sizes - {'1280×896'}))}). Payload: 64-bit result id + CRC-16, "
        f"DCT-QIM in 32×32 luma blocks (step {provenance.QIM_STEP:g}); a fresh random id per image.",
        "",
        "| after | result id recovered |",
        "|---|---|",
    ]
    for name in attacks:
        share = hits[name] / n
        if attacks[name] is None:
            lines.append(f"| {name} | {hits[name]}/{n} wrongly reported a mark |")
        else:
            lines.append(f"| {name} | {hits[name]}/{n} ({share:.0%}) |")
    lines += [
        "",
        f"Invisibility: PSNR of marked vs. original pixels — min {min(psnrs):.1f} dB, "
        f"median {statistics.median(psnrs):.1f} dB (target ≥ 40 dB).",
        f"Time: embed median {statistics.median(embed_t) * 1000:.0f} ms, blind read median "
        f"{statistics.median(read_t) * 1000:.0f} ms (max {max(read_t) * 1000:.0f} ms, when every rescale "
        "factor is tried).",
    ]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("provenance", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
