"""The one place that works around the gfpgan/basicsr import breakage.

* basicsr 1.4.2 imports ``torchvision.transforms.functional_tensor`` (removed in torchvision 0.17):
  :func:`patch_torchvision` aliases it to ``torchvision.transforms.functional`` in ``sys.modules``.
* ``gfpgan/__init__`` imports all of basicsr (cv2, torchvision, the data pipeline) and the CPU tier has
  no torchvision at all (no PyPI build imports beside torch 2.13.0 CPU). The architecture class
  ``GFPGANv1Clean`` itself needs only torch, so without torchvision :func:`gfpgan_v1_clean` loads the two
  arch files by path, with two tiny stand-ins for the basicsr names they import (``ARCH_REGISTRY`` and
  ``default_init_weights``, which only initialises weights that the checkpoint then overwrites).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import types
from pathlib import Path

log = logging.getLogger(__name__)

_CLASS = None


def patch_torchvision() -> bool:
    """Alias the removed ``functional_tensor`` module; False when torchvision is not importable."""
    try:
        import torchvision.transforms.functional as tvf
    except Exception:  # noqa: BLE001 - not installed, or a build that does not match torch
        return False
    sys.modules.setdefault("torchvision.transforms.functional_tensor", tvf)
    return True


def _default_init_weights(module_list, scale=1, bias_fill=0, **kwargs):
    """Kaiming init scaled by ``scale`` (basicsr.archs.arch_util's signature; init only)."""
    import torch
    from torch import nn

    mods = module_list if isinstance(module_list, list) else [module_list]
    with torch.no_grad():
        for module in mods:
            for m in module.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.kaiming_normal_(m.weight, **kwargs)
                    m.weight.mul_(scale)
                    if m.bias is not None:
                        m.bias.fill_(bias_fill)


class _Registry:
    def __init__(self):
        self.items: dict[str, object] = {}

    def register(self, obj=None):
        def deco(o):
            self.items[o.__name__] = o
            return o
        return deco if obj is None else deco(obj)


def _load_by_path() -> type:
    spec = importlib.util.find_spec("gfpgan")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("gfpgan is not installed (pip install --no-deps -r requirements/neural-nodeps.txt)")
    archs = Path(list(spec.submodule_search_locations)[0]) / "archs"
    registry = types.ModuleType("basicsr.utils.registry")
    registry.ARCH_REGISTRY = _Registry()
    arch_util = types.ModuleType("basicsr.archs.arch_util")
    arch_util.default_init_weights = _default_init_weights
    stand_ins = {"basicsr.utils.registry": registry, "basicsr.archs.arch_util": arch_util}
    saved = {k: sys.modules.get(k) for k in stand_ins}
    pkg = "_lls_gfpgan_archs"
    pkg_mod = types.ModuleType(pkg)
    pkg_mod.__path__ = [str(archs)]
    sys.modules[pkg] = pkg_mod
    try:
        sys.modules.update(stand_ins)
        mods = {}
        for name in ("stylegan2_clean_arch", "gfpganv1_clean_arch"):
            full = f"{pkg}.{name}"
            mspec = importlib.util.spec_from_file_location(full, archs / f"{name}.py")
            mod = importlib.util.module_from_spec(mspec)
            sys.modules[full] = mod  # the relative "from .stylegan2_clean_arch import" finds it here
            mspec.loader.exec_module(mod)
            mods[name] = mod
    finally:
        for k, v in saved.items():  # never leave the stand-ins where real basicsr users would find them
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return mods["gfpganv1_clean_arch"].GFPGANv1Clean


def gfpgan_v1_clean() -> type:
    """The ``GFPGANv1Clean`` class: the package import when torchvision works (GPU tier), else the arch
    files loaded by path. Raises ImportError when gfpgan is not installed."""
    global _CLASS
    if _CLASS is None:
        if patch_torchvision():
            try:
                _CLASS = importlib.import_module("gfpgan.archs.gfpganv1_clean_arch").GFPGANv1Clean
            except Exception as exc:  # noqa: BLE001 - fall back to the arch files
                log.warning("gfpgan package import failed (%s); loading the arch files directly", exc)
        if _CLASS is None:
            _CLASS = _load_by_path()
    return _CLASS
