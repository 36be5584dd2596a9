"""Shared fixtures for the engine tests (no Django: run with ``-p no:django``)."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from engine import Engine, compose_scene, decode_image

PORTRAITS = ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "grace_hopper.jpg", "astronaut.png", "32bit.png"]
PEOPLE = ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "astronaut.png"]  # distinct identities


def faces_dir() -> Path:
    """Public-domain test portraits; ``LLS_TESTDATA_FACES`` overrides ``<repo>/../shared/testdata/faces``."""
    env = os.environ.get("LLS_TESTDATA_FACES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "faces"


def portrait_path(name: str) -> Path:
    p = faces_dir() / name
    if not p.is_file():
        pytest.skip(f"test portrait {p} not available (set LLS_TESTDATA_FACES)")
    return p


@cache
def _load(name: str) -> np.ndarray:
    return decode_image(portrait_path(name).read_bytes())


TESTDATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata"


@cache
def _read_testdata(rel: str) -> np.ndarray:
    p = TESTDATA / rel
    if not p.is_file():
        pytest.skip(f"test image {p} not available")
    return decode_image(p.read_bytes())


def load_testdata(rel: str) -> np.ndarray:
    """Decoded BGR image from ``../shared/testdata/<rel>`` (cached; a copy per call)."""
    return _read_testdata(rel).copy()


def load_portrait(name: str) -> np.ndarray:
    """Decoded BGR portrait (cached; returns a copy so tests can't corrupt each other)."""
    return _load(name).copy()


@pytest.fixture(scope="session")
def engine() -> Engine:
    eng = Engine()
    eng.keep_toned = True  # last_report["toned"]: the scene after tone transfer (what the paste goes into)
    return eng


def tone_region(engine: Engine, scene: np.ndarray, targets) -> np.ndarray:
    """Where tone transfer may touch ``scene``: the union of its people's head/neck regions."""
    meshes = [engine.landmarks(scene, t).xy[:468] for t in targets]
    h, w = scene.shape[:2]
    return np.max([engine.tone.region((h, w), m, [o for j, o in enumerate(meshes) if j != i])
                   for i, m in enumerate(meshes)], axis=0)


_SCENES: dict = {}


def scene_of(engine: Engine, left: str, right: str, style: str = "film") -> np.ndarray:
    key = (left, right, style)
    if key not in _SCENES:
        _SCENES[key] = compose_scene(load_portrait(left), load_portrait(right), style, detector=engine.detector)
    return _SCENES[key].copy()


# tests/conftest.py declares autouse fixtures that need Django/Redis (flush the queue, private
# media under ``settings``). The engine is Django-free and these tests must run with
# ``-p no:django``, so override them by name with no-ops for this directory. If a new autouse
# fixture appears there, add a no-op twin here.


@pytest.fixture(autouse=True)
def _clean_redis():
    yield


@pytest.fixture(autouse=True)
def _private_media():
    yield


@pytest.fixture(autouse=True)
def _default_language():
    yield
