"""Partner API v1 (issue 15, issue 13 items 1 and 14): Idempotency-Key, cancel/retry/delete, results,
one problem+json error format (400/401/403/404/405/409/413/429/500), RateLimit-* headers, the
partner's plan. Real redis-server, real images, real rq workers for the photo checks and swaps."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from gallery.models import Result
from studio.models import Job
from tests.builders import build_concept, run_checks, run_worker, upload

JOBS = "/api/v1/jobs/"
PROBLEM = "application/problem+json"


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def partner(django_user_model, password):
    return django_user_model.objects.create_user(email="partner@studio.example", password=password, is_partner=True)


@pytest.fixture
def api(partner) -> APIClient:
    return _client(partner)


def _files(a=("obama.jpg",), b=("grace_hopper.jpg",)):
    return [upload(n) for n in a], [upload(n) for n in b]


def _post(api, concept, a=("obama.jpg",), b=("grace_hopper.jpg",), key=None, **extra):
    photos_a, photos_b = _files(a, b)
    data = {"concept": concept.slug, "photos_a": photos_a, "photos_b": photos_b, "consent": "true"}
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return api.post(JOBS, data, format="multipart", **extra)


def _faceless_jpeg() -> bytes:
    """A real JPEG photo of a plain wall: decodes fine, has no face."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    pixels = (np.linspace(60, 200, 480)[None, :, None] + rng.normal(0, 6, (360, 480, 3))).clip(0, 255)
    buf = io.BytesIO()
    Image.fromarray(pixels.astype("uint8")).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"urn:loveloveshot:problem:{code}"
    assert body["title"] and body["detail"]
    return body


# --- Idempotency-Key ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_idempotency_key_same_body_same_job_different_body_409(api):
    concept = build_concept()
    first = _post(api, concept, key="order-1")
    assert first.status_code == 201, first.content
    again = _post(api, concept, key="order-1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Job.objects.count() == 1

    # same key, other photo → refused, nothing created
    other = _post(api, concept, a=("obama2.jpg",), key="order-1", HTTP_ACCEPT_LANGUAGE="en")
    body = _assert_problem(other, 409, "idempotency_key_reused")
    assert "different request" in body["detail"]
    assert Job.objects.count() == 1

    # another key, or no key: a new job each time
    assert _post(api, concept, key="order-2").status_code == 201
    assert _post(api, concept).status_code == 201
    assert Job.objects.count() == 3


@pytest.mark.django_db
def test_idempotency_key_is_released_when_the_request_fails(api):
    concept = build_concept()
    bad = api.post(JOBS, {"concept": concept.slug, "photos_a": [SimpleUploadedFile("x.jpg", b"not a photo" * 50)],
                          "photos_b": [upload("biden.jpg")], "consent": "true"},
                   format="multipart", HTTP_IDEMPOTENCY_KEY="k-1")
    _assert_problem(bad, 400, "validation_error")
    # the partner fixes the photo and retries with the same key: that is a new request, not a conflict
    assert _post(api, concept, key="k-1").status_code == 201


@pytest.mark.django_db(transaction=True)
def test_idempotency_two_concurrent_requests_make_one_job(partner):
    concept = build_concept()
    responses = []
    barrier = threading.Barrier(2)

    def send():
        client = _client(partner)
        photos_a, photos_b = _files()
        data = {"concept": concept.slug, "photos_a": photos_a, "photos_b": photos_b, "consent": "true"}
        barrier.wait()
        responses.append(client.post(JOBS, data, format="multipart", HTTP_IDEMPOTENCY_KEY="same"))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(r.status_code for r in responses) == [200, 201], [r.content for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Job.objects.count() == 1


# --- cancel / retry / delete / results ------------------------------------------------------------


@pytest.mark.django_db
def test_cancel_then_cancel_again_is_409(api):
    concept = build_concept()
    job_id = _post(api, concept).json()["id"]
    response = api.post(f"{JOBS}{job_id}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["photos"] == []  # uploads deleted at once
    _assert_problem(api.post(f"{JOBS}{job_id}/cancel/"), 409, "job_not_cancellable")
    _assert_problem(api.post(f"{JOBS}{job_id}/retry/"), 409, "job_not_retryable")


@pytest.mark.django_db(transaction=True)
def test_done_job_results_list_and_delete_removes_files(api, _private_media):
    concept = build_concept()
    created = _post(api, concept)
    job_id = created.json()["id"]
    run_worker()
    state = api.get(f"{JOBS}{job_id}/").json()
    assert state["status"] == "done", state

    per_job = api.get(f"{JOBS}{job_id}/results/").json()
    everything = api.get("/api/v1/results/").json()
    assert per_job["count"] == everything["count"] == len(state["results"]) >= 1
    item = per_job["results"][0]
    assert item["job"] == job_id and item["concept"] == concept.slug
    assert item["url"] == f"http://testserver/api/v1/results/{item['id']}/image"
    assert api.get(item["url"]).status_code == 200

    result_files = [p for p in _private_media.rglob("*") if p.is_file() and "results" in p.parts]
    assert result_files
    response = api.delete(f"{JOBS}{job_id}/")
    assert response.status_code == 204 and response.content == b""
    assert not Job.objects.filter(public_id=job_id).exists() and Result.objects.count() == 0
    assert not [p for p in result_files if p.exists()]
    _assert_problem(api.get(f"{JOBS}{job_id}/"), 404, "not_found")
    _assert_problem(api.get(item["url"]), 404, "not_found")


@pytest.mark.django_db(transaction=True)
def test_a_done_job_lists_the_photo_checks_notes(api):
    """Person A's photo has a lock of hair over one brow: accepted, and the job says so in ``notes``
    (code and sentence, in the request's language) after the uploads are deleted; B's has none."""
    concept = build_concept()
    created = _post(api, concept, a=("../synthetic_faces/sfhq_pt1_00002921.jpg",), HTTP_ACCEPT_LANGUAGE="en")
    job_id = created.json()["id"]
    assert created.json()["notes"] == []
    run_worker()
    state = api.get(f"{JOBS}{job_id}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert state["status"] == "done" and state["photos"] == [], state
    assert [(n["person"], n["code"]) for n in state["notes"]] == [("a", "hair_over_brows")]
    assert "forehead" in state["notes"][0]["text"]
    ko = api.get(f"{JOBS}{job_id}/", HTTP_ACCEPT_LANGUAGE="ko").json()
    assert "이마" in ko["notes"][0]["text"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.django_db(transaction=True)
def test_failed_job_can_be_retried_over_the_api(api, settings):
    concept = build_concept()
    job_id = _post(api, concept).json()["id"]
    run_checks()
    job = Job.objects.get(public_id=job_id)
    from studio.services import job_fail, job_start

    job_fail(job=job_start(job=job), code="internal", detail="test")
    assert api.get(f"{JOBS}{job_id}/").json()["can_retry"] is True
    response = api.post(f"{JOBS}{job_id}/retry/")
    assert response.status_code == 200 and response.json()["status"] == "queued"


@pytest.mark.django_db
def test_other_partners_get_404_on_every_action(api, partner, django_user_model):
    concept = build_concept()
    job_id = _post(api, concept).json()["id"]
    rival = _client(django_user_model.objects.create_user(email="rival@x.example", password="x-Rival-2026",
                                                          is_partner=True))
    for method, url in (("get", f"{JOBS}{job_id}/"), ("delete", f"{JOBS}{job_id}/"),
                        ("post", f"{JOBS}{job_id}/cancel/"), ("post", f"{JOBS}{job_id}/retry/"),
                        ("get", f"{JOBS}{job_id}/results/")):
        _assert_problem(getattr(rival, method)(url), 404, "not_found")
    assert Job.objects.get(public_id=job_id).status == "checking"


# --- plan -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_partner_plan_decides_photo_counts(api, partner):
    concept = build_concept()
    three = ("obama.jpg", "obama2.jpg", "obama3.jpg")
    body = _assert_problem(_post(api, concept, a=three, b=three), 400, "validation_error")
    assert "exactly 1 photo" in body["errors"]["photos_a"][0]

    partner.plan = "premium"
    partner.save(update_fields=["plan"])
    response = _post(api, concept, a=three, b=("biden.jpg", "biden.jpg", "biden.jpg"))
    assert response.status_code == 201, response.content
    assert response.json()["plan"] == "premium" and len(response.json()["photos"]) == 6
    assert Job.objects.get(public_id=response.json()["id"]).plan == "premium"


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_oversized_field_and_too_many_fields_answer_json(api, settings):
    """Issue 13 item 14: never Django's HTML page for the API."""
    big = api.post(JOBS, {"concept": "x" * (8 * 1024 * 1024)}, format="multipart")
    body = _assert_problem(big, 413, "request_too_large")
    assert body["limit"] == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    many = api.post(JOBS, {f"f{i}": "1" for i in range(2000)}, format="multipart")
    body = _assert_problem(many, 400, "too_many_fields")
    assert body["limit"] == settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    urlencoded = api.post(JOBS, "&".join(f"f{i}=1" for i in range(2000)),
                          content_type="application/x-www-form-urlencoded")
    _assert_problem(urlencoded, 400, "too_many_fields")


@pytest.mark.django_db
def test_oversize_content_length_answers_problem_json_413_before_reading(api, settings):
    """The request-size middleware (first in MIDDLEWARE) speaks the API's format under /api/: a
    problem+json 413 with the limit, English by default, Korean on request. The Content-Length says
    60 MB but only 10 bytes follow, so the 413 proves the body was never read."""
    sixty_mb = 60 * 1024 * 1024
    assert settings.UPLOAD_MAX_REQUEST_BYTES < sixty_mb

    def oversize(**extra):
        return api.generic("POST", JOBS, b"0123456789", content_type="multipart/form-data; boundary=xyz",
                           CONTENT_LENGTH=str(sixty_mb), **extra)

    body = _assert_problem(oversize(), 413, "request_too_large")
    assert body["limit"] == settings.UPLOAD_MAX_REQUEST_BYTES
    assert f"{settings.UPLOAD_MAX_REQUEST_BYTES // (1024 * 1024)} MB" in body["detail"]
    assert "too large" in body["detail"]
    korean = oversize(HTTP_ACCEPT_LANGUAGE="ko")
    body = _assert_problem(korean, 413, "request_too_large")
    assert korean["Content-Language"] == "ko" and "too large" not in body["detail"]
    # the same answer without a token (the size check runs before authentication)
    _assert_problem(APIClient().generic("POST", "/api/v1/webhooks/", b"{}", content_type="application/json",
                                        CONTENT_LENGTH=str(sixty_mb)), 413, "request_too_large")


@pytest.mark.django_db
def test_405_415_and_validation_errors_share_the_format(api):
    _assert_problem(api.put(JOBS, {}), 405, "method_not_allowed")
    _assert_problem(api.post(JOBS, "{}", content_type="text/plain"), 415, "unsupported_media_type")
    body = _assert_problem(api.post(JOBS, {"consent": "false"}, format="multipart"), 400, "validation_error")
    assert {"concept", "photos_a", "photos_b", "consent"} <= set(body["errors"])
    _assert_problem(APIClient().get(JOBS, HTTP_AUTHORIZATION="Token nope"), 401, "authentication_failed")
    # the sentence follows Accept-Language; the code does not
    body = _assert_problem(api.get("/api/v1/nothing-here/", HTTP_ACCEPT_LANGUAGE="ko"), 404, "not_found")
    assert body["detail"] == "찾을 수 없어요."
    body = _assert_problem(api.post(JOBS, {"consent": "true"}, format="multipart", HTTP_ACCEPT_LANGUAGE="ko"),
                           400, "validation_error")
    assert body["detail"].startswith("일부 항목이 올바르지 않아요")
    body = _assert_problem(api.get(JOBS, {"limit": "0"}, HTTP_ACCEPT_LANGUAGE="en"), 400, "validation_error")
    assert body["errors"] == {"limit": ["Must be one whole number 1..100."]}


@pytest.mark.django_db
def test_unexpected_error_is_a_problem_500(api, monkeypatch):
    import studio.api

    def boom(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(studio.api, "job_list", boom)
    client = api
    client.raise_request_exception = False
    body = _assert_problem(client.get(JOBS), 500, "server_error")
    assert "disk on fire" not in body["detail"]


@pytest.mark.django_db(transaction=True)
def test_quota_refusals_are_429_with_retry_after_never_400_or_500(partner, settings):
    """Issue 13 item 1 (API side): a burst over the quota, including the race inside job_create."""
    settings.JOB_QUOTAS = {**settings.JOB_QUOTAS, "partner": {"active": 2, "per_hour": 600}}
    concept = build_concept()
    responses = []
    barrier = threading.Barrier(6)

    def send():
        client = _client(partner)
        photos_a, photos_b = _files()
        data = {"concept": concept.slug, "photos_a": photos_a, "photos_b": photos_b, "consent": "true"}
        barrier.wait()
        responses.append(client.post(JOBS, data, format="multipart", HTTP_ACCEPT_LANGUAGE="ko"))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 201, 429, 429, 429, 429], [r.content for r in responses]
    for r in responses:
        if r.status_code == 429:
            body = _assert_problem(r, 429, "job_quota_exceeded")
            assert int(r["Retry-After"]) >= 1 and body["retry_after"] == int(r["Retry-After"])
            assert "2" in body["detail"] and r["Content-Language"] == "ko"
    assert Job.objects.count() == 2


@pytest.mark.django_db
def test_rate_limit_headers_on_every_response_and_429(api, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3
    first = api.get(JOBS)
    assert first["RateLimit-Limit"] == "3" and first["RateLimit-Remaining"] == "2"
    assert 1 <= int(first["RateLimit-Reset"]) <= 60
    # errors carry them too
    missing = api.get(f"{JOBS}00000000-0000-0000-0000-000000000000/")
    assert missing.status_code == 404 and missing["RateLimit-Remaining"] in ("1", "2")
    seen = [first, missing]
    for _ in range(6):  # at most one window boundary can pass meanwhile
        seen.append(api.get(JOBS))
        if seen[-1].status_code == 429:
            break
    limited = seen[-1]
    body = _assert_problem(limited, 429, "rate_limited")
    assert limited["RateLimit-Remaining"] == "0" and int(limited["Retry-After"]) >= 1
    assert body["limit"] == 3


@pytest.mark.django_db(transaction=True)
def test_location_header_and_photo_verdicts(api):
    concept = build_concept()
    no_face = SimpleUploadedFile("wall.jpg", _faceless_jpeg(), content_type="image/jpeg")
    data = {"concept": concept.slug, "photos_a": [upload("obama.jpg")], "photos_b": [no_face], "consent": "true"}
    response = api.post(JOBS, data, format="multipart")
    assert response.status_code == 201
    location = response["Location"]
    assert location.endswith(f"/api/v1/jobs/{response.json()['id']}/")
    assert [p["verdict"] for p in response.json()["photos"]] == ["pending", "pending"]
    # the check worker records verdicts one photo at a time; the API shows them as they come
    from studio.services import job_photo_verdict_set

    job = Job.objects.get(public_id=response.json()["id"])
    job_photo_verdict_set(photo=job.photos.get(person="a"), code=None)
    job_photo_verdict_set(photo=job.photos.get(person="b"), code="no_face")
    state = api.get(location, HTTP_ACCEPT_LANGUAGE="en").json()
    assert state["status"] == "checking"
    photos = {p["person"]: p for p in state["photos"]}
    assert photos["a"]["verdict"] == "ok" and photos["a"]["code"] is None and photos["a"]["reason"] is None
    assert photos["b"]["verdict"] == "rejected" and photos["b"]["code"] == "no_face"
    assert photos["b"]["name"] == "wall.jpg" and "face" in photos["b"]["reason"]

    # the real check on the real photos: the faceless one fails the (API) job with its reason
    job.photos.update(verdict="pending", reject_code="")
    run_checks()
    state = api.get(location).json()
    assert state["status"] == "failed" and state["code"] == "no_face" and state["reason"]
