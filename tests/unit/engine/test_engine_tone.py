"""Tone transfer (engine.tone): the scene person's skin moved towards the user's tone before the swap.
Gains on arrays; the recolouring and the whole run on real images."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from engine.landmarks import FACE_OVAL
from engine.skin import sample_model
from engine.tone import ToneTransfer, exposure_scale, gain_lut, skin_tone

from .conftest import load_testdata as load

LUMA = np.array([0.114, 0.587, 0.299])
SCENE = "scenes/xverse_couple_mw_studio.jpg"
USER = "synthetic_faces/sfhq_pt1_00002342.jpg"  # a light-skinned user


def _luma(px: np.ndarray) -> np.ndarray:
    return px.astype(np.float64) @ LUMA


def test_gain_follows_the_user_tone_partly_and_leaves_small_differences_alone():
    tt = ToneTransfer()
    scene = np.array([170.0, 190.0, 235.0])  # light skin (BGR)
    # the same tone, or within the dead zone (a photo's exposure): nothing moves
    assert np.allclose(tt.gain(scene, scene), 1.0)
    assert np.allclose(tt.gain(scene * 1.04, scene), 1.0)
    # unknown tones: nothing moves
    assert np.allclose(tt.gain(None, scene), 1.0) and np.allclose(tt.gain(scene, None), 1.0)
    # a much darker user: every channel darkens, by less than the full ratio and more than nothing
    dark = np.array([80.0, 100.0, 150.0])
    g = tt.gain(dark, scene)
    full = dark / scene
    assert np.all(g < 0.9) and np.all(g > full - 1e-9)
    # ...and the redder/browner user's hue shows: blue darkens more than red
    assert g[0] < g[2]
    # a much lighter user brightens the scene, up to gain_hi
    assert np.all(tt.gain(scene, dark) > 1.2) and np.all(tt.gain(scene * 3, dark) <= tt.gain_hi + 1e-9)
    # a strongly tinted photo (orange light) moves the hue by a bounded amount only
    orange = np.array([60.0, 170.0, 250.0])
    h = np.log(tt.gain(orange, scene))
    assert np.ptp(h) <= 2 * tt.hue_max * tt.chroma + 1e-9
    # a black-and-white scene gets no colour from a user's tone, only lightness
    grey = np.array([180.0, 180.0, 180.0])
    assert np.ptp(tt.gain(dark, grey)) < 1e-9 and tt.gain(dark, grey)[0] < 0.9
    # strength 0 turns it off
    assert np.allclose(dataclasses.replace(tt, strength=0.0).gain(dark, scene), 1.0)


def test_skin_tone_measures_skin_not_hair_or_background(engine):
    img = load(USER)
    face = max(engine.inspect(img), key=lambda f: f.area)
    xy = engine.landmarks(img, face).xy[:468]
    tone = skin_tone(img, xy)
    assert tone is not None
    # darkening everything but the face's skin (hair, background, clothes) leaves the tone as it was
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    p = sample_model(lab, xy, face.eye_distance).probability(lab)
    other = (img.astype(np.float32) * np.where(p[..., None] > 0.5, 1.0, 0.3)).astype(np.uint8)
    assert np.abs(skin_tone(other, xy) - tone).max() < 4
    # darkening the skin darkens the tone by the same factor
    darker = (img.astype(np.float32) * 0.6).astype(np.uint8)
    ratio = _luma(skin_tone(darker, xy)) / _luma(tone)
    assert 0.55 < ratio < 0.65, ratio


@pytest.fixture(scope="module")
def couple(engine):
    scene = load(SCENE)
    faces = engine.match_slots(scene, engine.suggest_slots(scene))
    meshes = [engine.landmarks(scene, f).xy[:468].astype(np.float64) for f in faces]
    return scene, faces, meshes


def _oval(shape, xy) -> np.ndarray:
    m = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(m, [np.round(xy[FACE_OVAL]).astype(np.int32)], 255)
    return m > 0


def test_apply_recolours_this_persons_skin_only(engine, couple):
    scene, faces, (a, b) = couple
    tt = ToneTransfer()
    gain = np.array([0.6, 0.6, 0.6])
    out = tt.apply(scene.copy(), a, gain, [b], engine.segmenter.mask(scene))
    lab = cv2.cvtColor(scene, cv2.COLOR_BGR2LAB)
    iod = faces[0].eye_distance
    skin = sample_model(lab, a, iod).probability(lab)
    face_a = _oval(scene.shape, a) & (skin > 0.9)
    assert face_a.sum() > 2000
    r = _luma(out[face_a]) / np.maximum(_luma(scene[face_a]), 1)
    assert 0.55 < np.median(r) < 0.7, np.median(r)  # A's face skin got the gain
    # A's neck (below the chin, skin) too: the face meets a neck of the same tone
    chin = a[152]
    yy, xx = np.mgrid[0:scene.shape[0], 0:scene.shape[1]]
    neck = (skin > 0.9) & (yy > chin[1] + 0.3 * iod) & (yy < chin[1] + 1.5 * iod) & (np.abs(xx - chin[0]) < iod)
    assert neck.sum() > 300
    assert np.median(_luma(out[neck]) / np.maximum(_luma(scene[neck]), 1)) < 0.75
    diff = np.abs(out.astype(np.int16) - scene.astype(np.int16)).max(axis=2)
    # the partner's face is the partner's, the background and the white shirt are untouched
    assert diff[_oval(scene.shape, b)].mean() < 1.0
    assert diff[:40, :].max() == 0  # the studio wall above the heads
    not_skin = skin < 0.05
    assert diff[not_skin].mean() < 2.0, diff[not_skin].mean()


def test_skin_apart_from_the_face_is_left_alone(engine, couple):
    """A hand in front of the chest (skin joined to the face by none of neck, chest or arms) keeps the
    scene's tone: such hands are in other light, the skin model took one and not the other, and one
    recoloured hand next to an untouched one looked worse than both left alone. The neck still moves."""
    scene, faces, (a, b) = couple
    iod = faces[0].eye_distance
    lab = cv2.cvtColor(scene, cv2.COLOR_BGR2LAB)
    model = sample_model(lab, a, iod)
    skin_bgr = cv2.cvtColor(np.uint8([[model.mean]]), cv2.COLOR_LAB2BGR)[0, 0]
    # a 'hand' on A's white shirt: skin-coloured, 3.5 eye distances below the chin, apart from the neck
    hand = np.zeros(scene.shape[:2], np.uint8)
    centre = (int(a[152, 0]), int(a[152, 1] + 3.5 * iod))
    cv2.circle(hand, centre, int(0.45 * iod), 255, -1)
    assert scene[hand > 0].mean() > 200  # it lies on the white shirt
    with_hand = scene.copy()
    with_hand[hand > 0] = skin_bgr
    out = ToneTransfer().apply(with_hand.copy(), a, np.array([0.6, 0.6, 0.6]), [b])
    diff = np.abs(out.astype(np.int16) - with_hand.astype(np.int16)).max(axis=2)
    assert diff[hand > 0].mean() < 2.0, diff[hand > 0].mean()
    chin = a[152]
    yy, xx = np.mgrid[0:scene.shape[0], 0:scene.shape[1]]
    skin = model.probability(lab) > 0.9
    neck = skin & (yy > chin[1] + 0.3 * iod) & (yy < chin[1] + 1.5 * iod) & (np.abs(xx - chin[0]) < iod)
    assert np.median(diff[neck]) > 10


def test_brightening_never_clips_one_channel_before_the_others(engine, couple):
    scene, _, (a, b) = couple
    out = ToneTransfer().apply(scene.copy(), a, np.array([1.4, 1.4, 1.4]), [b])
    changed = np.abs(out.astype(np.int16) - scene.astype(np.int16)).max(axis=2) > 3
    assert changed.sum() > 2000
    # the soft knee: no changed pixel reaches 255 in one channel while another stays well below it
    o = out[changed].astype(np.int16)
    clipped = (o.max(axis=1) >= 255) & (o.min(axis=1) < 200)
    assert clipped.mean() < 0.001, clipped.mean()
    # every pixel is a blend of itself and its fully retoned value, never beyond it (a row or column the
    # gain reached twice would be; the full-size weights are built band by band)
    full = cv2.LUT(scene, gain_lut(np.array([1.4, 1.4, 1.4]))).astype(np.int16)
    assert np.all(out.astype(np.int16) <= full + 1) and np.all(out.astype(np.int16) >= scene.astype(np.int16) - 1)
    # ...and the order of the channels (the hue) is kept
    s = scene[changed].astype(np.int16)
    assert (np.sign(o[:, 2] - o[:, 0]) == np.sign(s[:, 2] - s[:, 0])).mean() > 0.98


def _darker_skinned(engine, img: np.ndarray, factor: float) -> np.ndarray:
    """The same photo with the person's skin darker (albedo: a per-pixel gain on skin only)."""
    face = max(engine.inspect(img), key=lambda f: f.area)
    xy = engine.landmarks(img, face).xy[:468]
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
    p = sample_model(lab, xy, face.eye_distance).probability(lab)
    # the person's skin only: the face and the neck below it (not a skin-coloured wall behind them)
    person = _oval(img.shape, xy).astype(np.uint8)
    jaw = xy[FACE_OVAL][xy[FACE_OVAL][:, 1] > xy[1, 1]]
    x0, x1 = int(jaw[:, 0].min()), int(jaw[:, 0].max())
    person[int(xy[1, 1]):int(xy[152, 1] + 1.5 * face.eye_distance), x0:x1] = 1
    p = p * cv2.GaussianBlur(person.astype(np.float32), (0, 0), 3.0)
    g = 1.0 - (1.0 - np.array([factor * 0.9, factor, factor * 1.1])) * p[..., None]
    return np.clip(img.astype(np.float32) * g, 0, 255).astype(np.uint8)


def test_a_darker_skinned_user_gets_a_darker_face_and_neck(engine, couple):
    """The same user photo with darker skin: the result's face and the scene person's neck come out
    darker (with tone transfer off the neck stays the scene's and the face is matched to it)."""
    scene, faces, (a, b) = couple
    user = load(USER)
    dark_user = _darker_skinned(engine, user, 0.55)
    partner = [load("faces/grace_hopper.jpg")]
    iod = faces[0].eye_distance
    lab = cv2.cvtColor(scene, cv2.COLOR_BGR2LAB)
    skin = sample_model(lab, a, iod).probability(lab) > 0.9
    chin = a[152]
    yy, xx = np.mgrid[0:scene.shape[0], 0:scene.shape[1]]
    neck = skin & (yy > chin[1] + 0.3 * iod) & (yy < chin[1] + 1.5 * iod) & (np.abs(xx - chin[0]) < iod)
    cheeks = np.zeros(scene.shape[:2], bool)
    for i in (50, 280, 205, 425):
        cv2.circle(cheeks.view(np.uint8), tuple(int(v) for v in a[i]), int(0.12 * iod), 1, -1)

    def run(photo, tone):
        old = engine.tone
        engine.tone = tone
        try:
            return engine.run(scene, [_slot(faces[0], scene), _slot(faces[1], scene)], [[photo], partner])
        finally:
            engine.tone = old

    light = run(user, ToneTransfer())
    dark = run(dark_user, ToneTransfer())
    off = run(dark_user, ToneTransfer(strength=0.0))
    face_ratio = np.median(_luma(dark[cheeks])) / np.median(_luma(light[cheeks]))
    assert face_ratio < 0.8, face_ratio
    neck_dark = np.median(_luma(dark[neck]))
    assert neck_dark < 0.95 * np.median(_luma(scene[neck])) and neck_dark < 0.9 * np.median(_luma(light[neck]))
    # without tone transfer the neck is the scene's and the dark user's face is pulled to its tone
    assert np.abs(off[neck].astype(np.int16) - scene[neck].astype(np.int16)).max() <= 1
    assert np.median(_luma(off[cheeks])) > np.median(_luma(dark[cheeks])) * 1.05


def _slot(face, img):
    h, w = img.shape[:2]
    x, y, bw, bh = face.box
    return (x / w, y / h, bw / w, bh / h)


def test_a_dim_selfie_is_not_taken_for_darker_skin(engine, couple):
    """The whole photo underexposed (a dim room) moves the scene's tone far less than the same person
    with darker skin in a normally exposed photo."""
    scene, faces, _ = couple
    user = load(USER)
    slots = [_slot(faces[0], scene)]

    def luma_gain(photo):
        engine.run(scene, slots, [[photo]])
        return float(np.asarray(engine.last_report["slots"][0]["tone_gain"]) @ LUMA)

    normal = luma_gain(user)
    dim = luma_gain((user.astype(np.float32) * 0.45).astype(np.uint8))
    darker = luma_gain(_darker_skinned(engine, user, 0.45))
    assert darker < 0.75 * normal, (darker, normal)
    assert dim > 0.85 * normal, (dim, normal)
    assert exposure_scale(user, engine.landmarks(user, max(engine.inspect(user), key=lambda f: f.area)).xy) < 1.1
