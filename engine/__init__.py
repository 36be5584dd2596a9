"""LoveLoveShot face-swap engine (classical: YuNet + SFace + OpenCV). Django-free."""

from .io import decode_image, encode_jpeg, resize_max
from .pipeline import Engine, get_engine
from .scenes import compose_scene
from .types import EngineError, Face, Identity, ImageDecodeError, ModelError, NoFaceError, SceneError

__all__ = [
    "Engine",
    "get_engine",
    "decode_image",
    "encode_jpeg",
    "resize_max",
    "Face",
    "Identity",
    "EngineError",
    "ImageDecodeError",
    "NoFaceError",
    "SceneError",
    "ModelError",
    "compose_scene",
]
