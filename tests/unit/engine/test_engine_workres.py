"""Working resolution, hair/occluder handling and the paste boundary, on real images (arrays in,
arrays out). Thresholds are on sizes and image measures, never on time."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from engine.gate import check_photo
from engine.landmarks import FACE_OVAL, LEFT_BROW, LEFT_EYE, RIGHT_BROW, RIGHT_EYE
from engine.mesh_swap import MeshSwapper

from .conftest import load_testdata as load


def _face(engine, img):
    face = max(engine.inspect(img), key=lambda f: f.area)
    lm = engine.landmarks(img, face)
    assert lm is not None
    return face, lm


def _resize_w(img, width):
    s = width / img.shape[1]
    return cv2.resize(img, (width, int(round(img.shape[0] * s))),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)


def test_large_scene_runs_at_working_size_and_matches_the_small_run(engine):
    scene = load("scenes/xverse_couple_mw_studio.jpg")
    users = [[load("faces/obama.jpg")], [load("synthetic_faces/sfhq_pt1_00002342.jpg")]]
    small, big = _resize_w(scene, 1024), _resize_w(scene, 4096)
    out_s = engine.run(small, engine.suggest_slots(small), users)
    rep_s = engine.last_report["slots"]
    mask_s = sum(r["mask"] for r in rep_s)
    out_b = engine.run(big, engine.suggest_slots(big), users)
    rep_b = engine.last_report["slots"]
    assert out_b.shape == big.shape
    for rs, rb in zip(rep_s, rep_b, strict=True):
        assert rs["method"] == rb["method"] == "mesh"
        # the stages saw a face-sized crop, not the 4096 px scene, and about the same one as at 1024 px
        assert max(rb["work_shape"]) <= 4 * engine.mesh_swapper.work_iod
        assert abs(max(rb["work_shape"]) - max(rs["work_shape"])) <= 0.35 * max(rs["work_shape"])
        # the paste covers the face at full scene resolution
        assert rb["mask"].shape == big.shape[:2]
    # the result's face region matches the 1024 px run
    down = cv2.resize(out_b, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    sel = mask_s > 0.5
    assert sel.sum() > 2000
    d = np.abs(down.astype(np.int16) - out_s.astype(np.int16)).max(axis=2)
    changed = np.abs(small.astype(np.int16) - out_s.astype(np.int16)).max(axis=2)
    assert changed[sel].mean() > 15  # the face really was replaced
    assert d[sel].mean() < 6 and np.percentile(d[sel], 95) < 20, (d[sel].mean(), np.percentile(d[sel], 95))


def test_upscaled_paste_keeps_fine_detail(engine):
    """A big scene face gets the small working-size result upscaled; fine detail is added back, so the
    pasted skin is not much softer than the scene's own skin around it."""
    scene = _resize_w(load("scenes/xverse_couple_mw_studio.jpg"), 3072)
    target = engine.match_slots(scene, engine.suggest_slots(scene))[0]
    tlm = engine.landmarks(scene, target)
    user = load("synthetic_faces/sfhq_pt1_00001316.jpg")
    _, ulm = _face(engine, user)
    sw = MeshSwapper()
    out, info = sw.swap_detailed(scene, tlm, user, ulm)
    assert info["work_scale"] < 0.5
    m = (info["mask"] > 0.95).astype(np.uint8)
    def hf(img):
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return np.abs(g - cv2.GaussianBlur(g, (0, 0), 2.0))
    x, y, w, h = info["roi"]
    sel = m[y:y + h, x:x + w] > 0
    res, ref = hf(out[y:y + h, x:x + w])[sel].mean(), hf(scene[y:y + h, x:x + w])[sel].mean()
    assert res > 0.6 * ref, (res, ref)


def _paint_strands(img, lm):
    """Red 'hair' strands from above the hairline down over the forehead (ending above the brows) and
    the outer cheeks (clear of the eyes)."""
    out = img.copy()
    xy, iod = lm.xy, lm.iod
    top = xy[FACE_OVAL][:, 1].min() - 0.3 * iod
    brow_y = xy[RIGHT_BROW + LEFT_BROW][:, 1].min() - 0.12 * iod
    th = max(2, int(0.05 * iod))
    cx = float(xy[10][0])
    for dx in (-0.45, -0.15, 0.15, 0.45):  # over the forehead, ending above the brows
        cv2.line(out, (int(cx + dx * iod), int(top)), (int(cx + 1.2 * dx * iod), int(brow_y)), (20, 20, 230), th,
                 cv2.LINE_AA)
    for side in (-1, 1):  # down the sides of the face, outside the eyes
        x0 = cx + side * 1.05 * iod
        cv2.line(out, (int(x0), int(top)), (int(x0 - side * 0.12 * iod), int(xy[1][1])), (20, 20, 230), th,
                 cv2.LINE_AA)
    return out


@pytest.mark.parametrize("user", ["synthetic_faces/sfhq_pt1_00001316.jpg", "faces/obama.jpg"])
def test_user_hair_strands_never_reach_the_result(engine, user):
    scene = load("scenes/xverse_couple_mw_studio.jpg")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[1]
    tlm = engine.landmarks(scene, target)
    clean = load(user)
    _, ulm = _face(engine, clean)
    hairy = _paint_strands(clean, ulm)
    fracs = {}
    for cut in (True, False):
        # the control (no hair cut) also without the colour stage, which would half-hide the strands
        sw = MeshSwapper(skin_cut=True) if cut else MeshSwapper(skin_cut=False, color_transfer=False)
        out_h, info = sw.swap_detailed(scene, tlm, hairy, ulm)
        out_c, _ = sw.swap_detailed(scene, tlm, clean, ulm)
        # strand pixels: the hairy photo's result is much nearer the strands' red than the clean one's
        # (a plain difference would also count what replaces them: the scene's own face, recoloured)
        red = np.float32([20, 20, 230])
        d = (np.linalg.norm(out_c.astype(np.float32) - red, axis=2)
             - np.linalg.norm(out_h.astype(np.float32) - red, axis=2))
        fracs[cut] = float((d[info["mask"] > 0.05] > 30).mean())
    # without the hair cut the strands do show (the test can fail) ...
    assert fracs[False] > 0.01, fracs
    # ... with it (the default), next to nothing of them reaches the scene
    assert fracs[True] < 0.25 * fracs[False] and fracs[True] < 0.01, fracs


def test_user_photo_read_at_analysis_size_gives_the_full_size_result(engine):
    """A large scene face gets a user crop of ~150 px between the eyes; skin, hair and fringe are read on a
    copy of ~100 px (``analysis_iod``). The strands are still painted over and the result is the one the
    full-size reading gives, bar a few grey levels along the strands' edges."""
    scene = _resize_w(load("scenes/xverse_couple_mw_studio.jpg"), 2048)
    target = engine.match_slots(scene, engine.suggest_slots(scene))[1]
    tlm = engine.landmarks(scene, target)
    clean = load("synthetic_faces/sfhq_pt1_00001316.jpg")
    _, ulm = _face(engine, clean)
    hairy = _paint_strands(clean, ulm)
    outs = {}
    for aiod in (0.0, 100.0):
        sw = MeshSwapper(analysis_iod=aiod)
        outs[aiod], info = sw.swap_detailed(scene, tlm, hairy, ulm)
        assert info["work_scale"] < 1.0  # the working-size path, with a user crop above 100 px
    sel = info["mask"] > 0.5
    d = np.abs(outs[0.0].astype(np.int16) - outs[100.0].astype(np.int16)).max(axis=2)[sel]
    assert sel.sum() > 5000
    assert d.mean() < 2.0 and np.percentile(d, 99) < 25, (d.mean(), np.percentile(d, 99))
    # strand pixels (as in test_user_hair_strands_never_reach_the_result): nearer the strands' red than
    # the clean photo's result; the control without the hair cut shows them
    red = np.float32([20, 20, 230])

    def strands(sw, out_h):
        out_c, _ = sw.swap_detailed(scene, tlm, clean, ulm)
        d = (np.linalg.norm(out_c.astype(np.float32) - red, axis=2)
             - np.linalg.norm(out_h.astype(np.float32) - red, axis=2))
        return float((d[sel] > 30).mean())

    control = MeshSwapper(skin_cut=False, color_transfer=False)
    assert strands(control, control.swap_detailed(scene, tlm, hairy, ulm)[0]) > 0.01
    assert strands(MeshSwapper(analysis_iod=100.0), outs[100.0]) < 0.01


def _cover_mouth(img, lm, colour):
    out = img.copy()
    c = lm.xy[[13, 152]].mean(0)
    r = int(0.6 * lm.iod)
    cv2.ellipse(out, (int(c[0]), int(c[1])), (r, r), 0, 0, 360, colour, -1, cv2.LINE_AA)
    return out


@pytest.mark.parametrize("name", ["faces/obama.jpg", "faces/grace_hopper.jpg",
                                  "synthetic_faces/sfhq_pt1_00002342.jpg", "synthetic_faces/sfhq_pt1_00000058.jpg"])
def test_gate_refuses_an_object_in_front_of_the_mouth(engine, name):
    img = load(name)
    clean = check_photo(engine, img)
    assert clean.ok, (clean.code, clean.occlusion)
    for colour in ((70, 70, 70), (15, 15, 15)):  # a grey and a black microphone / hand-held object
        res = check_photo(engine, _cover_mouth(img, clean.landmarks, colour))
        assert res.code == "occluded", (colour, res.code, res.occlusion)


def test_a_fringe_is_accepted_and_the_scene_keeps_its_forehead_and_brows(engine):
    """A fringe down to the brows (very common) is no reason to refuse the photo: the swap takes the
    user's eyes, nose, mouth and cheeks and keeps the scene's own forehead and brows."""
    user = load("synthetic_faces/sfhq_pt1_00001264.jpg")  # a thick orange fringe down to the brows
    chk = check_photo(engine, user)
    assert chk.ok, (chk.code, chk.occlusion)
    assert chk.occlusion["fringe"] > 0.7  # the fringe is measured...
    scene = load("scenes/uniportrait_two_women_studio.png")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[0]
    tlm = engine.landmarks(scene, target)
    out, info = MeshSwapper().swap_detailed(scene, tlm, user, chk.landmarks)
    assert info["fringe"]
    xy = tlm.xy
    # ...so nothing is pasted on the scene's brows or the forehead above them
    brows = np.zeros(scene.shape[:2], np.uint8)
    for g in (RIGHT_BROW, LEFT_BROW):
        cv2.fillConvexPoly(brows, cv2.convexHull(np.round(xy[g]).astype(np.int32)), 255)
    assert info["mask"][brows > 0].max() < 0.25
    assert np.abs(out.astype(np.int16) - scene.astype(np.int16))[brows > 0].mean() < 6
    # while the eyes and the mouth are the user's
    for g in (RIGHT_EYE, LEFT_EYE):
        c = np.round(xy[g].mean(0)).astype(int)
        assert info["mask"][c[1], c[0]] > 0.5
    # a user without a fringe gets the forehead pasted as before
    clean_user = load("faces/obama.jpg")
    _, ulm = _face(engine, clean_user)
    _, info2 = MeshSwapper().swap_detailed(scene, tlm, clean_user, ulm)
    assert not info2["fringe"] and info2["mask"][brows > 0].mean() > 0.5


def test_a_lock_over_one_brow_keeps_the_scene_forehead_but_a_side_fringe_above_the_brows_does_not(engine):
    """A lock of hair coming down over one brow (sfhq_pt1_00002921) left a dark strand across the
    scene's brow and a flat painted patch beside it: like a fringe down to both brows, the scene keeps
    its forehead and brows. A side fringe that stops above the brows (sfhq_pt1_00000131) does not:
    her brows are her own and are pasted."""
    scene = load("scenes/uniportrait_two_women_studio.png")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[1]
    tlm = engine.landmarks(scene, target)
    brows = np.zeros(scene.shape[:2], np.uint8)
    for g in (RIGHT_BROW, LEFT_BROW):
        cv2.fillConvexPoly(brows, cv2.convexHull(np.round(tlm.xy[g]).astype(np.int32)), 255)
    decided = {}
    for name in ("sfhq_pt1_00002921", "sfhq_pt1_00000131"):
        user = load(f"synthetic_faces/{name}.jpg")
        chk = check_photo(engine, user)
        assert chk.ok, (name, chk.code, chk.occlusion)
        _, info = MeshSwapper().swap_detailed(scene, tlm, user, chk.landmarks)
        decided[name] = (info["fringe"], float(info["mask"][brows > 0].mean()))
    lock, side = decided["sfhq_pt1_00002921"], decided["sfhq_pt1_00000131"]
    assert lock[0] and lock[1] < 0.25, decided
    assert not side[0] and side[1] > 0.5, decided


def test_bangs_above_the_brows_stay_out_of_the_paste(engine):
    """Brown bangs ending just above the brows (sfhq_pt1_00002342) pass the skin's colour test: their
    strands were pasted as dark wisps across the scene's forehead. Their texture marks where they
    begin; the paste's forehead ends below that, the brows are still the user's. A clear forehead
    (Obama) is pasted up to ``forehead_keep`` as before."""
    from engine.skin import clear_forehead

    scene = load("scenes/uniportrait_two_women_studio.png")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[0]
    tlm = engine.landmarks(scene, target)
    xy = tlm.xy
    o = (xy[RIGHT_EYE].mean(0) + xy[LEFT_EYE].mean(0)) / 2
    brow_top = min(xy[RIGHT_BROW][:, 1].min(), xy[LEFT_BROW][:, 1].min())
    # the scene's forehead between the brows' top and half-way up to the outline's top, mid-face
    top = xy[FACE_OVAL][:, 1].min()
    yy, xx = np.mgrid[0:scene.shape[0], 0:scene.shape[1]]
    forehead = (yy < brow_top - 0.2 * (brow_top - top)) & (yy > brow_top - 0.6 * (brow_top - top)) & (
        np.abs(xx - o[0]) < 0.4 * tlm.iod)
    brows = np.zeros(scene.shape[:2], np.uint8)
    for g in (RIGHT_BROW, LEFT_BROW):
        cv2.fillConvexPoly(brows, cv2.convexHull(np.round(xy[g]).astype(np.int32)), 255)
    got = {}
    for name in ("synthetic_faces/sfhq_pt1_00002342.jpg", "faces/obama.jpg"):
        user = load(name)
        _, ulm = _face(engine, user)
        s = 120.0 / ulm.iod
        small = cv2.resize(user, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
        clear = clear_forehead(small, ulm.xy[:468] * s, 120.0)
        _, info = MeshSwapper().swap_detailed(scene, tlm, user, ulm)
        got[name] = (clear, float(info["mask"][forehead].mean()), float(info["mask"][brows > 0].mean()))
    bangs, open_ = got["synthetic_faces/sfhq_pt1_00002342.jpg"], got["faces/obama.jpg"]
    assert bangs[0] < 0.3 and open_[0] == 1.0, got
    assert bangs[1] < 0.3 < 0.7 < open_[1], got  # no paste up the forehead under the bangs
    assert bangs[2] > 0.5 and open_[2] > 0.5, got  # the brows are the user's in both


def test_gate_refuses_hair_over_the_eyes(engine):
    img = load("faces/obama.jpg")
    clean = check_photo(engine, img)
    assert clean.ok
    lm = clean.landmarks
    # dark hair hanging over both eyes
    veiled = img.copy()
    for g in (RIGHT_EYE, LEFT_EYE):
        c = lm.xy[g].mean(0)
        for k in range(-5, 6):
            x = int(c[0] + k * 0.05 * lm.iod)
            cv2.line(veiled, (x, int(c[1] - 0.45 * lm.iod)), (x + int(0.05 * lm.iod), int(c[1] + 0.35 * lm.iod)),
                     (25, 30, 40), max(2, int(0.045 * lm.iod)), cv2.LINE_AA)
    res = check_photo(engine, veiled)
    assert res.code == "occluded", res.occlusion


def _grad(img):
    lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB).astype(np.float32)
    return np.hypot(cv2.Sobel(lab, cv2.CV_32F, 1, 0), cv2.Sobel(lab, cv2.CV_32F, 0, 1)).max(axis=2)


@pytest.mark.parametrize("scene_name", ["scenes/xverse_couple_mw_studio.jpg",
                                        "scenes/uniportrait_two_women_studio.png"])
def test_no_seam_along_the_paste_boundary(engine, scene_name):
    """The gradient across the paste's transition band is about what the scene itself has there (its
    jaw line, hairline); a hard, uncorrected paste would be 2-5x that."""
    scene = load(scene_name)
    targets = engine.match_slots(scene, engine.suggest_slots(scene))
    user = load("faces/grace_hopper.jpg")
    _, ulm = _face(engine, user)
    for target in targets:
        tlm = engine.landmarks(scene, target)
        out, info = MeshSwapper().swap_detailed(scene, tlm, user, ulm)
        band = (info["mask"] > 0.2) & (info["mask"] < 0.8)
        assert band.sum() > 200
        ratio = _grad(out)[band].mean() / _grad(scene)[band].mean()
        hard, hinfo = MeshSwapper(feather=0.0, jaw_feather=0.0, color_transfer=False).swap_detailed(
            scene, tlm, user, ulm)
        hband = cv2.GaussianBlur((hinfo["mask"] > 0.5).astype(np.float32), (0, 0), 2)
        hband = (hband > 0.2) & (hband < 0.8)
        hard_ratio = _grad(hard)[hband].mean() / _grad(scene)[hband].mean()
        assert hard_ratio > 1.8  # the measure does see a seam
        assert ratio < 1.6, (ratio, hard_ratio)


@pytest.mark.parametrize("user,slot", [("faces/biden.jpg", 0), ("synthetic_faces/sfhq_pt1_00002921.jpg", 1)])
def test_paste_tone_meets_the_scene_skin_around_it(engine, user, slot):
    """The colour step the paste adds across its boundary (bench/engine_metrics.tone_step: mean Lab
    0.15-0.3 eye distances inside vs the scene's neck/ear/temple skin 0.03-0.15 outside) stays below
    the benchmark's ΔE 6, where global colour statistics alone leave a visible step (tuning split)."""
    from bench.engine_metrics import tone_step

    scene = load("scenes/xverse_couple_mw_studio.jpg")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[slot]
    tlm = engine.landmarks(scene, target)
    img = load(user)
    _, ulm = _face(engine, img)
    steps = {}
    for name, sw in (("global", MeshSwapper(lighting=0.3, lighting_chroma=0.0, edge_match=0.0)),
                     ("field", MeshSwapper())):
        out, _ = sw.swap_detailed(scene, tlm, img, ulm)
        steps[name] = tone_step(scene, out, tlm.xy[:468].astype(np.float64))[0]
    assert steps["field"] < 6.0, steps
    assert steps["field"] < steps["global"] - 1.0, steps


def test_paste_tone_meets_the_scene_skin_on_a_large_scene(engine):
    """The same through the whole engine (tone transfer first, the step judged against the retoned scene,
    as the benchmark does) on a 2048 px scene: the colour is matched fully out to 0.5 eye distances
    inside the paste's edge; with 0.45 this couple's second face stepped ΔE 6.7 from the scene's skin."""
    from bench.engine_metrics import tone_step

    scene = _resize_w(load("scenes/xverse_couple_mw_studio.jpg"), 2048)
    users = [[load("synthetic_faces/sfhq_pt1_00001777.jpg")], [load("synthetic_faces/sfhq_pt1_00002342.jpg")]]
    slots = engine.suggest_slots(scene)
    tlm = engine.landmarks(scene, engine.match_slots(scene, slots)[1]).xy[:468].astype(np.float64)
    keep, em = engine.keep_toned, engine.mesh_swapper.edge_match
    steps = {}
    try:
        engine.keep_toned = True
        for band in (em, 0.45):
            engine.mesh_swapper.edge_match = band
            out = engine.run(scene, slots, users)
            steps[band] = tone_step(engine.last_report["toned"], out, tlm)[0]
    finally:
        engine.keep_toned, engine.mesh_swapper.edge_match = keep, em
    assert em == 0.5 and steps[0.5] < 6.0 < steps[0.45], steps


def test_solid_usable_drops_thin_strips_and_keeps_the_face():
    """Thin strips of usable texture between unusable ones (an ear's rim, stretched pixels beyond the
    user's outline) go to the fill; a wide usable area stays, and nothing becomes more usable."""
    from engine.mesh_swap import solid_usable

    u = np.zeros((200, 200), np.float32)
    u[20:180, 20:110] = 1.0  # the face
    for x in (130, 150, 170):  # three 4 px strips
        u[40:160, x:x + 4] = 1.0
    out = solid_usable(u, 6.0)
    assert out.dtype == np.float32 and out.shape == u.shape
    assert np.all(out <= u + 1e-6)
    assert out[40:160, 130:174].max() < 0.05  # the strips are gone
    assert out[40:160, 40:90].min() > 0.99  # the face's inside is untouched
    assert solid_usable(np.ones((50, 50), np.float32), 6.0).min() > 0.99


def test_hair_below_the_brows_is_counted_but_a_fringe_is_not(engine):
    from engine.mesh_swap import hair_below_brows

    img = load("synthetic_faces/sfhq_pt1_00001316.jpg")
    _, lm = _face(engine, img)
    xy, iod = lm.xy[:468].astype(np.float64), lm.iod
    hair = np.zeros(img.shape[:2], np.uint8)
    th = max(3, int(0.08 * iod))
    brow_top = int(xy[RIGHT_BROW + LEFT_BROW][:, 1].min() - 0.3 * iod)
    cx = int(xy[10][0])
    cv2.line(hair, (cx - int(0.4 * iod), brow_top), (cx + int(0.4 * iod), brow_top), 255, th)  # a fringe
    cheek_x = int(xy[FACE_OVAL][:, 0].min() + 0.15 * iod)
    y_eye, y_nose = int(xy[RIGHT_EYE + LEFT_EYE][:, 1].max() + 0.2 * iod), int(xy[1][1])
    cv2.line(hair, (cheek_x, y_eye), (cheek_x, y_nose + int(0.3 * iod)), 255, th)  # a lock on the cheek
    w = hair_below_brows(hair, xy, iod)
    assert w[brow_top, cx] < 0.05
    assert w[(y_eye + y_nose) // 2, cheek_x] > 0.8
    assert w[y_nose, cx] < 0.05  # no hair there


@pytest.mark.parametrize("user", ["synthetic_faces/sfhq_pt1_00001316.jpg", "faces/obama.jpg"])
def test_where_hair_covered_the_cheeks_the_scene_skin_shows_not_a_flat_paint(engine, user):
    """Strands down the user's cheeks are never pasted (the test above); what replaces them is the
    scene's own skin, recoloured, with its texture. The flat paint the strands were covered with
    showed as pale, smooth patches and creases on a turned or shaded face. The scene face here carries
    a stripe pattern, so its texture can be told from the user's."""
    scene = load("scenes/xverse_couple_mw_studio.jpg")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[1]
    tlm = engine.landmarks(scene, target)
    h, w = scene.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    stripes = 18.0 * np.sign(np.sin(2 * np.pi * (xx + yy) / 12.0))
    striped = np.clip(scene.astype(np.float32) + stripes[..., None], 0, 255).astype(np.uint8)
    clean = load(user)
    _, ulm = _face(engine, clean)
    hairy = _paint_strands(clean, ulm)
    out_f, info = MeshSwapper().swap_detailed(striped, tlm, hairy, ulm)
    out_p, _ = MeshSwapper(hair_fill=False).swap_detailed(striped, tlm, hairy, ulm)
    # where the two differ: the strands' place below the brows
    diff = np.abs(out_f.astype(np.float32) - out_p.astype(np.float32)).max(2)
    region = (cv2.GaussianBlur(diff, (0, 0), 2) > 6) & (info["mask"] > 0.9)
    assert region.sum() > 400, region.sum()

    def hp(img):
        g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return g - cv2.GaussianBlur(g, (0, 0), 6)

    corr = {k: float(np.corrcoef(hp(o)[region], stripes[region])[0, 1]) for k, o in (("fill", out_f), ("paint", out_p))}
    assert corr["fill"] > 0.45 and corr["fill"] > corr["paint"] + 0.2, corr


@pytest.mark.parametrize("colour, detail", [
    ((150.0, 140.0, 146.0), True),  # a wrinkle or a shaded fold: a touch darker, less colourful, same hue
    ((90.0, 140.0, 148.0), False),  # a dark brown strand of the same hue
    ((150.0, 129.0, 129.0), False),  # a grey lock
    ((150.0, 150.0, 130.0), False),  # another hue (a dyed strand)
])
def test_skin_detail_is_not_hair(colour, detail):
    """A non-skin patch inside the face that is nearly as light as the skin around it, of its hue and
    about as colourful (crow's feet, the shaded side of a dark-skinned face) is the skin's own detail,
    not hair to paint over; darker, grey or other-coloured patches still are hair."""
    from engine.skin import _skin_detail

    h, w, iod = 120, 120, 100.0
    lab = np.empty((h, w, 3), np.uint8)
    lab[:] = (160, 143, 152)
    labels = np.zeros((h, w), np.int32)
    labels[30:90, 50:60] = 1
    lab[labels == 1] = colour
    p = np.where(labels == 1, 0.1, 0.95).astype(np.float32)
    region = np.full((h, w), 255, np.uint8)
    assert _skin_detail(lab, labels, 1, p, region, iod) is detail


@pytest.mark.parametrize("user", ["synthetic_faces/sfhq_pt1_00002870.jpg", "faces/obama.jpg"])
def test_a_dim_photo_keeps_its_contrast(engine, user, monkeypatch):
    """A dim photo (-1.7 EV) has half the contrast of the same face lit well; the colour transfer's
    usual limit on stretching it left lashes, brows and eyes in a grey haze. Its detail now comes out
    close to the well-lit photo's (and clearly above what the usual limit gave)."""
    import engine.mesh_swap as ms

    scene = load("scenes/xverse_couple_mw_studio.jpg")
    target = engine.match_slots(scene, engine.suggest_slots(scene))[1]
    tlm = engine.landmarks(scene, target)
    photo = load(user)
    _, ulm = _face(engine, photo)
    dim = np.clip(photo.astype(np.float32) * 0.55, 0, 255).astype(np.uint8)

    def detail(u):
        out, info = MeshSwapper().swap_detailed(scene, tlm, u, ulm)
        L = cv2.cvtColor(out, cv2.COLOR_BGR2LAB)[..., 0].astype(np.float32)
        return float((L - cv2.GaussianBlur(L, (0, 0), 4))[info["mask"] > 0.9].std())

    lit, dimmed = detail(photo), detail(dim)
    monkeypatch.setattr(ms, "dim_photo_gain", lambda lab, skin: 1.0)
    capped = detail(dim)
    assert dimmed > 0.8 * lit and dimmed > 1.08 * capped, (lit, dimmed, capped)
    # a photo exposed normally is not touched
    lab = cv2.cvtColor(photo, cv2.COLOR_BGR2LAB).astype(np.float32)
    assert ms.dim_photo_gain(lab, np.ones(photo.shape[:2], np.float32)) == 1.0
