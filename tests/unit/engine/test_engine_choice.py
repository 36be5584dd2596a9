"""Premium: the photo pasted into each scene face is chosen by identity as well as pose (issue 16, item 4).

Three real photos of one person; the most frontal one has a dark bar over the eyes (sunglasses-like):
geometrically it is the best, but it shows the least of who they are. The engine must pick a photo
that looks like the person across all their photos (SFace cosine to their mean embedding)."""

from pathlib import Path

import cv2
import numpy as np

from engine import decode_image

from .conftest import load_portrait

SCENES = Path(__file__).resolve().parents[3] / ".." / "shared" / "testdata" / "scenes"


def _eye_bar(img: np.ndarray, engine) -> np.ndarray:
    face = max(engine.detector.detect(img), key=lambda f: f.box[2] * f.box[3])
    k, e = np.asarray(face.kps, float), face.eye_distance
    y = int((k[0, 1] + k[1, 1]) / 2)
    out = img.copy()
    cv2.rectangle(out, (int(k[0, 0] - 0.4 * e), y - int(0.2 * e)), (int(k[1, 0] + 0.4 * e), y + int(0.2 * e)),
                  (15, 15, 15), -1)
    return out


def test_premium_photo_choice_prefers_the_photo_that_looks_like_the_person(engine):
    barred = _eye_bar(load_portrait("obama.jpg"), engine)
    ident = engine.build_identity([barred, load_portrait("obama2.jpg"), load_portrait("obama3.jpg")], embed=True)
    typical = engine.identity_typicality(ident)
    assert ident.outliers == [] and set(typical) == {0, 1, 2}  # still the same person, but the least typical
    assert typical[0] < min(typical[1], typical[2]) - 0.05

    scene = decode_image((SCENES / "uniportrait_two_women_studio.png").read_bytes())
    for target in engine.detector.detect(scene):  # near-frontal scene faces: pose alone would pick photo 0
        tlm = engine.landmarker.landmarks(scene, target)
        assert tlm is not None
        assert engine.choose_source(target, tlm, ident, scene.shape) != 0


def test_identity_cannot_choose_between_two_photos(engine):
    # with two photos both are equally close to their mean: identity gives no preference, pose decides
    ident = engine.build_identity([load_portrait("obama2.jpg"), load_portrait("obama3.jpg")], embed=True)
    assert engine.identity_typicality(ident) == {}
