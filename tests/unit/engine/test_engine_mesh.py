"""Dense path stage by stage on real portraits: landmarks, pose, warp, mask, colour, texture,
expression handling, source choice, fallback. Thresholds are on quality, never on time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.color import lab_mean_distance
from engine.identity import identity_outliers
from engine.landmarks import (
    FACE_OVAL,
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE,
    N_LANDMARKS,
    N_MESH,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
    Landmarks,
    head_pose,
    mesh_triangles,
)
from engine.mesh_swap import MeshSwapper, fill_poly, mask_polygon
from engine.skin import erode, poly_mask, sample_model
from engine.texture import detail_energy, match_grain, match_sharpness, noise_sigma

from .conftest import PEOPLE, PORTRAITS, load_portrait, load_testdata, scene_of


def _face_lm(engine, name):
    img = load_portrait(name)
    face = max(engine.inspect(img), key=lambda f: f.area)
    lm = engine.landmarks(img, face)
    assert lm is not None, name
    return img, face, lm


@pytest.mark.parametrize("name", PORTRAITS)
def test_landmarks_are_sane_on_every_portrait(engine, name):
    img, face, lm = _face_lm(engine, name)
    assert lm.pts.shape == (N_LANDMARKS, 3) and np.isfinite(lm.pts).all()
    # the mesh's eye centres sit on YuNet's eye keypoints, within 15% of the eye distance
    assert np.linalg.norm(lm.eye_centers - face.kps[:2], axis=1).max() < 0.15 * face.eye_distance
    # and the mesh lies on the face: nose tip near YuNet's, oval around the box
    assert np.linalg.norm(lm.xy[1] - face.kps[2]) < 0.25 * face.eye_distance
    x, y, w, h = face.box
    c = lm.xy[:N_MESH].mean(0)
    assert x < c[0] < x + w and y < c[1] < y + h
    assert 0.8 < lm.iod / face.eye_distance < 1.2
    yaw, pitch, roll = lm.pose()
    assert abs(yaw) < 25 and abs(pitch) < 25 and abs(roll) < 20  # all test portraits face the camera
    assert min(lm.eyes_open()) > 0.15  # everyone has their eyes open


def test_yaw_sign_agrees_with_the_nose_offset(engine):
    for name in ("obama2.jpg", "obama3.jpg", "biden.jpg"):  # the three visibly turned heads
        _, face, lm = _face_lm(engine, name)
        assert np.sign(lm.pose()[0]) == np.sign(face.yaw_proxy), name


def test_head_pose_of_a_rotated_mesh():
    import math

    lm = Landmarks(np.zeros((N_LANDMARKS, 3), np.float32))
    rng = np.random.default_rng(0)
    pts = rng.normal(0, 1, (N_LANDMARKS, 3))
    # a symmetric "face": ear points left/right, forehead up, chin down
    pts[234], pts[454], pts[10], pts[152] = [-1, 0, 0], [1, 0, 0], [0, -1.2, 0], [0, 1.2, 0]
    for deg in (-60, -20, 0, 30, 55):
        a = math.radians(deg)
        R = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
        lm.pts = (pts @ R.T).astype(np.float32)
        yaw, pitch, roll = head_pose(lm.pts)
        assert abs(yaw - deg) < 1.0 and abs(pitch) < 1.0 and abs(roll) < 1.0


def test_user_shape_is_turned_to_the_scene_pose_in_3d(engine):
    """A frontal user's shape on a scene face turned 35 degrees: turned in depth, the user's mesh
    lands on the turned face; a flat (2D) similarity squashes it sideways."""
    import math

    _, _, lm = _face_lm(engine, "obama.jpg")
    src3 = lm.pts[:N_MESH].astype(np.float64)
    c = src3.mean(0)
    a = math.radians(35)
    R = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    tgt3 = (src3 - c) @ R.T * 0.8 + c + np.array([40.0, 10.0, 0.0])
    iod = float(np.linalg.norm(tgt3[RIGHT_EYE, :2].mean(0) - tgt3[LEFT_EYE, :2].mean(0)))
    err = {}
    for flag in (True, False):
        sw = MeshSwapper(scene_shape=0.0, pose3d=flag)
        dst = sw.destination(tgt3, src3, False, False)
        inner = [i for i in range(N_MESH) if i not in FACE_OVAL]  # the outline always follows the scene
        err[flag] = float(np.linalg.norm(dst[inner] - tgt3[inner, :2], axis=1).mean() / iod)
    assert err[True] < 0.01  # the same shape, turned: on the scene face's points
    assert err[False] > 3 * err[True] and err[False] > 0.03


def test_mesh_triangles_cover_the_face():
    tris = mesh_triangles()
    assert tris.shape[1] == 3 and 800 < len(tris) < 1000
    assert tris.min() == 0 and tris.max() == N_MESH - 1


def test_mask_follows_the_oval_without_hair(engine):
    img, face, lm = _face_lm(engine, "obama.jpg")
    poly = mask_polygon(lm.xy)
    m = fill_poly(img.shape[:2], poly) > 127
    oval = fill_poly(img.shape[:2], lm.xy[FACE_OVAL]) > 127
    # eyes, nose, mouth are in; the mask lies inside the oval and covers most of it
    for i in (33, 133, 263, 362, 1, 13, 14, 61, 291, 152 - 0):
        if i != 152:
            x, y = lm.xy[i]
            assert m[int(y), int(x)], i
    assert (m & ~oval).sum() < 0.02 * m.sum()
    assert 0.6 * oval.sum() < m.sum() < 0.95 * oval.sum()
    # no hair: the band between the oval top and the mask top is left out
    top_oval = lm.xy[10]
    x, y = int(top_oval[0]), int(top_oval[1])
    assert not m[y + 2:y + int(0.15 * lm.iod), x - 3:x + 3].any()


@pytest.fixture(scope="module")
def film_swap(engine):
    scene = scene_of(engine, "obama.jpg", "biden.jpg", "film")
    targets = engine.match_slots(scene, engine.suggest_slots(scene))
    tlm = engine.landmarks(scene, targets[1])  # Biden's face in the scene
    user, _, ulm = _face_lm(engine, "grace_hopper.jpg")
    return scene, targets[1], tlm, user, ulm


def test_mesh_warp_keeps_the_scene_pose_and_expression(engine, film_swap):
    scene, target, tlm, user, ulm = film_swap
    # geometry only: the hair fill and the features' own colour (her glasses) change texture
    sw = MeshSwapper(scene_shape=1.0, skin_cut=False, feature_colour=False)
    out, info = sw.swap_detailed(scene, tlm, user, ulm)
    res = engine.landmarks(out, target)
    assert res is not None
    err = np.linalg.norm(res.xy[:N_MESH] - tlm.xy[:N_MESH], axis=1).mean() / tlm.iod
    assert err < 0.03, err
    # the face really changed and the outside did not
    diff = np.abs(out.astype(np.int16) - scene.astype(np.int16)).max(axis=2)
    assert diff[info["mask"] > 0.5].mean() > 8
    assert diff[info["mask"] == 0].max() == 0


def test_default_swap_is_sharp_and_colour_matched(engine, film_swap):
    scene, target, tlm, user, ulm = film_swap
    out, info = MeshSwapper().swap_detailed(scene, tlm, user, ulm)
    m = (info["mask"] > 0.9).astype(np.float32)
    assert m.sum() > 0.5 * tlm.iod ** 2  # a real face-sized region, not a sliver
    # scene resolution kept: the pasted face has at least ~60% of the scene face's fine detail
    assert detail_energy(out, m) > 0.6 * detail_energy(scene, m)
    # colour: the swapped skin's mean LAB is much closer to the scene's than the raw user's was
    raw, _ = MeshSwapper(color_transfer=False, texture_match=False).swap_detailed(scene, tlm, user, ulm)
    before = lab_mean_distance(raw, scene, m)
    after = lab_mean_distance(out, scene, m)
    assert after < 0.5 * before and after < 6.0, (before, after)


def test_open_scene_mouth_is_kept_when_the_user_mouth_is_closed(engine):
    scene = scene_of(engine, "obama.jpg", "biden.jpg", "film")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[0]  # Obama, smiling with teeth
    tlm = engine.landmarks(scene, target)
    user, _, ulm = _face_lm(engine, "biden.jpg")  # mouth closed
    assert tlm.mouth_open() > 0.12 > ulm.mouth_open()
    out, info = MeshSwapper().swap_detailed(scene, tlm, user, ulm)
    assert info["keep_mouth"]
    inner = fill_poly(scene.shape[:2], tlm.xy[INNER_LIPS]) > 127
    inner = cv2.erode(inner.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
    d = np.abs(out.astype(np.int16) - scene.astype(np.int16)).max(axis=2)
    assert d[inner].mean() < 6  # the scene's teeth, not stretched lips
    # ...while the rest of the face changed
    assert d[info["mask"] > 0.9].mean() > 8
    # same expression on both sides: the user's own mouth is used
    _, info2 = MeshSwapper().swap_detailed(scene, tlm, *(_face_lm(engine, "astronaut.png")[::2]))
    assert not info2["keep_mouth"]


def test_sharpness_and_grain_matching():
    rng = np.random.default_rng(3)
    base = cv2.resize(load_portrait("grace_hopper.jpg"), (256, 300), interpolation=cv2.INTER_AREA)
    m = np.zeros(base.shape[:2], np.float32)
    m[60:240, 60:200] = 1
    soft = cv2.GaussianBlur(base, (0, 0), 1.6)
    out, sigma = match_sharpness(base, soft, m)
    assert 0.8 < sigma < 2.6
    assert abs(detail_energy(out, m) - detail_energy(soft, m)) < 0.2 * detail_energy(soft, m)
    same, s0 = match_sharpness(soft, base, m)  # never sharpens
    assert s0 == 0.0 and same is soft
    grainy = np.clip(soft.astype(np.float32) + rng.normal(0, 6, soft.shape[:2])[..., None], 0, 255).astype(np.uint8)
    out2, added = match_grain(soft, grainy, m)
    assert added > 2
    assert abs(noise_sigma(out2, m) - noise_sigma(grainy, m)) < 0.35 * noise_sigma(grainy, m)
    # monochrome grain keeps a grey image grey
    g = cv2.cvtColor(cv2.cvtColor(soft, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    og, _ = match_grain(g, grainy, m)
    assert np.abs(og[..., 0].astype(int) - og[..., 2]).max() == 0


def test_pose_closest_user_photo_is_chosen(engine):
    photos = [load_portrait("obama2.jpg"), load_portrait("obama3.jpg")]  # yaw about -13 and +12
    ident = engine.build_identity(photos)
    assert ident.poses[0][0] < -5 < 5 < ident.poses[1][0]
    scene = load_portrait("biden.jpg")  # Biden turns the same way as obama3
    target = engine.inspect(scene)[0]
    tlm = engine.landmarks(scene, target)
    assert tlm.pose()[0] > 5
    assert engine.choose_source(target, tlm, ident, scene.shape) == 1
    flipped = cv2.flip(scene, 1)
    ft = engine.inspect(flipped)[0]
    assert engine.choose_source(ft, engine.landmarks(flipped, ft), ident, flipped.shape) == 0


def test_frontal_user_photo_wins_when_the_pose_difference_is_small(engine):
    """Premium: a frontal photo carries the most identity; a turned one is used only when the scene's
    head pose is far from the frontal one (above)."""
    photos = [load_portrait("obama.jpg"), load_portrait("obama3.jpg")]  # frontal; yaw +12, pitch -13
    ident = engine.build_identity(photos)
    scene = load_portrait("biden.jpg")  # yaw about +11: closer to obama3, but only ~10 degrees from frontal
    target = engine.inspect(scene)[0]
    assert engine.choose_source(target, engine.landmarks(scene, target), ident, scene.shape) == 0


def test_outlier_photo_is_left_out(engine):
    photos = [load_portrait(n) for n in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")]
    ident = engine.build_identity(photos)
    assert ident.outliers == [3]
    assert len(ident.embeddings) == 4
    vecs = [engine.build_identity([load_portrait(n)]).embedding for n in PEOPLE]
    assert identity_outliers(vecs[:2]) == [0, 1]  # two different people: no telling which is wrong
    assert identity_outliers(vecs) == [0, 1, 2, 3]  # nobody in the majority
    assert identity_outliers(ident.embeddings[:3]) == []


def test_mesh_failure_falls_back_to_five_points(engine, monkeypatch):
    scene = scene_of(engine, "grace_hopper.jpg", "astronaut.png", "picnic")
    slots = engine.suggest_slots(scene)
    calls = {"n": 0}
    real = engine.landmarker.landmarks

    def flaky(img, face):
        calls["n"] += 1
        return None if calls["n"] % 2 else real(img, face)

    monkeypatch.setattr(engine.landmarker, "landmarks", flaky)
    out = engine.run(scene, slots, [[load_portrait("obama.jpg")], [load_portrait("biden.jpg")]])
    assert out.shape == scene.shape
    assert {r["method"] for r in engine.last_report["slots"]} <= {"mesh", "5point"}
    assert "5point" in {r["method"] for r in engine.last_report["slots"]}
    monkeypatch.setattr(engine.landmarker, "landmarks", lambda img, face: None)
    out = engine.run(scene, slots, [[load_portrait("obama.jpg")], [load_portrait("biden.jpg")]])
    assert [r["method"] for r in engine.last_report["slots"]] == ["5point", "5point"]
    for rep in engine.last_report["slots"]:
        assert rep["cos_user"] > rep["cos_scene"]


def test_run_reports_stage_timings(engine):
    scene = scene_of(engine, "obama.jpg", "biden.jpg", "film")
    users = [[load_portrait("grace_hopper.jpg")], [load_portrait("astronaut.png")]]
    engine.run(scene, engine.suggest_slots(scene), users)
    tm = engine.last_report["timings"]
    for k in ("detect", "landmarks", "identity", "swap", "swap.warp", "swap.mask", "swap.color", "swap.texture"):
        assert k in tm and tm[k] >= 0
    assert [r["method"] for r in engine.last_report["slots"]] == ["mesh", "mesh"]


def test_mesh_of_a_face_cheek_to_cheek_is_its_own(engine):
    """The mesh crop around one face of a cheek-to-cheek couple also holds the partner's face; the
    landmarks must be the face the detector asked for (MediaPipe used to return the partner's mesh for
    this swapped result, so its mesh was rejected as disagreeing with the detector)."""
    from pathlib import Path

    from engine import decode_image

    scene_path = Path(__file__).resolve().parents[3] / "gallery" / "demo_scenes" / "xverse_couple_mw_cheek.jpg"
    scene = decode_image(scene_path.read_bytes())
    faces = sorted(engine.inspect(scene), key=lambda f: f.area, reverse=True)[:2]
    faces.sort(key=lambda f: float(f.center[0]))
    h, w = scene.shape[:2]
    slot = tuple(float(v) for v in (faces[0].box[0] / w, faces[0].box[1] / h, faces[0].box[2] / w,
                                    faces[0].box[3] / h))
    out = engine.run(scene, [slot], [[load_portrait("obama3.jpg")]])
    for target in faces:
        near = [f for f in engine.inspect(out) if np.linalg.norm(f.center - target.center) < 0.5 * target.eye_distance]
        assert near, "a face is missing from the result"
        face = max(near, key=lambda f: f.score)
        lm = engine.landmarks(out, face)
        assert lm is not None, "the mesh of this face was not found"
        err = np.linalg.norm(lm.eye_centers - face.kps[:2], axis=1).max() / face.eye_distance
        assert err < 0.15, err


def test_temples_stay_the_scenes(engine):
    """``temple_keep`` pulls the outline in above the eyes only: the cheeks and jaw are unchanged."""
    _img, _face, lm = _face_lm(engine, "obama.jpg")
    xy = lm.xy[:N_MESH]
    full = mask_polygon(xy, 0.8, 0.97, jaw_grow=0.03)
    pulled = mask_polygon(xy, 0.8, 0.97, jaw_grow=0.03, temple_keep=0.8)
    eye_y = float(xy[[33, 263]][:, 1].mean())
    brow_y = float(xy[[70, 300]][:, 1].mean())
    mid_x = float(xy[168][0])
    above = full[:, 1] < brow_y
    below = full[:, 1] > eye_y
    assert above.any() and below.any()
    # above the brows every outline point is nearer the nose line; below the eyes none moved
    assert np.mean(np.abs(pulled[above, 0] - mid_x) < np.abs(full[above, 0] - mid_x)) > 0.8
    assert np.abs(pulled[above, 0] - mid_x).sum() < 0.9 * np.abs(full[above, 0] - mid_x).sum()
    np.testing.assert_allclose(pulled[below], full[below], atol=1e-4)


def test_a_pale_lock_along_the_face_edge_is_hair(engine):
    """Grey or white hair lying wide along the side of the face (bright, nearly colourless: the rule
    for wide locks used to ask for a clearly coloured one) is found as hair, to be painted over."""
    from engine.skin import hair_mask

    img, _face, lm = _face_lm(engine, "obama.jpg")
    s = 120.0 / lm.iod
    small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    xy = lm.xy[:N_MESH] * s
    lock = np.zeros(small.shape[:2], np.uint8)
    # a 0.27 IOD wide white lock just inside the face's outline, from the temple down to the cheekbone
    side = xy[FACE_OVAL][np.argmax(xy[FACE_OVAL][:, 0])]
    top, bottom = xy[[70, 300]][:, 1].min() - 10, xy[1][1]
    pts = np.array([[side[0] - 36, top], [side[0] - 4, top], [side[0] - 4, bottom], [side[0] - 36, bottom]],
                   np.int32)
    cv2.fillPoly(lock, [pts], 255)
    lock &= fill_poly(small.shape[:2], xy[FACE_OVAL])
    hairy = small.copy()
    hairy[lock > 0] = (236, 240, 244)  # white, a touch warm (BGR)
    hairy = cv2.GaussianBlur(hairy, (0, 0), 0.7)
    found = hair_mask(hairy, xy, 120.0) > 0
    assert (found & (lock > 0)).sum() > 0.6 * (lock > 0).sum()
    # ...and the clean photo has next to no hair there
    assert (hair_mask(small, xy, 120.0) > 0)[lock > 0].mean() < 0.2


def test_eye_whites_and_brows_keep_their_own_colour(engine):
    """The skin's colour shift (fitted on skin) is not added to the features: eye whites that the
    transfer pushed blue come back near neutral, dark brows are not tinted blue, the skin keeps its shift."""
    img, _face, lm = _face_lm(engine, "obama.jpg")
    s = 120.0 / lm.iod
    xy = lm.xy[:N_MESH] * s
    h, w = int(img.shape[0] * s), int(img.shape[1] * s)
    lab_user = np.empty((h, w, 3), np.float32)
    lab_user[:] = (120.0, 145.0, 160.0)  # brown skin (8-bit OpenCV Lab)
    eyes = cv2.bitwise_or(poly_mask((h, w), xy[RIGHT_EYE], hull=True), poly_mask((h, w), xy[LEFT_EYE], hull=True))
    brows = cv2.bitwise_or(poly_mask((h, w), xy[RIGHT_BROW], hull=True), poly_mask((h, w), xy[LEFT_BROW], hull=True))
    lab_user[eyes > 0] = (215.0, 128.0, 131.0)  # eye whites: near neutral
    lab_user[brows > 0] = (50.0, 131.0, 134.0)  # dark brows
    lips = (poly_mask((h, w), xy[OUTER_LIPS]) > 0) & (poly_mask((h, w), xy[INNER_LIPS]) == 0)
    lab_user[lips] = (110.0, 165.0, 140.0)  # pink lips: skin-like tissue
    # the skin transfer towards a pale, less yellow scene, applied to every pixel alike
    shifted = np.clip(lab_user + np.float32([45.0, -6.0, -24.0]), 0, 255)
    skin = ((eyes == 0) & (brows == 0) & ~lips & (fill_poly((h, w), xy[FACE_OVAL]) > 0)).astype(np.float32)
    lab_out = MeshSwapper()._keep_feature_colour(shifted, lab_user, skin, xy, 120.0)
    core_eyes = erode(eyes, 2) > 0
    core_brows = erode(brows, 2) > 0
    assert np.median(shifted[core_eyes][:, 2]) < 110  # the naive transfer made the whites blue...
    assert abs(np.median(lab_out[core_eyes][:, 2]) - 128) < 4  # ...now they are white again
    assert abs(np.median(lab_out[core_eyes][:, 1]) - 128) < 4
    assert np.median(lab_out[core_brows][:, 2]) >= 127  # brows: not blue
    # they follow the shift's lightness as the skin does, and stay dark and nearly colourless
    assert abs(np.median(lab_out[core_brows][:, 0]) - 95.0) < 3
    assert np.all(np.abs(np.median(lab_out[core_brows][:, 1:], 0) - 128.0) < 8)
    assert np.median(lab_out[core_eyes][:, 0]) > 230  # lightness follows the transfer
    # the lips follow the skin's shift as skin does (kept at their own hue, a lighter, cooler
    # scene turned pink lips a dull mauve next to the shifted skin)
    core_lips = erode(lips.astype(np.uint8) * 255, 2) > 0
    np.testing.assert_allclose(np.median(lab_out[core_lips], 0), np.median(shifted[core_lips], 0), atol=2)
    inner_skin = erode((skin > 0).astype(np.uint8) * 255, 12) > 0
    np.testing.assert_allclose(np.median(lab_out[inner_skin], 0), np.median(shifted[inner_skin], 0), atol=2)


def test_unusable_user_texture_shows_the_scene_recoloured():
    """Where the user's photo has nothing usable, the scene's own texture shows in the paste's tone:
    neither the unusable pixels nor a pale or dark blotch of the untouched scene."""
    rng = np.random.default_rng(3)
    h, w, iod = 200, 200, 100.0
    scene_lab = np.empty((h, w, 3), np.float32)
    scene_lab[:] = (200.0, 138.0, 145.0)  # pale skin
    scene_lab[..., 0] += cv2.GaussianBlur(rng.normal(0, 6, (h, w)).astype(np.float32), (0, 0), 1.5) * 3  # pores
    paste_lab = np.empty((h, w, 3), np.float32)
    paste_lab[:] = (110.0, 146.0, 160.0)  # darker, warmer skin
    usable = np.ones((h, w), np.float32)
    usable[70:130, 120:180] = 0.0  # e.g. background beyond the user's outline
    paste_lab[usable == 0] = (90.0, 120.0, 100.0)  # ...which is blue-grey there
    skin = np.ones((h, w), np.float32)
    lab = MeshSwapper._fill_from_scene(paste_lab, scene_lab, usable, skin, np.ones((h, w), np.float32), iod)
    hole = (slice(80, 120), slice(130, 170))
    # the paste's tone...
    np.testing.assert_allclose(np.median(lab[hole].reshape(-1, 3), 0), (110, 146, 160), atol=5)
    # ...with the scene's texture (its pores), not a flat patch
    hp = lab[..., 0] - cv2.GaussianBlur(lab[..., 0], (0, 0), 4)
    hs = scene_lab[..., 0] - cv2.GaussianBlur(scene_lab[..., 0], (0, 0), 4)
    assert np.corrcoef(hp[hole].ravel(), hs[hole].ravel())[0, 1] > 0.8
    # usable pixels are untouched, but for a soft seam on their side of the hole's edge
    far = cv2.dilate((usable == 0).astype(np.uint8), np.ones((41, 41), np.uint8)) == 0
    assert np.abs(lab[far] - paste_lab[far]).max() < 1e-3


def test_the_edge_band_of_the_user_face_must_be_skin(engine):
    """With ``edge`` the band just inside the user's face outline is kept only where it is skin: the
    mesh's outline often takes in a little background, ear or grey hair."""
    from engine.skin import source_keep

    img, _face, lm = _face_lm(engine, "obama.jpg")
    s = 120.0 / lm.iod
    small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    xy = lm.xy[:N_MESH] * s
    oval = fill_poly(small.shape[:2], xy[FACE_OVAL])
    band = (oval > 0) & (erode(oval, 10) == 0)
    painted = small.copy()
    painted[band] = (200, 120, 40)  # blue background inside the outline's edge
    _, keep_plain = source_keep(painted, xy, 120.0)
    _, keep_edge = source_keep(painted, xy, 120.0, edge=0.15)
    core = (erode(oval, 3) > 0) & (erode(oval, 7) == 0)  # the band's middle (blur spreads its own edge)
    assert keep_plain[core].mean() > 0.9  # the plain outline takes the background in
    assert keep_edge[core].mean() < 0.2
    inner = erode(oval, 30) > 0
    assert keep_edge[inner].mean() > 0.99  # the face itself is still kept
    # beyond the outline, skin-coloured pixels (an ear) are kept only below the mouth (jaw, neck)
    skin_colour = np.median(small[erode(oval, 30) > 0].reshape(-1, 3), 0).astype(np.uint8)
    outside = cv2.dilate(oval, np.ones((31, 31), np.uint8)) > 0
    ring = outside & (oval == 0) & (cv2.dilate(oval, np.ones((9, 9), np.uint8)) == 0)
    eye_y, mouth_y = float(xy[[33, 263]][:, 1].mean()), float(xy[[61, 291]][:, 1].mean())
    rows = np.arange(small.shape[0])[:, None] * np.ones((1, small.shape[1]))
    ear = ring & (rows < eye_y + 10) & (rows > eye_y - 10)
    neck = ring & (rows > mouth_y + 25)
    # ...and only close to the outline: further out, a pale background passes for skin too
    dist_out = cv2.distanceTransform((oval == 0).astype(np.uint8), cv2.DIST_L2, 5)
    far = (dist_out > 45) & (dist_out < 70) & (rows > mouth_y + 25)
    earlike = small.copy()
    earlike[ear | neck | far] = skin_colour
    _, keep_plain = source_keep(earlike, xy, 120.0)
    _, keep_edge = source_keep(earlike, xy, 120.0, edge=0.15)
    assert keep_plain[ear].mean() > 0.8 and keep_edge[ear].mean() < 0.2
    assert keep_edge[neck].mean() > 0.8
    assert far.sum() > 500 and keep_plain[far].mean() > 0.8 and keep_edge[far].mean() < 0.2


def test_an_earlobe_on_the_outline_at_ear_height_is_not_kept(engine):
    """An earlobe or an earring's stud lying on the user's outline at ear height (skin-coloured or pale)
    was kept and, stretched over a turned scene's far cheek, showed as a pale blob. In the outline's
    band along the sides at ear height only the fill shows now; the band at the jaw and the cheek
    just inside it are kept as before."""
    from engine.skin import EAR_SIDE, source_keep

    img, _face, lm = _face_lm(engine, "obama.jpg")
    s = 120.0 / lm.iod
    small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    xy = lm.xy[:N_MESH] * s
    oval = fill_poly(small.shape[:2], xy[FACE_OVAL])
    skin_colour = np.median(small[erode(oval, 30) > 0].reshape(-1, 3), 0).astype(np.uint8)
    band = (oval > 0) & (erode(oval, 14) == 0)
    eye_y, mouth_y = float(xy[[33, 263]][:, 1].mean()), float(xy[[61, 291]][:, 1].mean())
    mid_x = float(xy[[33, 263]][:, 0].mean())
    rows, cols = np.mgrid[0:small.shape[0], 0:small.shape[1]].astype(np.float32)
    side = np.abs(cols - mid_x) > (EAR_SIDE + 0.1) * 120
    lobe = band & (rows > eye_y + 0.2 * 120) & (rows < mouth_y - 0.1 * 120) & side
    jaw = band & (rows > mouth_y + 0.3 * 120)
    earlike = small.copy()
    earlike[lobe | jaw] = skin_colour  # skin-coloured: the colour test alone keeps both
    _, keep_plain = source_keep(earlike, xy, 120.0)
    _, keep_edge = source_keep(earlike, xy, 120.0, edge=0.15)
    assert lobe.sum() > 100 and jaw.sum() > 100
    assert keep_plain[lobe].mean() > 0.9 and keep_edge[lobe].mean() < 0.3
    assert keep_edge[jaw].mean() > 0.9
    cheek = (erode(oval, 30) > 0) & (rows > eye_y + 0.3 * 120) & (rows < mouth_y)
    assert keep_edge[cheek].mean() > 0.99


def _edge_lightness_gap(scene: np.ndarray, out: np.ndarray, mask: np.ndarray, tlm) -> float:
    """Mean |L| difference (8-bit) result vs scene on the scene's skin 0.1-0.3 eye distances inside the
    paste's edge: where the face must meet the scene's neck, ears and temples in tone and lighting."""
    din = cv2.distanceTransform((mask > 0.5).astype(np.uint8), cv2.DIST_L2, 5) / tlm.iod
    lab_s = cv2.cvtColor(scene, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab_r = cv2.cvtColor(out, cv2.COLOR_BGR2LAB).astype(np.float32)
    skin = sample_model(lab_s, tlm.xy[:468], tlm.iod).probability(lab_s) > 0.5
    sel = (din > 0.1) & (din < 0.3) & skin
    d = cv2.GaussianBlur(lab_r[..., 0] - lab_s[..., 0], (0, 0), 0.05 * tlm.iod)[sel]
    return float(np.abs(d).mean())


def test_a_user_lit_from_the_other_side_meets_the_scene_skin_at_the_edge(engine):
    """A user lit hard from one side on a scene face lit evenly: the transfer's global match leaves one
    edge far lighter and the other darker than the scene; the edge match must take all of that out,
    not a capped part (a 40-level cap left a 25-level band at the face's edge)."""
    scene = load_testdata("scenes/uniportrait_two_women_studio.png")
    user = load_testdata("synthetic_faces/sfhq_pt1_00001316.jpg")
    face = min(engine.inspect(scene), key=lambda f: float(f.center[0]))
    tlm = engine.landmarks(scene, face)
    ulm = engine.landmarks(user, max(engine.inspect(user), key=lambda f: f.area))
    out, info = MeshSwapper().swap_detailed(scene, tlm, user, ulm)
    gap = _edge_lightness_gap(scene, out, info["mask"], tlm)
    capped, cinfo = MeshSwapper(field_clip=40.0).swap_detailed(scene, tlm, user, ulm)
    assert gap < 14.0 < _edge_lightness_gap(scene, capped, cinfo["mask"], tlm)


def test_shine_on_a_cheek_joined_to_the_background_beyond_the_outline_is_not_hair(engine):
    """A lit patch of cheek (lighter, a little paler, the skin's own hue) that touches hair or a dark
    background just beyond the face's outline used to join it as one 'hair' component and be painted
    over (Obama's lit cheek); a white lock in the same place is still hair."""
    from engine.skin import hair_mask, sample_model

    img, _face, lm = _face_lm(engine, "obama.jpg")
    s = 120.0 / lm.iod
    small = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    xy = lm.xy[:N_MESH] * s
    oval = fill_poly(small.shape[:2], xy[FACE_OVAL])
    side = xy[FACE_OVAL][np.argmax(xy[FACE_OVAL][:, 0])]
    top, bottom = int(xy[[70, 300]][:, 1].min()), int(xy[1][1])
    x_in, x_out = int(side[0] - 14), int(side[0] + 17)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.float32)
    skin = sample_model(lab.astype(np.uint8), xy, 120.0).mean
    band = np.zeros(small.shape[:2], np.uint8)
    band[top:bottom, x_in:x_out] = 255
    shine = (band > 0) & (oval > 0)
    hair = (band > 0) & (oval == 0)
    # shine: 40 levels lighter, 60 % of the skin's chroma, its hue (the 'hair' rules alone took 99 %
    # of it: joined to the background it is one wide component of clearly other colour)
    lab[shine] = (min(skin[0] + 40.0, 250.0), 128.0 + 0.6 * (skin[1] - 128.0), 128.0 + 0.6 * (skin[2] - 128.0))
    lab[hair] = (40.0, 128.0, 90.0)  # a dark blue background: clearly another colour than the skin
    lit = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    found = hair_mask(lit, xy, 120.0) > 0
    assert found[shine].mean() < 0.1, found[shine].mean()
    # the same patch grey-white (a lock of white hair, lighter still and nearly colourless) is hair
    lab[shine] = (min(skin[0] + 60.0, 250.0), 129.0, 131.0)
    white = cv2.cvtColor(np.clip(lab + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_LAB2BGR)
    assert (hair_mask(white, xy, 120.0) > 0)[shine].mean() > 0.6


def test_outline_grown_and_shrunk_are_the_pixels_of_dilate_and_erode():
    from engine.landmarks import FACE_OVAL
    from engine.skin import Outline, dilate, erode, poly_mask

    t = np.linspace(0, 2 * np.pi, 468, endpoint=False)
    xy = np.stack([200 + 90 * np.cos(t), 220 + 120 * np.sin(t)], 1)
    xy[FACE_OVAL] = np.stack([200 + 90 * np.cos(t[:len(FACE_OVAL)] * 468 / len(FACE_OVAL)),
                              220 + 120 * np.sin(t[:len(FACE_OVAL)] * 468 / len(FACE_OVAL))], 1)
    ol = Outline((440, 400), xy)
    region = poly_mask((440, 400), xy[FACE_OVAL])
    assert (ol.mask == region).all() and region.any()
    for px in (0.4, 2.0, 3.0, 7.3, 18.0, 30.0):
        assert (ol.grown(px) == dilate(region, px)).all(), px
        assert (ol.shrunk(px) == erode(region, px)).all(), px
    assert ol.grown(18.0).sum() > region.sum() > ol.shrunk(18.0).sum() > 0


def _lit_eye_socket(user: np.ndarray, ulm) -> np.ndarray:
    """The photo with a warm light on one eye's socket only (a low sun from the side): the skin model,
    sampled over the whole face, does not take that eye's lids and white for skin."""
    h, w = user.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    c = ulm.xy[LEFT_EYE].mean(0)
    spot = np.clip(1.5 - np.hypot(xx - c[0], yy - c[1]) / (0.45 * ulm.iod), 0.0, 1.0)[..., None]
    gain = 1.0 + spot * (np.float32([0.55, 0.9, 1.35]) - 1.0)  # B, G, R
    return np.clip(user.astype(np.float32) * gain, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("name,slot", [("sfhq_pt1_00001316.jpg", 1), ("sfhq_pt1_00002870.jpg", 1)])
def test_an_eye_in_coloured_light_does_not_keep_the_lights_colour(engine, name, slot):
    """An eye lit orange from one side kept that orange as its own colour (a red eye on an evenly lit
    scene face): the features' chroma now follows the skin around each eye, not the face's median."""
    scene = load_testdata("scenes/xverse_couple_mw_studio.jpg")
    user = load_testdata(f"synthetic_faces/{name}")
    ulm = engine.landmarks(user, max(engine.inspect(user), key=lambda f: f.area))
    lit = _lit_eye_socket(user, ulm)
    face = sorted(engine.inspect(scene), key=lambda f: float(f.center[0]))[slot]
    tlm = engine.landmarks(scene, face)

    def eye_chroma(photo, local):
        out, _ = MeshSwapper(local_feature_chroma=local).swap_detailed(scene, tlm, photo, ulm)
        lab = cv2.cvtColor(out, cv2.COLOR_BGR2LAB).astype(np.float32)
        eye = poly_mask(lab.shape[:2], tlm.xy[LEFT_EYE], hull=True) > 0  # the user's lit eye lands here
        return float(np.linalg.norm(np.median(lab[eye][:, 1:], 0) - 128.0))

    clean = eye_chroma(user, True)
    kept, local = eye_chroma(lit, False), eye_chroma(lit, True)
    assert kept - clean > 8.0  # the old rule keeps the light's colour in the eye (the test can fail)
    assert local - clean < 0.7 * (kept - clean), (clean, kept, local)
