"""NeuralEngine end to end on tiny models, and engine selection by settings + registry."""

import numpy as np

from engine import Engine
from engine.neural.engine import NeuralEngine, paste_back
from engine.neural.onnx_models import align_crop
from engine.neural.select import build_engine
from engine.registry import check
from gpu_worker import tasks

from . import tiny


def _engine(models_dir, registry):
    eng, name, reason = build_engine("neural", models_dir, registry)
    assert name == "neural", reason
    return eng


def test_neural_engine_run_end_to_end(tiny_models, registry, scene_and_people):
    scene, slots, people = scene_and_people
    eng = _engine(tiny_models, registry)
    assert isinstance(eng, NeuralEngine) and eng.restorer is not None
    eng.keep_toned = True
    stages = []
    out = eng.run(scene, slots, people, progress=lambda s, p: stages.append((s, p)))
    assert out.shape == scene.shape and out.dtype == np.uint8
    rep = eng.last_report
    assert rep["swap_runs"] == 1  # both faces in one batched run
    assert [r["restored"] for r in rep["slots"]] == [True, True]
    assert stages[0][0] == "detect" and stages[-1] == ("finish", 100)
    assert [p for _, p in stages] == sorted(p for _, p in stages)
    # pasted back where the slot faces are, nowhere else (into the scene with its people's skin toned)
    toned = rep["toned"]
    changed = np.abs(out.astype(int) - toned.astype(int)).max(axis=2) > 0
    masks = sum(r["mask"] for r in rep["slots"])
    assert changed.any() and not changed[masks == 0].any()
    h, w = scene.shape[:2]
    for r, (sx, sy, sw, sh) in zip(rep["slots"], slots, strict=True):
        ys, xs = np.nonzero(r["mask"] > 0.5)
        cx, cy = xs.mean() / w, ys.mean() / h
        assert sx < cx < sx + sw and sy < cy < sy + sh * 1.3
        assert (changed & (r["mask"] > 0.5)).mean() > 0.2 * (r["mask"] > 0.5).mean()


def test_paste_back_puts_the_crop_where_the_face_is(scene_and_people):
    scene, slots, _ = scene_and_people
    from engine import get_engine

    face = get_engine(diagnostics=False).match_slots(scene, slots)[0]
    crop, M = align_crop(scene, face, 128)
    white = np.full_like(crop, 255)
    out, mask = paste_back(scene, white, M, face)
    inside = mask > 0.99
    assert inside.sum() > 500 and (out[inside] >= 250).all()
    assert np.array_equal(out[mask == 0], scene[mask == 0])
    fx, fy, fw, fh = face.box
    ys, xs = np.nonzero(inside)
    assert fx - 0.1 * fw < xs.mean() < fx + 1.1 * fw and fy < ys.mean() < fy + fh


def test_engine_without_restorer_and_sface_identity(tmp_path, scene_and_people):
    entries = tiny.neural_models(tmp_path, restorer=False)
    del entries["embedder"]
    r = tiny.write_registry(tmp_path / "r.toml", tmp_path, entries, required=("swapper",))
    eng = _engine(tmp_path, r)
    assert eng.restorer is None and eng.id_embedder is eng.embedder  # SFace 128-d
    scene, slots, people = scene_and_people
    out = eng.run(scene, slots, people)
    assert out.shape == scene.shape and eng.last_report["slots"][0]["restored"] is False


def test_tasks_engine_picks_neural_when_registry_verifies(settings, tiny_models, registry):
    settings.ENGINE, settings.MODELS_DIR, settings.MODELS_REGISTRY = "auto", str(tiny_models), str(registry)
    eng = tasks.engine()
    assert isinstance(eng, NeuralEngine) and tasks.engine() is eng


def test_tasks_engine_falls_back_to_classical_on_bad_checksum(settings, tmp_path, caplog):
    entries = tiny.neural_models(tmp_path, restorer=False)
    entries["embedder"]["sha256"] = "f" * 64
    r = tiny.write_registry(tmp_path / "r.toml", tmp_path, entries)
    settings.ENGINE, settings.MODELS_DIR, settings.MODELS_REGISTRY = "neural", str(tmp_path), str(r)
    with caplog.at_level("WARNING"):
        eng = tasks.engine()
    assert type(eng) is Engine
    assert "embedder: checksum" in caplog.text and "classical" in caplog.text


def test_tasks_engine_falls_back_when_weights_fail_to_load(settings, tmp_path, caplog):
    entries = tiny.neural_models(tmp_path, restorer=False)
    (tmp_path / "swapper" / "tiny_swapper.onnx").write_bytes(b"corrupt")
    r = tiny.write_registry(tmp_path / "r.toml", tmp_path, entries)  # pinned to the corrupt file
    assert check(tmp_path, r).neural_ready
    settings.ENGINE, settings.MODELS_DIR, settings.MODELS_REGISTRY = "auto", str(tmp_path), str(r)
    with caplog.at_level("WARNING"):
        assert type(tasks.engine()) is Engine
    assert "failed to load" in caplog.text


def test_tasks_engine_classical_setting_ignores_registry(settings, tiny_models, registry):
    settings.ENGINE, settings.MODELS_DIR, settings.MODELS_REGISTRY = "classical", str(tiny_models), str(registry)
    assert type(tasks.engine()) is Engine


def test_neural_engine_tones_the_scene_people_before_the_swap(tiny_models, registry, scene_and_people):
    """The swapper sees the scene with each person's skin moved towards their user's tone (as the classical
    engine does): a much darker user darkens their scene person's neck; tone transfer off leaves it."""
    import cv2

    scene, slots, people = scene_and_people
    eng = _engine(tiny_models, registry)
    eng.keep_toned = True
    user = people[0][0]
    dark = (user.astype(np.float32) * np.array([0.45, 0.5, 0.55])).astype(np.uint8)
    dark[:8] = 255  # a normally exposed photo (bright areas): darker skin, not a dim room
    eng.run(scene, slots, [[dark], people[1]])
    toned = eng.last_report["toned"]
    faces = eng.match_slots(scene, slots)
    meshes = [eng.tone_landmarker.landmarks(scene, f).xy[:468] for f in faces]
    mine = eng.tone.region(scene.shape[:2], meshes[0], [meshes[1]]) > 0.5  # this user's scene person
    luma = cv2.cvtColor(scene, cv2.COLOR_BGR2GRAY).astype(float)
    luma_t = cv2.cvtColor(toned, cv2.COLOR_BGR2GRAY).astype(float)
    changed = (np.abs(luma_t - luma) > 3) & mine
    assert changed.sum() > 2000 and (luma_t[changed] < luma[changed]).mean() > 0.95  # darker skin
    import dataclasses

    eng.tone = dataclasses.replace(eng.tone, strength=0.0)
    eng.run(scene, slots, [[dark], people[1]])
    assert np.array_equal(eng.last_report["toned"], scene)
