"""The engine benchmark's artifact measures react to the artifacts they are meant to catch
(real scene from the shipped demo pack, real face mesh; the numbers are not benchmark figures)."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import engine_metrics as em
from engine import Engine, decode_image

SCENE = Path(__file__).resolve().parents[3] / "gallery" / "demo_scenes" / "xverse_couple_mw_cheek.jpg"


@pytest.fixture(scope="module")
def face():
    eng = Engine(diagnostics=False)
    img = decode_image(SCENE.read_bytes())
    f = max(eng.inspect(img), key=lambda f: f.area)
    lm = eng.landmarks(img, f)
    assert lm is not None
    return img, np.asarray(lm.xy, np.float64)


def _inner(img, xy, shrink=0.15):
    """The face oval shrunk a little: a hard-edged 'paste' region fully on skin."""
    m = em.oval_mask(img.shape, xy)
    r = int(shrink * em.iod(xy))
    return cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) > 0


def test_an_untouched_face_has_no_paste_and_no_artifact(face):
    img, xy = face
    assert not em.paste_mask(img, img.copy(), xy).any()
    assert em.new_nonskin_fraction(img, img.copy(), xy)[0] == 0.0
    assert em.seam_strength(img, img.copy(), xy)[0] == 0.0


def test_red_paint_on_the_face_is_not_skin(face):
    img, xy = face
    out = img.copy()
    region = _inner(img, xy)
    out[region] = (0, 0, 255)  # BGR red
    frac, _ = em.new_nonskin_fraction(img, out, xy)
    assert frac > 0.6
    # a slight brightness change of the same skin is still skin
    out2 = img.copy()
    out2[region] = np.clip(img[region].astype(np.int16) + 6, 0, 255).astype(np.uint8)
    assert em.new_nonskin_fraction(img, out2, xy)[0] < 0.05


def test_a_dark_hard_edged_face_shows_a_seam_and_a_tone_step_a_feathered_match_does_not(face):
    img, xy = face
    region = _inner(img, xy).astype(np.float32)
    dark = img.astype(np.float32) * 0.6
    hard = (img * (1 - region[..., None]) + dark * region[..., None]).astype(np.uint8)
    soft_w = cv2.GaussianBlur(region, (0, 0), 0.15 * em.iod(xy))[..., None]
    # the same skin, slightly changed, blended in with a wide feather: what a good paste looks like
    near = np.clip(img.astype(np.float32) * 1.03, 0, 255)
    soft = (img * (1 - soft_w) + near * soft_w).astype(np.uint8)
    seam_hard, _ = em.seam_strength(img, hard, xy)
    seam_soft, _ = em.seam_strength(img, soft, xy)
    assert seam_hard > 1.0 > seam_soft
    step_hard, natural = em.tone_step(img, hard, xy)
    step_soft, _ = em.tone_step(img, soft, xy)
    assert step_hard > 10.0 > 3.0 > step_soft and natural >= 0.0


def test_landmark_error_is_relative_to_the_eye_distance(face):
    _, xy = face
    shifted = xy.copy()
    shifted[:, 0] += 0.05 * em.iod(xy)
    assert em.landmark_error(xy, xy) == 0.0
    assert abs(em.landmark_error(xy, shifted) - 0.05) < 1e-6


def test_tone_spill_sees_a_recoloured_shirt_not_recoloured_skin(face):
    """Tone transfer may recolour the person's skin; the spill measure stays near 0 for that and reads
    tens of grey levels when the same gain reaches the clothes and the background too."""
    img, xy = face
    assert em.tone_spill(img, img.copy(), xy) == 0.0
    skin = ~em.nonskin(img, em.skin_model(img, xy))
    darker = (img.astype(np.float32) * 0.7).astype(np.uint8)
    on_skin = img.copy()
    on_skin[skin] = darker[skin]
    assert em.tone_spill(img, on_skin, xy) < 3
    assert em.tone_spill(img, darker, xy) > 20


def test_cheek_lightness_follows_the_skin(face):
    img, xy = face
    base = em.cheek_lightness(img, xy)
    assert 40 < base < 95  # a lit face's skin, L* 0-100
    darker = (img.astype(np.float32) * 0.6).astype(np.uint8)
    assert em.cheek_lightness(darker, xy) < base - 10
