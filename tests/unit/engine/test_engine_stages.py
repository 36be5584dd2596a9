"""Per-stage tests on numpy arrays: align, mask, colour, blend, identity."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from engine import NoFaceError
from engine.align import similarity_transform, transform_points, valid_region, warp_to
from engine.blend import seamless_blend
from engine.color import lab_mean_distance, lab_transfer
from engine.identity import build_identity, cosine
from engine.mask import face_mask

from .conftest import PEOPLE, load_portrait


def test_similarity_transform_recovers_known_transform():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 200, (5, 2)).astype(np.float32)
    a, s, t = math.radians(17), 1.7, np.array([40.0, -12.0])
    R = s * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    dst = src @ R.T + t
    M = similarity_transform(src, dst)
    assert M.shape == (2, 3)
    assert np.allclose(M[:, :2], R, atol=1e-6) and np.allclose(M[:, 2], t, atol=1e-4)
    assert np.abs(transform_points(M, src) - dst).max() < 1e-3


def test_warp_to_puts_source_landmarks_on_target(engine):
    src = load_portrait("biden.jpg")
    sf = engine.inspect(src)[0]
    tgt_img = load_portrait("grace_hopper.jpg")
    tf = engine.inspect(tgt_img)[0]
    warped, M = warp_to(src, sf, tf, tgt_img.shape)
    assert warped.shape == tgt_img.shape
    # The warped face is detected where the target face is.
    wf = engine.inspect(warped)
    best = min(wf, key=lambda f: np.linalg.norm(f.center - tf.center))
    assert np.abs(best.kps - tf.kps).max() < 0.15 * tf.eye_distance
    # BORDER_REFLECT: no black wedges even where the source doesn't reach
    valid = valid_region(src.shape, M, tgt_img.shape)
    assert 0 < valid.mean() < 1  # part of the output lies outside the source photo
    outside = warped[valid == 0]
    assert (outside.max(axis=1) == 0).mean() < 0.01  # ...and is filled, not black


@pytest.mark.parametrize("name", PEOPLE)
def test_face_mask_covers_features_but_not_hair(engine, name):
    img = load_portrait(name)
    f = engine.inspect(img)[0]
    m = face_mask(img.shape, f)
    assert m.dtype == np.float32 and m.shape == img.shape[:2] and 0 <= m.min() and m.max() <= 1
    for x, y in f.kps:
        assert m[int(round(y)), int(round(x))] > 0.5
    x, y, w, h = f.box
    area2x = (2 * w) * (2 * h)
    covered = float((m > 0.5).sum())
    assert 0.10 * area2x < covered < 0.60 * area2x
    # nothing above the brows' band: the top of the face box + 2x expansion is mostly empty
    top = int(max(0, y - 0.5 * h)), int(max(0, y))
    assert m[top[0]:top[1], int(x):int(x + w)].mean() < 0.05 if top[1] > top[0] else True
    # feathered: there are intermediate values
    assert ((m > 0.05) & (m < 0.95)).sum() > 0.05 * covered


def test_lab_transfer_reduces_masked_mean_distance(engine):
    a = load_portrait("grace_hopper.jpg")
    b = load_portrait("astronaut.png")
    fa, fb = engine.inspect(a)[0], engine.inspect(b)[0]
    warped, _ = warp_to(a, fa, fb, b.shape)
    m = face_mask(b.shape, fb)
    before = lab_mean_distance(warped, b, m)
    out = lab_transfer(warped, b, m)
    after = lab_mean_distance(out, b, m)
    assert out.shape == warped.shape and out.dtype == np.uint8
    assert after < 0.25 * before and after < 3.0, (before, after)
    # texture kept: the transferred image still correlates with the source inside the mask
    sel = m > 0.5
    g0 = cv2.cvtColor(warped, cv2.COLOR_BGR2GRAY)[sel].astype(float)
    g1 = cv2.cvtColor(out, cv2.COLOR_BGR2GRAY)[sel].astype(float)
    assert np.corrcoef(g0, g1)[0, 1] > 0.95


def test_seamless_blend_only_touches_mask_and_survives_edges():
    rng = np.random.default_rng(0)
    scene = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
    fg = np.full_like(scene, 90)
    m = np.zeros((200, 300), np.float32)
    cv2.circle(m, (150, 100), 40, 1.0, -1)
    m = cv2.GaussianBlur(m, (0, 0), 4)
    out = seamless_blend(fg, scene, m)
    assert out.shape == scene.shape
    assert np.array_equal(out[m == 0], scene[m == 0])
    assert np.abs(out[95:105, 145:155].astype(int) - scene[95:105, 145:155]).mean() > 10
    # mask touching / crossing the image border must not raise
    for cx, cy in [(0, 0), (299, 100), (150, 199), (5, 195)]:
        m2 = np.zeros((200, 300), np.float32)
        cv2.circle(m2, (cx, cy), 60, 1.0, -1)
        out2 = seamless_blend(fg, scene, cv2.GaussianBlur(m2, (0, 0), 3))
        assert out2.shape == scene.shape
    # empty mask -> unchanged
    assert np.array_equal(seamless_blend(fg, scene, np.zeros((200, 300), np.float32)), scene)


def test_identity_embeddings_separate_people(engine):
    idents = {n: build_identity([load_portrait(n)], engine.detector, engine.embedder) for n in PEOPLE}
    for _n, ident in idents.items():
        assert ident.embedding.shape == (128,) and ident.embedding.dtype == np.float32
        assert abs(np.linalg.norm(ident.embedding) - 1) < 1e-4
        assert len(ident.images) == len(ident.faces) == len(ident.crops) == 1
        assert ident.crops[0].shape == (112, 112, 3)
    same = build_identity([load_portrait("obama2.jpg"), load_portrait("obama3.jpg")], engine.detector, engine.embedder)
    assert cosine(same.embedding, idents["obama.jpg"].embedding) > 0.6
    for a in PEOPLE:
        for b in PEOPLE:
            if a < b:
                assert cosine(idents[a].embedding, idents[b].embedding) < 0.35


def test_build_identity_reports_photo_without_face(engine):
    blank = np.full((300, 300, 3), 200, np.uint8)
    with pytest.raises(NoFaceError) as ei:
        build_identity([load_portrait("biden.jpg"), blank], engine.detector, engine.embedder)
    assert ei.value.code == "no_face" and ei.value.detail == {"index": 1}
