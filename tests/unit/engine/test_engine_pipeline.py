"""Engine end to end: slots, progress, and the identity test of the swap itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import engine as eng_pkg
from engine import Engine, NoFaceError, SceneError, get_engine
from engine.identity import cosine

from .conftest import load_portrait, scene_of, tone_region

CASES = [
    # (scene left, scene right, style, user for slot A, user for slot B)
    ("obama.jpg", "biden.jpg", "film", "grace_hopper.jpg", "astronaut.png"),
    ("grace_hopper.jpg", "astronaut.png", "picnic", "biden.jpg", "obama.jpg"),
    ("biden.jpg", "grace_hopper.jpg", "night", "astronaut.png", "obama_partial_face.jpg"),
]


def _nearest(faces, target):
    return min(faces, key=lambda f: float(np.linalg.norm(f.center - target.center)))


@pytest.mark.parametrize("left,right,style,user_a,user_b", CASES)
def test_swap_changes_identity_to_user(engine, left, right, style, user_a, user_b):
    scene = scene_of(engine, left, right, style)
    slots = engine.suggest_slots(scene)
    targets = engine.match_slots(scene, slots)
    users = [load_portrait(user_a), load_portrait(user_b)]
    events = []
    out = engine.run(scene, slots, [[users[0]], [users[1]]], progress=lambda s, p: events.append((s, p)))

    assert out.shape == scene.shape and out.dtype == np.uint8

    # progress: known stages, pct non-decreasing, ends at finish/100
    assert {s for s, _ in events} <= {"detect", "swap", "finish"}
    pcts = [p for _, p in events]
    assert pcts == sorted(pcts) and events[-1] == ("finish", 100) and events[0][0] == "detect"

    # identity: re-detect the faces in the result and compare SFace embeddings
    found = engine.inspect(out)
    assert len(found) == 2
    union = np.zeros(scene.shape[:2], np.float32)
    for slot, (target, user) in enumerate(zip(targets, users, strict=True)):
        res_face = _nearest(found, target)
        assert np.linalg.norm(res_face.center - target.center) < 0.3 * target.eye_distance
        e_res = engine.embedder.embed(out, res_face)
        e_user = engine.embedder.embed(user, engine.inspect(user)[0])
        e_scene = engine.embedder.embed(scene, target)
        c_user, c_scene = cosine(e_res, e_user), cosine(e_res, e_scene)
        print(f"{style} slot {slot}: cos(result,user)={c_user:.3f} cos(result,scene)={c_scene:.3f}")
        assert c_user > c_scene, (slot, c_user, c_scene)
        assert c_user > 0.35, (slot, c_user)
        union = np.maximum(union, engine.last_report["slots"][slot]["mask"])

    # no black holes: pixels that turned (near) black must be rare
    newly_black = (out.max(axis=2) < 12) & (scene.max(axis=2) >= 12)
    assert newly_black.mean() < 0.001

    # outside both face masks the photo is what the paste went into (the scene, its people's skin
    # moved towards the users' tones), and beyond the people's head/neck regions it is the scene itself
    outside = union == 0
    toned = engine.last_report["toned"]
    assert np.abs(out.astype(np.int16) - toned.astype(np.int16)).max(axis=2)[outside].max() <= 1
    diff = np.abs(out.astype(np.int16) - scene.astype(np.int16)).max(axis=2)
    far = outside & (tone_region(engine, scene, targets) == 0)
    assert far.mean() > 0.1  # (collage scenes: big faces, the people fill most of the frame)
    assert diff[far].max() <= 1 and diff[far].mean() < 0.05
    # ...and inside the face region it did change
    assert diff[union > 0.5].mean() > 8

    # soft edges: no hard step along the mask boundary (compare gradients to the scene's)
    band = (union > 0.1) & (union < 0.9)
    gy, gx = np.gradient(out.astype(np.float32).mean(axis=2))
    sy, sx = np.gradient(scene.astype(np.float32).mean(axis=2))
    assert np.hypot(gx, gy)[band].mean() < 2.5 * np.hypot(sx, sy)[band].mean() + 4

    diag = engine.last_report["slots"]
    assert [d["slot"] for d in diag] == [0, 1]
    assert all(d["cos_user"] > d["cos_scene"] for d in diag)


def test_multiple_user_photos_pick_a_usable_one(engine):
    scene = scene_of(engine, "obama.jpg", "biden.jpg", "film")
    slots = engine.suggest_slots(scene)
    photos = [load_portrait("obama_partial_face.jpg"), load_portrait("obama2.jpg"), load_portrait("obama3.jpg")]
    out = engine.run(scene, slots[1:], [photos])
    # the partially cropped photo is never the one chosen
    assert engine.last_report["slots"][0]["source_index"] != 0
    target = engine.match_slots(scene, slots[1:])[0]
    res = _nearest(engine.inspect(out), target)
    ident = engine.build_identity(photos)
    biden = engine.embedder.embed(scene, target)
    e = engine.embedder.embed(out, res)
    assert cosine(e, ident.embedding) > cosine(e, biden)


def test_match_slots_assigns_by_overlap(engine):
    scene = scene_of(engine, "obama.jpg", "biden.jpg", "film")
    left, right = engine.suggest_slots(scene)
    # reversed order and slightly shifted boxes still map to the right faces
    shifted = [(right[0] + 0.02, right[1] - 0.01, right[2], right[3]),
               (left[0] - 0.02, left[1], left[2] * 1.2, left[3])]
    faces = engine.match_slots(scene, shifted)
    assert faces[0].center[0] > 640 > faces[1].center[0]


def test_match_slots_errors(engine):
    one = load_portrait("grace_hopper.jpg")
    slots = [(0.1, 0.1, 0.3, 0.4), (0.6, 0.1, 0.3, 0.4)]
    with pytest.raises(SceneError) as ei:
        engine.match_slots(one, slots)
    assert ei.value.code == "scene_faces"

    scene = scene_of(engine, "obama.jpg", "biden.jpg", "film")
    left, _ = engine.suggest_slots(scene)
    with pytest.raises(SceneError) as ei:  # two slots on the same face
        engine.match_slots(scene, [left, left])
    assert ei.value.code == "scene_faces" and ei.value.detail["reason"] == "shared"
    with pytest.raises(SceneError) as ei:  # slot over empty background
        engine.match_slots(scene, [left, (0.4, 0.75, 0.2, 0.2)])
    assert ei.value.detail == {"slot": 1, "reason": "no_face", "faces": 2}


def test_run_reports_user_photo_without_face(engine):
    scene = scene_of(engine, "obama.jpg", "biden.jpg", "film")
    slots = engine.suggest_slots(scene)
    blank = np.full((400, 300, 3), 180, np.uint8)
    with pytest.raises(NoFaceError) as ei:
        engine.run(scene, slots, [[load_portrait("astronaut.png")], [load_portrait("biden.jpg"), blank]])
    assert ei.value.code == "no_face" and ei.value.detail == {"index": 1, "slot": 1}
    with pytest.raises(SceneError):
        engine.run(scene, slots, [[load_portrait("astronaut.png")]])


def test_get_engine_is_cached_and_public_api():
    assert get_engine() is get_engine()
    assert isinstance(get_engine(), Engine)
    for name in ["Engine", "get_engine", "decode_image", "encode_jpeg", "Face", "Identity", "EngineError",
                 "ImageDecodeError", "NoFaceError", "SceneError", "compose_scene"]:
        assert hasattr(eng_pkg, name), name


def test_engine_does_not_import_django():
    import subprocess
    import sys

    code = ("import sys, engine as e; e.get_engine(); "
            "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)")
    root = Path(__file__).resolve().parents[3]
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=root).returncode == 0


def test_swap_face_cut_by_scene_border(engine):
    """Target face touching the scene's left edge: no crash, no black, size kept."""
    scene = load_portrait("obama_partial_face.jpg")
    slots = engine.suggest_slots(scene)
    assert len(slots) == 1 and slots[0][0] == 0.0
    out = engine.run(scene, slots, [[load_portrait("biden.jpg")]])
    assert out.shape == scene.shape
    assert ((out.max(axis=2) < 12) & (scene.max(axis=2) >= 12)).mean() < 0.001
    rep = engine.last_report["slots"][0]
    # recognised as the user by SFace's own threshold, and far from the unchanged scene face (cos 1.0).
    # (Not "closer to the user than to the scene": the paste now takes the scene's skin tone at its
    # edges so it meets the neck and ears without a colour step, which on a half face pulls SFace
    # towards the scene person.)
    from engine.identity import SAME_PERSON_COS

    assert rep["cos_user"] >= SAME_PERSON_COS and rep["cos_scene"] < 0.7, rep


def test_swap_small_faces_and_grayscale_scene(engine):
    """A small (downscaled) group scene in grayscale still swaps cleanly."""
    import cv2

    scene = scene_of(engine, "grace_hopper.jpg", "astronaut.png", "picnic")
    small = cv2.resize(scene, (480, 336), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    slots = engine.suggest_slots(gray)
    assert len(slots) == 2
    out = engine.run(gray, slots, [[load_portrait("obama.jpg")], [load_portrait("biden.jpg")]])
    assert out.shape == gray.shape
    # a grey scene stays grey: colour transfer matched the (neutral) scene chroma
    lab = cv2.cvtColor(out, cv2.COLOR_BGR2LAB).astype(np.int16)
    assert np.abs(lab[..., 1:] - 128).max() < 12
    for rep in engine.last_report["slots"]:
        assert rep["cos_user"] > rep["cos_scene"]
