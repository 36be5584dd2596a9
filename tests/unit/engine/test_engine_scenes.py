"""Demo scene composition: the person is cut out along their own outline, not an ellipse that drags
the portrait's background along."""

import numpy as np

from engine import get_engine
from engine.scenes import _person_segmentation

from .conftest import load_portrait


def test_segmentation_keeps_the_person_and_drops_the_background():
    img = load_portrait("obama.jpg")
    mask = _person_segmentation(img)
    assert mask is not None and mask.shape == img.shape[:2]
    face = max(get_engine().inspect(img), key=lambda f: f.box[2] * f.box[3])
    cx, cy = (int(v) for v in face.center)
    assert mask[cy, cx] > 0.9  # the face is kept
    assert float(np.mean(mask[:40, :40])) < 0.1 and float(np.mean(mask[:40, -40:])) < 0.1  # the office is not
