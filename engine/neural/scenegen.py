"""SD 1.5 (+ LoRA) scene generation and the two-face validation a scene must pass before an admin sees it.

Offline only: checkpoints are local diffusers folders or single ``.safetensors``/``.ckpt`` files (the
latter need a local diffusers ``config`` folder: ``from_single_file`` would otherwise fetch one)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.types import Face, ModelError

log = logging.getLogger(__name__)


def load_pipeline(checkpoint: str | os.PathLike, *, loras: list[str | os.PathLike] | None = None,
                  lora_scale: float = 1.0, config: str | os.PathLike | None = None, device: str | None = None):
    """A ``StableDiffusionPipeline`` from a local folder or single file, with LoRA weights loaded and fused
    at ``lora_scale``. Runs on CUDA in fp16 when available, else CPU fp32. No safety checker: scenes are
    reviewed by an admin before publication."""
    import torch
    from diffusers import StableDiffusionPipeline

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.float16 if device == "cuda" else torch.float32
    path = Path(checkpoint)
    common = {"dtype": dtype, "safety_checker": None, "requires_safety_checker": False}
    try:
        if path.is_dir():
            pipe = StableDiffusionPipeline.from_pretrained(str(path), local_files_only=True, **common)
        elif path.is_file():
            kw = {"config": str(config)} if config else {}
            pipe = StableDiffusionPipeline.from_single_file(str(path), local_files_only=True, **kw, **common)
        else:
            raise ModelError(message=f"no checkpoint at {path}", detail={"path": str(path)})
        names = []
        for i, lora in enumerate(loras or []):
            lp = Path(lora)
            name = f"lora{i}"
            if lp.is_file():
                pipe.load_lora_weights(str(lp.parent), weight_name=lp.name, adapter_name=name)
            else:
                pipe.load_lora_weights(str(lp), adapter_name=name)
            names.append(name)
        if names:
            pipe.set_adapters(names, adapter_weights=[float(lora_scale)] * len(names))
    except ModelError:
        raise
    except Exception as exc:  # noqa: BLE001 - diffusers/peft raise many types
        raise ModelError(message=f"cannot load diffusion pipeline {path}: {exc}", detail={"path": str(path)}) from None
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def generate(pipe, *, prompt: str, negative_prompt: str = "", seed: int = 0, steps: int = 30,
             guidance: float = 7.5, width: int = 512, height: int = 512) -> np.ndarray:
    """One image as BGR uint8, reproducible for a given seed."""
    import torch

    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    out = pipe(prompt=prompt, negative_prompt=negative_prompt or None, num_inference_steps=int(steps),
               guidance_scale=float(guidance), width=int(width), height=int(height), generator=gen,
               output_type="np")
    img = np.asarray(out.images[0], np.float32)
    return np.clip(img[..., ::-1] * 255.0 + 0.5, 0, 255).astype(np.uint8)


@dataclass
class Verdict:
    ok: bool
    reason: str
    slots: list[tuple[float, float, float, float]] = field(default_factory=list)
    faces: list[Face] = field(default_factory=list)


def _overlap(a: np.ndarray, b: np.ndarray, margin: float) -> bool:
    """Boxes (x, y, w, h) overlap once each is grown by ``margin`` of its size."""
    def grow(x):
        return x[0] - margin * x[2], x[1] - margin * x[3], x[0] + (1 + margin) * x[2], x[1] + (1 + margin) * x[3]
    ax0, ay0, ax1, ay1 = grow(a)
    bx0, by0, bx1, by1 = grow(b)
    return min(ax1, bx1) > max(ax0, bx0) and min(ay1, by1) > max(ay0, by0)


def validate_scene(img: np.ndarray, detector, *, min_face_px: int = 96, min_face_frac: float = 0.0,
                   margin: float = 0.0) -> Verdict:
    """Exactly two faces, each at least ``min_face_px`` (and ``min_face_frac`` of the shorter image side)
    on its shorter box side, not overlapping. Slots come back left to right as normalised (x, y, w, h)."""
    h, w = img.shape[:2]
    faces = sorted(detector.detect(img), key=lambda f: float(f.center[0]))
    if len(faces) != 2:
        return Verdict(False, f"found {len(faces)} faces, need exactly 2", faces=faces)
    need = max(float(min_face_px), float(min_face_frac) * min(h, w))
    for i, f in enumerate(faces):
        side = float(min(f.box[2], f.box[3]))
        if side < need:
            return Verdict(False, f"face {i + 1} is {side:.0f}px, need at least {need:.0f}px", faces=faces)
    if _overlap(faces[0].box, faces[1].box, margin):
        return Verdict(False, "the two faces overlap", faces=faces)
    slots = []
    for f in faces:
        x, y, bw, bh = (float(v) for v in f.box)
        x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(w), x + bw), min(float(h), y + bh)
        slots.append((x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h))
    return Verdict(True, "ok", slots=slots, faces=faces)
