"""The submit under daphne (issue 14): Twisted no longer parses the POST body a second time in the
reactor thread (loveloveshot/daphne_tuning.py), and a two-photo submit through a live daphne still
works end to end (Django parses the body, the photos are stored, the job is created)."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client
from twisted.internet.testing import StringTransport
from twisted.web import http

import loveloveshot.asgi  # noqa: F401 - what daphne imports: applies the tuning
from studio.models import Job
from tests.builders import build_concept
from tests.conftest import faces_dir

REPO = Path(__file__).resolve().parents[2]


def _multipart() -> tuple[bytes, bytes]:
    prepared = requests.Request(
        "POST", "http://testserver/studio/new/", data={"concept": "film-date", "consent": "on"},
        files=[("photos_a", ("grace_hopper.jpg", (faces_dir() / "grace_hopper.jpg").read_bytes(), "image/jpeg"))],
    ).prepare()
    return prepared.body, prepared.headers["Content-Type"].encode()


def _twisted_args(request_class) -> list[tuple[dict, int]]:
    """Feed one multipart POST through Twisted's HTTP channel; what the request saw (args, body size)."""
    seen = []

    class Probe(request_class):
        def __init__(self, *args, **kwargs):
            http.Request.__init__(self, *args, **kwargs)  # without daphne's server wiring

        def process(self):
            seen.append((dict(self.args), len(self.content.read())))

    body, ctype = _multipart()
    channel = http.HTTPChannel()
    channel.requestFactory = Probe
    channel.makeConnection(StringTransport())
    channel.dataReceived(b"POST /studio/new/ HTTP/1.1\r\nHost: testserver\r\nContent-Type: " + ctype
                         + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert seen, "the request was not processed"
    return seen


def test_daphne_requests_do_not_parse_the_upload_body_again():
    from daphne.http_protocol import WebRequest

    body, _ = _multipart()
    [(args, size)] = _twisted_args(WebRequest)
    assert args == {}  # no second parse of the form fields and photos
    assert size == len(body)  # the whole body still reaches Django


def test_plain_twisted_request_would_parse_it():
    """The control: without the tuning Twisted parses every multipart body into request.args."""
    [(args, _)] = _twisted_args(http.Request)
    assert set(args) == {b"concept", b"consent", b"photos_a"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_two_photo_submit_through_a_live_daphne(user, _private_media, tmp_path):
    from django.conf import settings

    concept = build_concept()
    client = Client()
    client.force_login(user)
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "REDIS_URL": settings.REDIS_URL,
        "LLS_VAR_DIR": str(settings.VAR_DIR),
        "LLS_PRIVATE_MEDIA_ROOT": str(_private_media),
    }
    log = tmp_path / "daphne.log"
    with open(log, "wb") as out:
        daphne = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "loveloveshot.asgi:application"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert daphne.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
        page = session.get(f"{base}/studio/new/?concept={concept.slug}", timeout=60)
        assert page.status_code == 200, page.text[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        photos = [("photos_a", ("a.jpg", (faces_dir() / "obama.jpg").read_bytes(), "image/jpeg")),
                  ("photos_b", ("b.jpg", (faces_dir() / "biden.jpg").read_bytes(), "image/jpeg"))]
        response = session.post(
            f"{base}/studio/new/", files=photos, timeout=60,
            data={"concept": concept.slug, "consent": "on", "partner_consent": "on", "csrfmiddlewaretoken": token},
            headers={"Accept": "application/json", "Referer": f"{base}/studio/new/"},
        )
        assert response.status_code == 201, response.text[:1000]
        job = Job.objects.get(user=user)
        assert response.json()["redirect"].endswith(f"/studio/jobs/{job.public_id}/")
        stored = [p.file.open("rb").read() for p in job.photos.order_by("person", "index")]
        assert [data[:2] for data in stored] == [b"\xff\xd8", b"\xff\xd8"]
        assert all(b"Exif\x00\x00" not in data[:4096] for data in stored)
    finally:
        daphne.terminate()
        try:
            daphne.wait(15)
        except subprocess.TimeoutExpired:
            daphne.kill()
