"""The Django-free labelling primitives on real images: invisible mark robustness and invisibility,
XMP/EXIF packets, C2PA signing with a locally generated certificate, the visible corner label."""

import uuid

import cv2
import numpy as np
import pytest

from engine import compose_scene, decode_image, encode_jpeg, provenance
from tests.conftest import faces_dir


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    left = decode_image((faces_dir() / "grace_hopper.jpg").read_bytes())
    right = decode_image((faces_dir() / "biden.jpg").read_bytes())
    return compose_scene(left, right, style="film")


def _jpeg(img, quality):
    return cv2.imdecode(np.frombuffer(encode_jpeg(img, quality=quality), np.uint8), cv2.IMREAD_COLOR)


def test_invisible_mark_is_invisible_and_survives_jpeg_downscale_and_crop(scene):
    rid = uuid.uuid4()
    payload = provenance.payload_for(rid)
    marked = provenance.embed_mark(scene, payload)
    assert provenance.psnr(scene, marked) >= 40.0
    h, w = marked.shape[:2]
    attacks = {
        "clean": marked,
        "jpeg75": _jpeg(marked, 75),
        "half": cv2.resize(marked, (w // 2, h // 2), interpolation=cv2.INTER_AREA),
        "crop10": marked[int(h * 0.04) : int(h * 0.04) + int(h * 0.9), int(w * 0.07) : int(w * 0.07) + int(w * 0.9)],
    }
    for name, img in attacks.items():
        reading = provenance.read_mark(img)
        assert reading.found and reading.payload == payload, name
        assert str(rid).startswith(reading.prefix), name


def test_unmarked_image_reads_as_no_mark(scene):
    assert not provenance.read_mark(scene).found
    assert not provenance.read_mark(_jpeg(scene, 75)).found


def test_xmp_and_exif_say_ai_edited():
    img = np.full((64, 96, 3), 120, np.uint8)
    rid = str(uuid.uuid4())
    jpeg = provenance.add_metadata(encode_jpeg(img), result_id=rid)
    meta = provenance.read_metadata(jpeg)
    assert meta.digital_source_type == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
    )
    assert meta.ai_labelled and "AI-edited" in meta.exif_note and "AI-edited" in meta.exif_user_comment
    assert decode_image(jpeg).shape == img.shape  # still a valid JPEG
    # applying it twice replaces rather than stacks
    again = provenance.add_metadata(jpeg, result_id=rid)
    assert len(again) == len(jpeg)
    assert not provenance.read_metadata(encode_jpeg(img)).ai_labelled


def test_c2pa_manifest_signed_with_a_local_test_certificate(scene):
    if not provenance.c2pa_available():
        pytest.skip("c2pa-python is not installed")
    rid = str(uuid.uuid4())
    jpeg = provenance.add_metadata(encode_jpeg(scene), result_id=rid)
    signed = provenance.c2pa_sign(jpeg, credentials=provenance.generate_test_credentials(), result_id=rid)
    reading = provenance.c2pa_read(signed)
    assert reading.present and reading.error is None
    assert reading.digital_source_type == provenance.DIGITAL_SOURCE_TYPE
    assert reading.result_id == rid
    assert "LoveLoveShot" in reading.signer
    # only "untrusted" (a local test CA) — the signature and the hash binding verify
    assert set(reading.validation) <= {"signingCredential.untrusted"}
    # the XMP/EXIF labels survive signing
    assert provenance.read_metadata(signed).ai_labelled
    # tampering with the pixels breaks the hard binding
    tampered = bytearray(signed)
    tampered[-200] ^= 0xFF
    codes = provenance.c2pa_read(bytes(tampered)).validation
    assert any("mismatch" in code or "hash" in code.lower() for code in codes), codes
    assert not provenance.c2pa_read(jpeg).present


def test_visible_mark_is_a_corner_label_in_the_language(scene):
    ko = provenance.add_visible_mark(scene, provenance.visible_text("ko"))
    en = provenance.add_visible_mark(scene, provenance.visible_text("en"))
    assert provenance.visible_text("ko") == "AI 합성 · LoveLoveShot"
    assert provenance.visible_text("en-us") == "AI-edited · LoveLoveShot"
    h, w = scene.shape[:2]
    changed = np.any(ko != scene, axis=2)
    ys, xs = np.nonzero(changed)
    assert ys.min() > h * 0.85 and xs.min() > w * 0.6  # bottom-right corner only
    assert changed.mean() < 0.02  # tasteful: under 2 % of the picture
    assert not np.array_equal(ko, en)
