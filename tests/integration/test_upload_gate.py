"""The upload quality gate as the studio form and the API use it (studio.uploads.photos_check):
each refusal is one sentence per file, in Korean by default and in English on request."""

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation

from engine import compose_scene, decode_image
from studio.messages import ERROR_MESSAGES, error_message, note_message
from studio.uploads import photos_check
from tests.builders import portrait_bytes, upload


def _jpeg(img, name):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return SimpleUploadedFile(name, buf.tobytes(), content_type="image/jpeg")


def _img(name):
    return decode_image(portrait_bytes(name))


def _check(photos, plan="standard", lang="ko"):
    with translation.override(lang):
        return photos_check(photos=photos, plan=plan, label="A")


def test_good_photo_passes():
    checked, errors = _check([upload("obama.jpg")])
    assert errors == [] and len(checked) == 1 and checked[0].faces == 1 and checked[0].notes == []
    assert checked[0].image is None  # decoded pixels are not kept


@pytest.mark.parametrize("lang,word", [("ko", "흐려"), ("en", "blurred")])
def test_blurred_photo_is_refused_in_the_users_language(lang, word):
    img = _img("obama.jpg")
    blurred = cv2.GaussianBlur(img, (0, 0), 5.0)
    _, errors = _check([_jpeg(blurred, "soft.jpg")], lang=lang)
    assert len(errors) == 1 and "soft.jpg" in errors[0] and word in errors[0]


def test_two_faces_are_refused_and_a_background_face_is_noted():
    scene = compose_scene(_img("obama.jpg"), _img("biden.jpg"), "film")
    _, errors = _check([_jpeg(scene, "couple.jpg")])
    assert len(errors) == 1 and "얼굴이 여러 개" in errors[0]

    img = _img("obama.jpg")
    small = cv2.resize(_img("grace_hopper.jpg"), None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    img[-small.shape[0]:, -small.shape[1]:] = small
    with translation.override("en"):
        checked, errors = photos_check(photos=[_jpeg(img, "crowd.jpg")], plan="standard", label="A")
    assert errors == [] and checked[0].faces == 2
    assert checked[0].notes == ["This photo shows more than one face; we used the largest one (in the middle)."]


def test_small_face_follows_the_setting():
    with override_settings(UPLOAD_MIN_EYE_DISTANCE=80):
        _, errors = _check([upload("astronaut.png", content_type="image/png")], lang="en")
    assert len(errors) == 1 and "80 pixels between the eyes" in errors[0]
    with override_settings(UPLOAD_MIN_EYE_DISTANCE=40):
        _, errors = _check([upload("astronaut.png", content_type="image/png")])
    assert errors == []


def test_premium_photos_of_another_person_are_refused():
    photos = [upload("obama.jpg"), upload("obama2.jpg"), upload("obama3.jpg"), upload("biden.jpg", "friend.jpg")]
    checked, errors = _check(photos, plan="premium")
    assert len(errors) == 1 and "friend.jpg" in errors[0] and "같은 사람" in errors[0]
    _, errors = _check(photos[:3], plan="premium")
    assert errors == []


def test_no_face_still_refused():
    blank = np.full((600, 600, 3), 200, np.uint8)
    _, errors = _check([_jpeg(blank, "wall.jpg")], lang="en")
    assert len(errors) == 1 and "could not find a face" in errors[0]


def test_every_gate_code_has_a_sentence_in_both_languages():
    for code in ("no_face", "multiple_faces", "face_too_small", "blurry", "profile", "eyes_closed", "not_same_person"):
        assert code in ERROR_MESSAGES
        with translation.override("en"):
            en = error_message(code)
        with translation.override("ko"):
            ko = error_message(code)
        assert en and ko and en != ko, code
        assert any("\uac00" <= ch <= "\ud7a3" for ch in ko), code
    with translation.override("ko"):
        assert "가운데" in note_message("multiple_faces_used", position="center")
