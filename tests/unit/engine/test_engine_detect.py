"""YuNet detection on real portraits and composed scenes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine import compose_scene
from engine.detect import YuNetDetector
from engine.models import YUNET_FILE, bundled_models_dir
from engine.types import Face, ModelError

from .conftest import PORTRAITS, load_portrait, scene_of


@pytest.mark.parametrize("name", PORTRAITS)
def test_each_portrait_has_exactly_one_face(engine, name):
    img = load_portrait(name)
    faces = engine.inspect(img)
    assert len(faces) == 1
    f = faces[0]
    assert isinstance(f, Face) and f.box.shape == (4,) and f.kps.shape == (5, 2) and 0.6 <= f.score <= 1.0
    # landmarks lie inside the (slightly grown) box, right eye left of left eye
    x, y, w, h = f.box
    assert np.all(f.kps[:, 0] > x - 0.1 * w) and np.all(f.kps[:, 0] < x + 1.1 * w)
    assert np.all(f.kps[:, 1] > y - 0.1 * h) and np.all(f.kps[:, 1] < y + 1.1 * h)
    assert f.kps[0, 0] < f.kps[1, 0]
    assert f.to_row().shape == (15,) and f.eye_distance > 10


def test_large_image_is_downscaled_and_mapped_back(engine):
    img = load_portrait("obama3.jpg")  # 1434x2333 > 1280: detected on a downscaled copy
    big = engine.inspect(img)[0]
    half = cv2.resize(img, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    small = engine.inspect(half)[0]
    tol = 0.12 * small.eye_distance  # landmark jitter between resolutions, not a mapping error
    assert np.abs(big.kps / 2.0 - small.kps).max() < tol
    assert np.abs(big.box / 2.0 - small.box).max() < 2 * tol


def test_blank_image_has_no_face(engine):
    assert engine.inspect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert engine.inspect(np.zeros((4, 4, 3), np.uint8)) == []


@pytest.mark.parametrize("left,right,style", [("obama.jpg", "biden.jpg", "film"),
                                              ("grace_hopper.jpg", "astronaut.png", "picnic"),
                                              ("biden.jpg", "grace_hopper.jpg", "night")])
def test_composed_scene_has_two_faces_one_per_half(engine, left, right, style):
    scene = scene_of(engine, left, right, style)
    assert scene.shape == (896, 1280, 3) and scene.dtype == np.uint8
    faces = engine.inspect(scene)
    assert len(faces) == 2
    xs = sorted(float(f.center[0]) for f in faces)
    assert xs[0] < 640 < xs[1]
    ys = [float(f.center[1]) for f in faces]
    assert abs(ys[0] - ys[1]) < 0.1 * 896  # faces roughly at the same height
    slots = engine.suggest_slots(scene)
    assert len(slots) == 2 and slots[0][0] < 0.5 < slots[1][0]
    assert all(0 <= v <= 1 for s in slots for v in s)


def test_compose_scene_is_deterministic_and_sized(engine):
    a, b = load_portrait("obama.jpg"), load_portrait("astronaut.png")
    s1 = compose_scene(a, b, "night", size=(960, 640), detector=engine.detector)
    s2 = compose_scene(a, b, "night", size=(960, 640), detector=engine.detector)
    assert s1.shape == (640, 960, 3) and np.array_equal(s1, s2)
    with pytest.raises(ValueError):
        compose_scene(a, b, "disco", detector=engine.detector)


def test_model_paths_are_overridable(tmp_path):
    with pytest.raises(ModelError) as ei:
        YuNetDetector(model_path=tmp_path / "missing.onnx")
    assert ei.value.code == "model_missing"
    (tmp_path / YUNET_FILE).symlink_to(bundled_models_dir() / YUNET_FILE)
    det = YuNetDetector(models_dir=tmp_path)
    assert det.model_path == str(tmp_path / YUNET_FILE)
    assert len(det.detect(load_portrait("biden.jpg"))) == 1
    # models_dir without the file falls back to the bundled copy
    assert YuNetDetector(models_dir=tmp_path / "empty").model_path.startswith(str(bundled_models_dir()))


def test_largest_face_of_a_big_photo_is_found_on_the_coarse_copy_where_the_full_search_finds_it(engine):
    img = load_portrait("obama3.jpg")[0:1100, 300:1250]  # a selfie-like crop, 950x1100: the face is
    det = engine.detector  # large in a 640 px copy
    calls = []
    real = det._net

    class Recording:  # the real network, with the input sizes it was asked to search at written down
        def setInputSize(self, size):
            calls.append(tuple(size))
            return real.setInputSize(size)

        def detect(self, img):
            return real.detect(img)

    det._net = Recording()
    try:
        coarse = det.largest(img)
    finally:
        det._net = real
    full = max(det.detect(img), key=lambda f: f.area)
    assert coarse is not None and calls and max(calls[0]) <= 640 and len(calls) == 1  # no second, full search
    assert np.abs(coarse.kps - full.kps).max() < 0.12 * full.eye_distance
    assert np.abs(coarse.box - full.box).max() < 0.25 * full.eye_distance


def test_largest_face_falls_back_to_the_full_search_when_the_face_is_small_in_the_coarse_copy(engine):
    face = load_portrait("obama3.jpg")
    # the portrait at a quarter of its size in the corner of a wide empty photo: small in a 640 px copy
    small = cv2.resize(face, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    canvas = np.full((1800, 3200, 3), 200, np.uint8)
    canvas[100:100 + small.shape[0], 150:150 + small.shape[1]] = small
    found = engine.detector.largest(canvas, coarse_side=640, coarse_iod=40.0)
    full = max(engine.detector.detect(canvas), key=lambda f: f.area)
    assert found is not None
    assert np.abs(found.kps - full.kps).max() < 1e-3  # the full search's own face, not the coarse one
    assert engine.detector.largest(np.full((900, 1600, 3), 128, np.uint8)) is None
