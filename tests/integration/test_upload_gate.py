"""The upload quality gate as the photo check runs it on the worker side (gpu_worker.checks, queue
"check", after the submit request stored the photos): each refusal is a code whose sentence the job
page shows next to the photo, in Korean by default and in English on request."""

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation

from engine import compose_scene, decode_image
from gpu_worker.checks import gate_engine, photo_verdict
from studio.messages import ERROR_MESSAGES, error_message, note_message
from tests.builders import portrait_bytes, upload


def _jpeg(img, name):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return SimpleUploadedFile(name, buf.tobytes(), content_type="image/jpeg")


def _img(name):
    return decode_image(portrait_bytes(name))


def _check(photo, lang="ko"):
    """(code, sentence, gate result) for one uploaded file, as the check task decides it."""
    photo.seek(0)
    code, gate = photo_verdict(gate_engine(), decode_image(photo.read()))
    with translation.override(lang):
        return code, (error_message(code) if code else ""), gate


def test_good_photo_passes():
    code, _, gate = _check(upload("obama.jpg"))
    assert code is None and gate.faces == 1 and gate.notes == []


@pytest.mark.parametrize("lang,word", [("ko", "흐려"), ("en", "blurred")])
def test_blurred_photo_is_refused_in_the_users_language(lang, word):
    img = _img("obama.jpg")
    blurred = cv2.GaussianBlur(img, (0, 0), 5.0)
    code, sentence, _ = _check(_jpeg(blurred, "soft.jpg"), lang=lang)
    assert code == "blurry" and word in sentence


@pytest.mark.parametrize("lang,words", [("ko", ("흑백", "하얗게", "어두워서")), ("en", ("black-and-white", "washed out",
                                                                                 "too dark"))])
def test_black_and_white_washed_out_and_dark_photos_each_say_why(lang, words):
    """They used to be refused as 'something covers your face' or as 'blurred', or accepted and came
    out grey; each now says what is wrong with the photo."""
    img = _img("obama.jpg")
    gray = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    f = img.astype(np.float32)
    cases = [("no_colour", gray), ("overexposed", np.clip(f * 2.0 + 40, 0, 255).astype(np.uint8)),
             ("too_dark", np.clip(f * 0.3, 0, 255).astype(np.uint8))]
    for (want, photo), word in zip(cases, (words[0], words[1], words[2]), strict=True):
        code, sentence, _ = _check(_jpeg(photo, f"{want}.jpg"), lang=lang)
        assert code == want and word in sentence, (want, code, sentence)


def test_two_faces_are_refused_and_a_background_face_is_noted():
    scene = compose_scene(_img("obama.jpg"), _img("biden.jpg"), "film")
    code, sentence, _ = _check(_jpeg(scene, "couple.jpg"))
    assert code == "multiple_faces" and "얼굴이 여러 개" in sentence

    img = _img("obama.jpg")
    small = cv2.resize(_img("grace_hopper.jpg"), None, fx=0.35, fy=0.35, interpolation=cv2.INTER_AREA)
    img[-small.shape[0]:, -small.shape[1]:] = small
    code, _, gate = _check(_jpeg(img, "crowd.jpg"))
    assert code is None and gate.faces == 2 and gate.notes == ["multiple_faces_used"]
    with translation.override("en"):
        note = note_message("multiple_faces_used", position=gate.position)
    assert note == "This photo shows more than one face; we used the largest one (in the middle)."


def test_small_face_follows_the_setting():
    with override_settings(UPLOAD_MIN_EYE_DISTANCE=80):
        code, sentence, _ = _check(upload("astronaut.png", content_type="image/png"), lang="en")
    assert code == "face_too_small" and "80 pixels between the eyes" in sentence
    with override_settings(UPLOAD_MIN_EYE_DISTANCE=40):
        code, _, _ = _check(upload("astronaut.png", content_type="image/png"))
    assert code is None


def test_no_face_still_refused():
    blank = np.full((600, 600, 3), 200, np.uint8)
    code, sentence, _ = _check(_jpeg(blank, "wall.jpg"), lang="en")
    assert code == "no_face" and "could not find a face" in sentence


def test_every_gate_code_has_a_sentence_in_both_languages():
    for code in ("no_face", "multiple_faces", "face_too_small", "blurry", "profile", "eyes_closed", "overexposed",
                 "no_colour", "too_dark", "occluded", "not_same_person"):
        assert code in ERROR_MESSAGES
        with translation.override("en"):
            en = error_message(code)
        with translation.override("ko"):
            ko = error_message(code)
        assert en and ko and en != ko, code
        assert any("\uac00" <= ch <= "\ud7a3" for ch in ko), code
    with translation.override("ko"):
        assert "가운데" in note_message("multiple_faces_used", position="center")
