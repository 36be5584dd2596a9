"""GFPGAN restoration of swapped faces (GFPGANv1Clean architecture, v1.3/v1.4 checkpoints).

``GFPGANer`` is not used: its constructor downloads facexlib's detector weights. The face is aligned
with our own 5 keypoints to GFPGAN's FFHQ template, restored, blended with ``weight`` and pasted back
by the caller with the same mask as the swap.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from engine.types import ModelError

from .compat import gfpgan_v1_clean

log = logging.getLogger(__name__)

# GFPGAN's (facexlib FaceRestoreHelper) 5-point template for 512x512, image-left eye first.
FFHQ_512 = np.array([[192.98138, 239.94708], [318.90277, 240.1936], [256.63416, 314.01935],
                     [201.26117, 371.41043], [313.08905, 371.15118]], np.float32)

ARCH_DEFAULTS = {"num_style_feat": 512, "channel_multiplier": 2, "narrow": 1.0, "num_mlp": 8, "different_w": True,
                 "input_is_latent": True, "sft_half": True}


def ffhq_template(size: int) -> np.ndarray:
    return FFHQ_512 * (float(size) / 512.0)


def torch_device(prefer_gpu: bool = True) -> str:
    import torch

    return "cuda" if prefer_gpu and torch.cuda.is_available() else "cpu"


class GfpganRestorer:
    """``restore_crops`` takes aligned BGR uint8 crops of ``size`` px and returns them restored and
    blended: ``weight * restored + (1 - weight) * input``."""

    def __init__(self, path: str | os.PathLike, *, size: int = 512, weight: float = 0.5, prefer_gpu: bool = True,
                 **arch):
        self.path = str(path)
        self.size = int(size)
        self.weight = float(np.clip(weight, 0.0, 1.0))
        self.device = torch_device(prefer_gpu)
        params = {**ARCH_DEFAULTS, **{k: v for k, v in arch.items() if k in ARCH_DEFAULTS}}
        try:
            cls = gfpgan_v1_clean()
            net = cls(out_size=self.size, decoder_load_path=None, fix_decoder=False, **params)
            state = _load_state(self.path)
            net.load_state_dict(state, strict=True)
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - bad file, wrong arch params, missing gfpgan
            raise ModelError(message=f"cannot load GFPGAN {self.path}: {exc}", detail={"path": self.path}) from None
        self.half = self.device == "cuda"
        self.net = net.eval().to(self.device)
        if self.half:
            self.net = self.net.half()

    def template(self) -> np.ndarray:
        return ffhq_template(self.size)

    def restore_crops(self, crops_bgr: list[np.ndarray]) -> list[np.ndarray]:
        import torch

        if not crops_bgr:
            return []
        x = np.stack(crops_bgr).astype(np.float32)[..., ::-1] / 127.5 - 1.0  # BGR uint8 -> RGB [-1,1]
        t = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).to(self.device)
        if self.half:
            t = t.half()
        with torch.inference_mode():
            y, _ = self.net(t, return_rgb=False, randomize_noise=False)
            y = y.float().clamp(-1, 1).cpu().numpy()
        y = y.transpose(0, 2, 3, 1)[..., ::-1]
        restored = (y + 1.0) * 127.5
        src = np.stack(crops_bgr).astype(np.float32)
        out = self.weight * restored + (1.0 - self.weight) * src
        return list(np.clip(out + 0.5, 0, 255).astype(np.uint8))


def _load_state(path: str) -> dict:
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file

        return load_file(path)
    import torch

    obj = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("params_ema", "params", "state_dict"):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            return obj[key]
    return obj
