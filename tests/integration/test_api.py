"""Partner REST API against a real redis-server, real images and (once) a real rq burst worker."""

import io
from pathlib import Path

import django_rq
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import ConsentRecord
from studio.models import Job, JobPhoto
from tests.builders import build_concept, run_checks, run_worker, upload

CONCEPTS = "/api/v1/concepts/"
JOBS = "/api/v1/jobs/"


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.fixture
def partner(django_user_model, password):
    return django_user_model.objects.create_user(email="partner@studio.example", password=password, is_partner=True)


@pytest.fixture
def other_partner(django_user_model, password):
    return django_user_model.objects.create_user(email="rival@studio.example", password=password, is_partner=True)


@pytest.fixture
def api(partner) -> APIClient:
    return _client(partner)


def _post_job(api, concept, photos_a, photos_b, consent="true", **extra):
    data = {"concept": concept.slug, "photos_a": photos_a, "photos_b": photos_b}
    if consent is not None:
        data["consent"] = consent
    return api.post(JOBS, data, format="multipart", **extra)


def _stored_uploads() -> list[Path]:
    root = Path(settings.PRIVATE_MEDIA_ROOT) / "uploads"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- auth -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_required(client, partner):
    response = APIClient().get(CONCEPTS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated" and response.json()["status"] == 401
    # a browser session is no substitute for the token
    client.force_login(partner)
    assert client.get(CONCEPTS).status_code == 401


@pytest.mark.django_db
def test_non_partner_gets_403_with_message(user):
    response = _client(user).get(CONCEPTS, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "not_partner" and "partner" in body["detail"]
    assert body["type"] == "urn:loveloveshot:problem:not_partner" and body["title"] == "Partner access required"


# --- concepts -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_concepts_list(api):
    concept = build_concept()
    scene = concept.scenes.get()
    response = api.get(CONCEPTS)
    assert response.status_code == 200
    [item] = response.json()
    assert item["slug"] == "film-date"
    assert item["name_ko"] == "필름 데이트" and item["name_en"] == "Film Date"
    [scene_out] = item["scenes"]
    assert scene_out["id"] == str(scene.public_id)
    assert scene_out["thumb"] == f"http://testserver/scenes/{scene.public_id}/thumb.jpg"
    thumb = api.get(scene_out["thumb"])
    assert thumb.status_code == 200
    assert b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"


# --- jobs -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_job_lifecycle_queue_worker_results_and_ownership(api, partner, other_partner):
    concept = build_concept()
    scene = concept.scenes.get()

    response = _post_job(api, concept, [upload("obama.jpg")], [upload("grace_hopper.jpg")])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "checking"
    assert response["Location"] == f"http://testserver/api/v1/jobs/{body['id']}/"
    assert [(p["person"], p["verdict"]) for p in body["photos"]] == [("a", "pending"), ("b", "pending")]
    job = Job.objects.get(public_id=body["id"])
    assert job.user == partner and job.source == Job.Source.API
    assert job.consent.partner_confirmed and job.consent.ip_address == "127.0.0.1"
    assert job.consent.terms_version == settings.TERMS_VERSION
    assert job.photos.count() == 2

    detail_url = f"{JOBS}{job.public_id}/"
    run_checks()  # the photo checks (worker side) pass: the job is queued for the swap
    queue = django_rq.get_queue("swap")
    assert queue.get_job_ids() == [f"swap-{job.public_id}"]
    state = api.get(detail_url).json()
    assert state["status"] == "queued" and state["position"] == 1 and state["results"] == []
    assert [p["verdict"] for p in state["photos"]] == ["ok", "ok"]

    listing = api.get(JOBS, {"limit": 10}).json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == str(job.public_id)

    run_worker()

    state = api.get(detail_url).json()
    assert state["status"] == "done", state
    assert state["pct"] == 100 and state["position"] is None and state["code"] is None
    [result] = state["results"]
    assert result["url"] == f"http://testserver/api/v1/results/{result['id']}/image"
    assert result["thumb"] == f"http://testserver/api/v1/results/{result['id']}/thumb"

    image = api.get(result["url"], HTTP_ACCEPT="image/jpeg")
    assert image.status_code == 200
    assert image["Content-Type"] == "image/jpeg"
    data = b"".join(image.streaming_content)
    assert data[:2] == b"\xff\xd8"
    with scene.image.open("rb") as fh:
        scene_size = Image.open(io.BytesIO(fh.read())).size
    with Image.open(io.BytesIO(data)) as img:
        assert img.format == "JPEG"
        assert img.size == scene_size
    thumb = api.get(result["thumb"])
    assert thumb.status_code == 200 and b"".join(thumb.streaming_content)[:2] == b"\xff\xd8"

    # Another partner: the job and its results do not exist for them.
    rival = _client(other_partner)
    assert rival.get(detail_url).status_code == 404
    assert rival.get(result["url"]).status_code == 404
    assert rival.get(result["thumb"]).status_code == 404
    assert rival.get(JOBS).json()["count"] == 0
    # No token, no file.
    assert APIClient().get(result["url"]).status_code == 401


@pytest.mark.django_db
def test_not_an_image_is_rejected_per_file_and_stores_nothing(api):
    concept = build_concept()
    fake = SimpleUploadedFile("notes.jpg", b"this is not a photo at all" * 100, content_type="image/jpeg")
    response = _post_job(api, concept, [fake], [upload("grace_hopper.jpg")], HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error" and body["status"] == 400
    errors = body["errors"]
    assert list(errors) == ["photos_a"]
    [message] = errors["photos_a"]
    assert "notes.jpg" in message and "could not be read as a photo" in message
    assert Job.objects.count() == 0
    assert JobPhoto.objects.count() == 0
    assert _stored_uploads() == []

    # English without Accept-Language (partners are developers), Korean on request
    fake.seek(0)
    response = _post_job(api, concept, [fake], [upload("grace_hopper.jpg")])
    assert response.status_code == 400 and "could not be read as a photo" in response.json()["errors"]["photos_a"][0]
    assert response["Content-Language"] == "en"
    fake.seek(0)
    response = _post_job(api, concept, [fake], [upload("grace_hopper.jpg")], HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9")
    assert response.status_code == 400
    assert "사진으로 읽을 수 없어요" in response.json()["errors"]["photos_a"][0]
    assert response["Content-Language"] == "ko"
    assert Job.objects.count() == 0 and _stored_uploads() == []


@pytest.mark.django_db
def test_missing_or_false_consent_is_400(api):
    concept = build_concept()
    for consent in (None, "false"):
        response = _post_job(
            api, concept, [upload("obama.jpg")], [upload("grace_hopper.jpg")], consent=consent,
            HTTP_ACCEPT_LANGUAGE="en",
        )
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["consent"]
    assert Job.objects.count() == 0 and ConsentRecord.objects.count() == 0


@pytest.mark.django_db
def test_input_validation_messages(api):
    response = api.post(JOBS, {"concept": "nope", "consent": "true"}, format="multipart")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {"photos_a", "photos_b"} <= set(errors)

    concept = build_concept()
    too_many = [upload("obama.jpg") for _ in range(6)]
    response = _post_job(api, concept, too_many, [upload("grace_hopper.jpg")])
    assert response.status_code == 400 and "photos_a" in response.json()["errors"]

    # standard plan: exactly one photo per person, enforced by studio.services.job_create
    response = _post_job(api, concept, [upload("obama.jpg"), upload("obama2.jpg")], [upload("grace_hopper.jpg")],
                         HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "exactly 1 photo" in response.json()["errors"]["photos_a"][0]

    response = api.post(
        JOBS,
        {"concept": "unknown", "consent": "true", "photos_a": [upload("obama.jpg")], "photos_b": [upload("biden.jpg")]},
        format="multipart",
    )
    assert response.status_code == 400 and list(response.json()["errors"]) == ["concept"]
    assert Job.objects.count() == 0


@pytest.mark.django_db
def test_unknown_job_and_result_are_404(api):
    zero = "00000000-0000-0000-0000-000000000000"
    for url in (f"{JOBS}{zero}/", f"/api/v1/results/{zero}/image", "/api/v1/no-such-thing/"):
        response = api.get(url)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "not_found"


# --- schema ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_schema_and_docs(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for p in ("/api/v1/concepts/", "/api/v1/jobs/", "/api/v1/jobs/{public_id}/", "/api/v1/results/{public_id}/image",
              "/api/v1/jobs/{public_id}/cancel/", "/api/v1/jobs/{public_id}/retry/", "/api/v1/results/",
              "/api/v1/jobs/{public_id}/results/", "/api/v1/webhooks/", "/api/v1/webhooks/rotate-secret/"):
        assert p in text
    # no developer notes from docstrings; every error documented as problem+json, with 429/Retry-After
    assert "JobListApi" not in text and "JobCreateApi" not in text and "HackSoft" not in text
    assert "application/problem+json" in text and "Idempotency-Key" in text
    assert "job_quota_exceeded" in text and "request_too_large" in text and "RateLimit-Remaining" in text
    assert "multipart/form-data" in text and "format: binary" in text
    assert client.get("/api/docs/").status_code == 200


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
