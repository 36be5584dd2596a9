"""Every file in the hostile corpus (tests/badfiles.py), through the web form and the partner API:
a clear 400-class answer naming the problem, or — for real photos in awkward shapes — accepted and
stored as a clean, upright JPEG. Never a 500; nothing left on disk for a refused upload."""

import io

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engine import decode_image, get_engine
from studio.models import Job, JobPhoto
from tests.badfiles import corpus
from tests.builders import build_concept, run_checks, upload

CORPUS = corpus()
IDS = [c[0] for c in CORPUS]
pytestmark = pytest.mark.django_db


@pytest.fixture
def concept(db):
    return build_concept()


def _files_under(root) -> list:
    return [p for p in root.rglob("*") if p.is_file() and "uploads" in p.parts] if root.exists() else []


def _check_stored(job: Job) -> None:
    photo = job.photos.get(person="a")
    data = photo.file.read()
    assert data[:2] == b"\xff\xd8", "stored upload is not a JPEG"
    assert b"<script" not in data and b"<html" not in data, "hostile payload survived"
    assert b"Exif\x00\x00" not in data[:4096], "EXIF (GPS, device) survived"
    img = decode_image(data)
    assert img.shape[0] >= img.shape[1], "portrait was not stored upright"
    assert len(get_engine().inspect(img)) == 1
    assert "/" not in photo.file.name.split("uploads/", 1)[1].split("/", 1)[1]  # no client path parts
    assert ".." not in photo.file.name and "passwd" not in photo.file.name


def _sentences(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value
    return [s for item in items for s in _sentences(item)]


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 40
    assert {c[3] for c in CORPUS} == {"ok", "reject", "check"}


@pytest.mark.parametrize(("name", "filename", "data", "expect"), CORPUS, ids=IDS)
def test_web_form(name, filename, data, expect, client, user, concept, _private_media,
                  django_capture_on_commit_callbacks):
    client.force_login(user)
    with django_capture_on_commit_callbacks(execute=True):  # the photo check is enqueued on commit
        response = client.post(
            reverse("studio:job-new"),
            {
                "concept": concept.slug,
                "photos_a": SimpleUploadedFile(filename, data, content_type="image/jpeg"),
                "photos_b": upload("biden.jpg"),
                "consent": "on",
                "partner_consent": "on",
            },
        )
    assert response.status_code < 500
    if expect == "ok":
        assert response.status_code == 302, response.content.decode()[:3000]
        _check_stored(Job.objects.get(user=user))
    elif expect == "check":  # stored, then refused by the photo check: the job page asks for another
        assert response.status_code == 302, response.content.decode()[:3000]
        run_checks()
        photo = Job.objects.get(user=user).photos.get(person="a")
        assert photo.verdict == "rejected" and photo.reject_code in ("no_face", "face_too_small")
    else:
        assert response.status_code == 400
        page = response.content.decode()
        assert "errorlist" in page or "field-error" in page or 'role="alert"' in page
        assert Job.objects.count() == 0 and JobPhoto.objects.count() == 0
        assert _files_under(_private_media) == []


@pytest.mark.parametrize(("name", "filename", "data", "expect"), CORPUS, ids=IDS)
def test_partner_api(name, filename, data, expect, django_user_model, concept, _private_media,
                     django_capture_on_commit_callbacks):
    partner = django_user_model.objects.create_user(email="partner@example.com", password="x-Partner-2026",
                                                    is_partner=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=partner).key}")
    with django_capture_on_commit_callbacks(execute=True):  # the photo check is enqueued on commit
        response = api.post(
            "/api/v1/jobs/",
            {
                "concept": concept.slug,
                "photos_a": [SimpleUploadedFile(filename, data, content_type="image/jpeg")],
                "photos_b": [upload("biden.jpg")],
                "consent": "true",
            },
            format="multipart",
        )
    assert response.status_code < 500
    if expect == "ok":
        assert response.status_code == 201, response.content.decode()[:2000]
        _check_stored(Job.objects.get(user=partner))
    elif expect == "check":  # accepted, then the job fails with the photo check's reason
        assert response.status_code == 201, response.content.decode()[:2000]
        run_checks()
        job = Job.objects.get(user=partner)
        assert job.status == Job.Status.FAILED and job.error_code in ("no_face", "face_too_small")
        assert _files_under(_private_media) == []
    else:
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert any(len(sentence) > 8 for sentence in _sentences(errors)), errors
        assert Job.objects.count() == 0 and JobPhoto.objects.count() == 0
        assert _files_under(_private_media) == []


def test_exif_orientation_is_applied_before_storing(client, user, concept):
    """Orientation 6 (phone held upright): the stored photo is the upright portrait."""
    face = Image.open(io.BytesIO(upload("grace_hopper.jpg").read())).convert("RGB")
    from tests.badfiles import _with_orientation

    client.force_login(user)
    response = client.post(
        reverse("studio:job-new"),
        {"concept": concept.slug, "photos_a": SimpleUploadedFile("o6.jpg", _with_orientation(face, 6)),
         "photos_b": upload("biden.jpg"), "consent": "on", "partner_consent": "on"},
    )
    assert response.status_code == 302
    stored = decode_image(Job.objects.get().photos.get(person="a").file.read())
    reference = np.asarray(face)[:, :, ::-1].astype(np.int16)
    assert stored.shape == reference.shape
    assert np.abs(stored.astype(np.int16) - reference).mean() < 6
