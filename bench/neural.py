"""Neural-tier timings. No GPU and no real weights exist on this machine, so this times the *tiny random
models* the tests build (real adapters, real onnxruntime/torch/diffusers code paths) on CPU, plus
optionally one full-size GFPGANv1Clean forward with random weights. These numbers say nothing about
image quality or GPU speed; they are the cost of the code path. Writes the ``neural`` section of
BENCHMARKS.md.

    .venv/bin/python bench/neural.py [--repeat 5] [--full-gfpgan] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from engine import compose_scene, get_engine  # noqa: E402
from engine.neural import scenegen  # noqa: E402
from engine.neural.onnx_models import OnnxEmbedder, OnnxSwapper  # noqa: E402
from engine.neural.restore import GfpganRestorer  # noqa: E402
from engine.neural.select import build_engine  # noqa: E402
from tests.neural import tiny  # noqa: E402


def timed(fn, repeat: int) -> float:
    fn()  # warm-up
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1000.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--full-gfpgan", action="store_true", help="also time GFPGANv1Clean(512, cm=2), random weights")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--faces", default=os.environ.get("LLS_TESTDATA_FACES",
                                                      str(ROOT.parent / "shared" / "testdata" / "faces")))
    args = ap.parse_args()
    import torch

    torch.manual_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as td:
        d = Path(td)
        entries = tiny.neural_models(d, swap_size=128)
        reg = tiny.write_registry(d / "models.toml", d, entries)
        rng = np.random.default_rng(0)
        for size in (128, 256):
            sw = OnnxSwapper(tiny.onnx_swapper(d / f"s{size}.onnx", size=size))
            crops = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(2)]
            ids = [v / np.linalg.norm(v) for v in rng.normal(size=(2, 128)).astype(np.float32)]
            rows.append((f"ONNX swapper, tiny conv graph, batch 2 @ {size}px (incl. pre/post-processing)",
                         timed(lambda sw=sw, crops=crops, ids=ids: sw.swap_crops(crops, ids), args.repeat)))
        em = OnnxEmbedder(d / entries["embedder"]["path"])
        crops112 = [rng.integers(0, 256, (112, 112, 3), dtype=np.uint8) for _ in range(2)]
        rows.append(("ONNX embedder, tiny, batch 2 @ 112px", timed(lambda: em.embed_crops(crops112), args.repeat)))
        rs = GfpganRestorer(d / entries["restorer"]["path"], size=32, **entries["restorer"]["options"])
        c32 = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(2)]
        rows.append(("GFPGANv1Clean tiny (out 32, 0.19 M params), batch 2", timed(lambda: rs.restore_crops(c32),
                                                                                   args.repeat)))
        eng, name, _ = build_engine("neural", d, reg)
        assert name == "neural"
        det = get_engine(diagnostics=False)
        f = Path(args.faces)
        scene = compose_scene(cv2.imread(str(f / "obama.jpg")), cv2.imread(str(f / "biden.jpg")),
                              size=(1280, 896), detector=det.detector)
        slots = det.suggest_slots(scene)
        people = [[cv2.imread(str(f / "grace_hopper.jpg"))], [cv2.imread(str(f / "astronaut.png"))]]
        ms = timed(lambda: eng.run(scene, slots, people), args.repeat)
        tm = eng.last_report["timings"]
        stages = ", ".join(f"{k} {v * 1000:.0f}" for k, v in tm.items())
        rows.append(("NeuralEngine.run, 1280x896 scene, 2 slots, tiny swapper+embedder+GFPGAN "
                     f"(last run, ms: {stages})", ms))
        sd, lora = d / "sd", d / "lora"
        tiny.sd_pipeline(sd, lora)
        pipe = scenegen.load_pipeline(sd, loras=[lora / "pytorch_lora_weights.safetensors"])
        rows.append(("Tiny SD pipeline + LoRA, 2 DDIM steps @ 64x64, 1 image",
                     timed(lambda: scenegen.generate(pipe, prompt="a couple on a beach", steps=2, width=64,
                                                     height=64), args.repeat)))
        if args.full_gfpgan:
            from engine.neural.compat import gfpgan_v1_clean

            net = gfpgan_v1_clean()(out_size=512, channel_multiplier=2, fix_decoder=False, different_w=True,
                                    input_is_latent=True, sft_half=True).eval()
            x = torch.rand(1, 3, 512, 512) * 2 - 1

            def fwd():
                with torch.inference_mode():
                    net(x, return_rgb=False, randomize_noise=False)
            rows.append(("GFPGANv1Clean full size (512, cm 2, 86 M params, random weights), batch 1",
                         timed(fwd, max(1, args.repeat // 2))))
    body = [
        "## Neural tier (CPU, tiny random models — no GPU figures)",
        "",
        "**No GPU was available for this task, and no real weights exist on this machine**, so there are no GPU",
        "figures and no quality numbers for the neural tier. What follows are CPU timings of the *tiny random*",
        "models the tests build, through the real adapters (onnxruntime CPU provider, torch CPU, diffusers):",
        "they measure the code path's overhead, not what operator weights will cost on a GPU.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}, "
        f"torch {torch.__version__} (CPU), median of {args.repeat} after one warm-up. `bench/neural.py`.",
        "",
        "| what (CPU / tiny) | ms |",
        "|---|---:|",
    ] + [f"| {what} | {ms:.1f} |" for what, ms in rows] + [
        "",
        "GPU figures to record once a CUDA host and the operator's weights exist: swapper batch 2 @ 128/256 px,",
        "GFPGAN v1.4 batch 2 @ 512 px (fp16), SD 1.5 512x512 30 steps, VRAM peak (registry `vram_mb`).",
    ]
    text = "\n".join(body)
    print(text)
    if not args.no_write:
        from bench._markdown import write_section

        write_section("neural", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
