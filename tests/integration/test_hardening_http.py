"""Issue 13 items 10 (CSP header), 11 (no-store on private pages and files) and 13 (oversize bodies
refused with 413 before they are read, one limit shared with nginx)."""

import re
import subprocess

import numpy as np
import pytest
from django.conf import settings
from django.urls import reverse

from gallery.services import result_create
from loveloveshot import limits
from loveloveshot.middleware import CONTENT_SECURITY_POLICY
from studio.models import Job
from tests.builders import build_concept
from tests.conftest import REPO

pytestmark = pytest.mark.django_db

SIXTY_MB = 60 * 1024 * 1024


def _oversize_post(client, path, **extra):
    # Content-Length says 60 MB but only 10 bytes follow: Django's test payload raises if anything
    # tries to read past them, so a 413 here proves the body was never read.
    return client.generic(
        "POST", path, b"0123456789", content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(SIXTY_MB), **extra,
    )


def test_a_60_mb_form_post_is_refused_with_413_and_a_sentence_without_reading_it(logged_client):
    response = _oversize_post(logged_client, reverse("studio:job-new"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413
    body = response.content.decode()
    assert "too large to send at once" in body
    assert f"{settings.UPLOAD_MAX_REQUEST_BYTES // (1024 * 1024)} MB" in body


def test_a_60_mb_api_post_is_refused_with_json_413(client):
    response = _oversize_post(client, "/api/v1/jobs/", HTTP_AUTHORIZATION="Token whatever")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert response.json()["detail"]


def test_a_body_at_the_limit_is_not_refused_by_the_size_check(logged_client):
    response = logged_client.generic(
        "POST", reverse("studio:job-new"), b"x=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code != 413


def test_one_limit_in_one_place_django_and_nginx_agree():
    assert settings.UPLOAD_MAX_REQUEST_BYTES == limits.UPLOAD_MAX_REQUEST_BYTES < SIXTY_MB
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.UPLOAD_MAX_REQUEST_BYTES
    assert settings.UPLOAD_MAX_BYTES <= settings.UPLOAD_MAX_REQUEST_BYTES  # one photo always fits
    conf = subprocess.run(
        ["bash", "scripts/prod_nginx_conf.sh"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "NGINX_LISTEN": "127.0.0.1:8080", "NGINX_LOG_DIR": "/tmp"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.findall(r"client_max_body_size (\d+);", conf) == [str(limits.UPLOAD_MAX_REQUEST_BYTES)]
    # nginx sends the same CSP as Django, and never lets a private photo be cached
    assert CONTENT_SECURITY_POLICY in conf
    protected = conf.split("location /protected/")[1].split("}")[0]
    assert 'Cache-Control "no-store"' in protected and "max-age" not in protected


def test_every_page_carries_the_strict_csp(client, user):
    build_concept()
    for url in ("/", reverse("account_login"), reverse("gallery:concepts")):
        response = client.get(url)
        assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
    csp = CONTENT_SECURITY_POLICY
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp


@pytest.fixture
def finished_job(user):
    concept = build_concept()
    scene = concept.scenes.first()
    job = Job.objects.create(user=user, concept=concept, plan="standard", status=Job.Status.DONE)
    image = np.full((400, 560, 3), 180, np.uint8)
    result = result_create(job=job, scene=scene, variant=0, image=image, max_side=800, thumb_side=200)
    return job, result


def test_private_pages_and_files_are_never_cached(logged_client, finished_job):
    job, result = finished_job
    urls = [
        reverse("studio:job-detail", args=[job.public_id]),
        reverse("studio:job-status", args=[job.public_id]),
        reverse("studio:job-list"),
        reverse("studio:job-new"),
        reverse("gallery:album"),
        reverse("gallery:result-detail", args=[result.public_id]),
        reverse("gallery:result-image", args=[result.public_id]),
        reverse("gallery:result-thumb", args=[result.public_id]),
        reverse("gallery:result-download", args=[result.public_id]),
        "/",  # any page answered to someone signed in
    ]
    for url in urls:
        response = logged_client.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "no-store", url
        assert "Expires" not in response, url


def test_after_an_upload_the_web_process_hands_freed_memory_back(logged_client, monkeypatch):
    """Issue 13 item 17: the web process grew after every burst (freed upload/decode buffers stayed
    mapped in glibc's heaps). After a request with a large body it now calls malloc_trim; uploads over
    1 MiB spool to disk. bench/burst.py measures the RSS (BENCHMARKS.md)."""
    from tests.builders import upload

    calls = []
    monkeypatch.setattr("loveloveshot.middleware._malloc_trim", lambda pad: calls.append(pad) or 1)
    logged_client.get("/")
    assert calls == []  # small requests cost nothing
    build_concept()
    logged_client.post(
        reverse("studio:job-new"),
        {"concept": "film-date", "photos_a": upload("astronaut.png", content_type="image/png"),
         "photos_b": upload("biden.jpg")},
    )
    assert calls == [0]
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 1024 * 1024


def test_the_asgi_app_answers_413_without_ever_receiving_the_body():
    """Under daphne, the 413 comes before Django's handler copies the body: ``receive`` is never called."""
    import asyncio

    from loveloveshot.asgi import application

    sent = []

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/studio/new/", "raw_path": b"/studio/new/", "root_path": "", "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"content-length", str(SIXTY_MB).encode()),
                    (b"content-type", b"multipart/form-data; boundary=xyz"), (b"accept-language", b"en")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }
    asyncio.run(application(scope, receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413
    assert b"too large to send at once" in sent[1]["body"]
    headers = dict(sent[0]["headers"])
    assert headers[b"Content-Type"].startswith(b"text/html")


def test_partner_api_answers_are_never_cached(client, django_user_model):
    from rest_framework.authtoken.models import Token

    partner = django_user_model.objects.create_user(email="api@example.com", password="x", is_partner=True)
    token = Token.objects.create(user=partner)
    concept = build_concept()
    job = Job.objects.create(user=partner, concept=concept, plan="standard", status=Job.Status.DONE)
    for url in ("/api/v1/concepts/", f"/api/v1/jobs/{job.public_id}/"):
        response = client.get(url, HTTP_AUTHORIZATION=f"Token {token.key}")
        assert response.status_code == 200, (url, response.content[:300])
        assert response["Cache-Control"] == "no-store", url
