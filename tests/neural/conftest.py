from pathlib import Path

import cv2
import pytest

from engine import compose_scene, get_engine
from engine.neural import select

from . import tiny


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> Path:
    """MODELS_DIR with a tiny ONNX swapper, ArcFace-style embedder and GFPGANv1Clean."""
    d = tmp_path_factory.mktemp("models")
    entries = tiny.neural_models(d)
    tiny.write_registry(d / "models.toml", d, entries)
    return d


@pytest.fixture(scope="session")
def registry(tiny_models) -> Path:
    return tiny_models / "models.toml"


@pytest.fixture(scope="session")
def scene_and_people(faces):
    """A two-face scene (obama | biden) and one photo per person to swap in."""
    eng = get_engine(diagnostics=False)
    left, right = cv2.imread(str(faces / "obama.jpg")), cv2.imread(str(faces / "biden.jpg"))
    scene = compose_scene(left, right, style="film", size=(640, 448), detector=eng.detector)
    slots = eng.suggest_slots(scene)
    a, b = cv2.imread(str(faces / "grace_hopper.jpg")), cv2.imread(str(faces / "obama2.jpg"))
    return scene, slots, [[a], [b]]


@pytest.fixture(autouse=True)
def _fresh_engine_choice():
    select.clear_cache()
    yield
    select.clear_cache()
