"""Partner webhooks end to end: a real HTTP receiver started by the test (http.server in a thread), a
real ``manage.py rqworker webhooks --with-scheduler`` process draining the ``webhooks`` queue (rq's
scheduler runs the backoff retries), real jobs through the photo checks and the swap."""

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from partners import signing
from partners.models import WebhookDelivery, WebhookEndpoint
from tests.builders import build_concept, run_worker, upload

REPO = Path(__file__).resolve().parents[2]
HOOKS = "/api/v1/webhooks/"


class Receiver:
    """Records every POST; answers the scripted status codes in order, then 200."""

    def __init__(self, script=()):
        self.script = list(script)
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.script.pop(0) if receiver.script else 200
                    receiver.requests.append({"headers": dict(self.headers), "body": body, "answered": status})
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"receiver is down")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/lls"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, predicate, timeout=90.0, what="webhook requests"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(list(self.requests)):
                    return list(self.requests)
            time.sleep(0.1)
        got = [r["headers"].get("Loveloveshot-Event") for r in self.requests]
        raise AssertionError(f"timed out waiting for {what}; got {got}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook_worker(transactional_db, _private_media, tmp_path):
    """A real rq worker process (with rq's scheduler) on the webhooks queue, on the test DB."""
    from django.conf import settings as dj

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "REDIS_URL": dj.REDIS_URL,
        "LLS_VAR_DIR": str(dj.VAR_DIR),
        "LLS_PRIVATE_MEDIA_ROOT": str(_private_media),
        "PYTHONUNBUFFERED": "1",
    }
    log = open(tmp_path / "webhooks-worker.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "manage.py", "rqworker", "webhooks", "--with-scheduler"],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    sys.stdout.write((tmp_path / "webhooks-worker.log").read_text(errors="replace")[-3000:])


@pytest.fixture
def partner(django_user_model, password):
    return django_user_model.objects.create_user(email="partner@studio.example", password=password, is_partner=True)


@pytest.fixture
def api(partner) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=partner).key}")
    return client


def _events(requests) -> list[str]:
    return [json.loads(r["body"])["type"] for r in requests if r["answered"] == 200]


@pytest.mark.django_db(transaction=True)
def test_job_events_are_signed_retried_after_500_and_redelivered_from_admin(
    api, partner, webhook_worker, settings, client, django_user_model
):
    settings.WEBHOOK_RETRY_INTERVALS = [1, 2, 4]
    receiver = Receiver(script=[500])  # the receiver is down for the first delivery
    try:
        registered = api.post(HOOKS, {"url": receiver.url}, format="json")
        assert registered.status_code == 201, registered.content
        assert registered["Location"] == "http://testserver/api/v1/webhooks/"
        secret = registered.json()["secret"]
        assert secret.startswith("whsec_") and api.get(HOOKS).json()["url"] == receiver.url

        concept = build_concept()
        created = api.post("/api/v1/jobs/", {"concept": concept.slug, "photos_a": [upload("obama.jpg")],
                                             "photos_b": [upload("grace_hopper.jpg")], "consent": "true"},
                           format="multipart")
        assert created.status_code == 201
        job_id = created.json()["id"]
        run_worker()  # photo checks, then the swap: checking → queued → running → done

        requests = receiver.wait_for(
            lambda rs: {"job.checking", "job.queued", "job.running", "job.done"} <= set(_events(rs)),
            what="checking, queued, running and done",
        )
        for r in requests:
            header = r["headers"]["Loveloveshot-Signature"]
            assert signing.verify(r["body"], header, secret), header
            assert not signing.verify(r["body"], header, "whsec_wrong")
            assert not signing.verify(r["body"] + b" ", header, secret)
            assert r["headers"]["Content-Type"] == "application/json"
        # the first delivery got a 500, then succeeded on the retry with the same body and event id
        first = requests[0]
        retried = [r for r in requests[1:] if r["body"] == first["body"]]
        assert first["answered"] == 500 and retried and retried[0]["answered"] == 200
        assert retried[0]["headers"]["Loveloveshot-Attempt"] == "2"
        delivery = WebhookDelivery.objects.get(public_id=first["headers"]["Loveloveshot-Delivery"])
        _wait(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "succeeded")
        log = list(delivery.attempt_log.order_by("number").values_list("number", "status_code", "response_snippet"))
        assert log[:2] == [(1, 500, "receiver is down"), (2, 200, "ok")]

        done = next(json.loads(r["body"]) for r in requests if json.loads(r["body"])["type"] == "job.done")
        job = done["data"]["job"]
        assert job["id"] == job_id and job["status"] == "done" and job["results"]
        image = api.get(job["results"][0]["url"])
        assert image.status_code == 200 and b"".join(image.streaming_content)[:2] == b"\xff\xd8"

        # the delivery log over the API
        log_page = api.get(f"{HOOKS}deliveries/").json()
        assert log_page["count"] >= 4 and {d["status"] for d in log_page["results"]} <= {"succeeded", "pending"}

        # secret rotation: both secrets sign until the overlap ends
        rotated = api.post(f"{HOOKS}rotate-secret/").json()
        assert rotated["secret"] != secret and rotated["previous_secret_expires_at"]

        # admin "redeliver": the same event again, signed with the new and the old secret
        admin = django_user_model.objects.create_superuser(email="ops@lls.example", password="Ops-pass-2026!")
        client.force_login(admin)
        before = len(receiver.requests)
        response = client.post("/admin/partners/webhookdelivery/", {
            "action": "redeliver", "_selected_action": [delivery.pk], "index": 0,
        })
        assert response.status_code == 302
        again = receiver.wait_for(lambda rs: len(rs) > before, what="the redelivery")[before]
        assert again["body"] == first["body"] and again["headers"]["Loveloveshot-Delivery"] == str(delivery.public_id)
        header = again["headers"]["Loveloveshot-Signature"]
        assert header.count("v1=") == 2
        assert signing.verify(again["body"], header, rotated["secret"])
        assert signing.verify(again["body"], header, secret)
        _wait(lambda: WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.count() == 3)
    finally:
        receiver.close()


@pytest.mark.django_db(transaction=True)
def test_a_receiver_that_keeps_failing_is_given_up_with_the_log(api, partner, webhook_worker, settings):
    settings.WEBHOOK_RETRY_INTERVALS = [1, 1]
    receiver = Receiver(script=[503, 500, 502])
    try:
        assert api.post(HOOKS, {"url": receiver.url}, format="json").status_code == 201
        concept = build_concept()
        created = api.post("/api/v1/jobs/", {"concept": concept.slug, "photos_a": [upload("obama.jpg")],
                                             "photos_b": [upload("grace_hopper.jpg")], "consent": "true"},
                           format="multipart")
        assert created.status_code == 201  # no check worker here: job.checking is the only event
        _wait(lambda: WebhookDelivery.objects.filter(event="job.checking", status="failed").exists())
        delivery = WebhookDelivery.objects.get(event="job.checking")
        assert delivery.attempts == 3 and delivery.last_status_code == 502
        assert [a.status_code for a in delivery.attempt_log.order_by("number")] == [503, 500, 502]
        assert [a.response_snippet for a in delivery.attempt_log.order_by("number")] == ["receiver is down"] * 3
    finally:
        receiver.close()


@pytest.mark.django_db
def test_https_required_and_endpoint_lifecycle(api, settings):
    response = api.post(HOOKS, {"url": "http://partner.example/hook"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert "https://" in response.json()["errors"]["url"][0]
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False  # production: not even the loopback over plain http
    assert api.post(HOOKS, {"url": "http://127.0.0.1:9/hook"}, format="json").status_code == 400
    for internal in ("https://127.0.0.1/hook", "https://10.0.0.5/hook", "https://[::1]/hook", "https://localhost/x"):
        assert api.post(HOOKS, {"url": internal}, format="json").status_code == 400, internal
    assert api.get(HOOKS).status_code == 404

    created = api.post(HOOKS, {"url": "https://partner.example/hook"}, format="json")
    assert created.status_code == 201
    changed = api.post(HOOKS, {"url": "https://partner.example/hook2"}, format="json")
    assert changed.status_code == 200 and changed.json()["secret"] == created.json()["secret"]
    assert api.delete(HOOKS).status_code == 204
    assert api.get(HOOKS).status_code == 404 and not WebhookEndpoint.objects.exists()
    assert api.delete(HOOKS).json()["code"] == "not_found"


@pytest.mark.django_db
def test_admin_registers_an_endpoint_and_shows_the_log(client, partner, django_user_model):
    admin = django_user_model.objects.create_superuser(email="ops@lls.example", password="Ops-pass-2026!")
    client.force_login(admin)
    add = "/admin/partners/webhookendpoint/add/"
    form = {"user": partner.pk, "url": "http://partner.example/hook", "base_url": "https://lls.example/",
            "is_active": "on"}
    response = client.post(add, form)
    assert response.status_code == 200 and "https://" in response.content.decode()  # refused, with the rule
    assert not WebhookEndpoint.objects.exists()
    response = client.post(add, {**form, "url": "https://partner.example/hook"})
    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get(user=partner)
    assert endpoint.secret.startswith("whsec_")
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event="job.done", payload="{}")
    delivery.attempt_log.create(number=1, url=endpoint.url, status_code=500, response_snippet="down", duration_ms=12)
    page = client.get(f"/admin/partners/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200 and "down" in page.content.decode()
    assert client.get("/admin/partners/webhookdelivery/").status_code == 200
    old = endpoint.secret
    client.post("/admin/partners/webhookendpoint/", {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old


@pytest.mark.django_db(transaction=True)
def test_failed_event_names_the_rejected_photo(api):
    """The job.failed payload is taken before the uploads are deleted: it carries each photo's verdict."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.builders import run_checks
    from tests.integration.test_api_v1 import _faceless_jpeg

    assert api.post(HOOKS, {"url": "https://partner.example/hook"}, format="json").status_code == 201
    concept = build_concept()
    wall = SimpleUploadedFile("wall.jpg", _faceless_jpeg(), content_type="image/jpeg")
    created = api.post("/api/v1/jobs/", {"concept": concept.slug, "photos_a": [upload("obama.jpg")],
                                         "photos_b": [wall], "consent": "true"}, format="multipart")
    assert created.status_code == 201
    run_checks()
    failed = json.loads(WebhookDelivery.objects.get(event="job.failed").payload)
    job = failed["data"]["job"]
    assert job["status"] == "failed" and job["code"] == "no_face" and job["reason"]
    verdicts = {(p["person"], p["name"], p["verdict"], p["code"]) for p in job["photos"]}
    assert verdicts == {("a", "obama.jpg", "ok", None), ("b", "wall.jpg", "rejected", "no_face")}
    assert api.get(f"/api/v1/jobs/{job['id']}/").json()["photos"] == []  # uploads deleted since


def test_signature_scheme():
    body = b'{"id":"x"}'
    header = signing.sign(body, ["s1"], timestamp=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert signing.verify(body, header, "s1", now=1_700_000_010)
    assert not signing.verify(body, header, "s1", now=1_700_001_000)  # too old: replay refused
    assert not signing.verify(body, header, "s2", now=1_700_000_010)


def _wait(predicate, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


# --- production process model (deploy/) -----------------------------------------------------------


def test_production_runs_a_worker_and_the_scheduler_for_every_queue(settings):
    """deploy/Procfile and the systemd units start a worker on each rq queue (webhooks included), and
    the scheduler covers each one (webhook retries are rq Retry intervals)."""
    sys.path.insert(0, str(REPO / "deploy"))
    try:
        import rq_scheduler
    finally:
        sys.path.remove(str(REPO / "deploy"))
    queues = set(settings.RQ_QUEUES)
    assert {"swap", "check", "webhooks"} <= queues and set(rq_scheduler.QUEUES) == queues
    procfile = (REPO / "deploy/Procfile").read_text()
    units = "\n".join(p.read_text() for p in (REPO / "deploy/systemd").glob("*.service"))
    for text in (procfile, units):
        assert "manage.py rqworker webhooks" in text
        assert "gpu_worker --queues check" in text and "gpu_worker --queues swap" in text
        assert "deploy/rq_scheduler.py swap check webhooks" in text


@pytest.mark.django_db
def test_the_deploy_scheduler_moves_a_webhook_retry_back_onto_the_queue(settings, tmp_path):
    """deploy/rq_scheduler.py (no arguments: every queue) is the real rq scheduler process: a delivery
    retry waiting in the webhooks queue's ScheduledJobRegistry is put back on the queue when due."""
    from datetime import timedelta

    import django_rq

    queue = django_rq.get_queue("webhooks")
    job = queue.enqueue_in(timedelta(seconds=1), "partners.tasks.deliver_webhook", 0)
    assert job.id in queue.scheduled_job_registry and job.id not in queue.job_ids
    log = open(tmp_path / "scheduler.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "deploy/rq_scheduler.py"], cwd=REPO, stdout=log,
                            stderr=subprocess.STDOUT, env={**os.environ, "REDIS_URL": settings.REDIS_URL})
    try:
        _wait(lambda: job.id in queue.job_ids, timeout=120)
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        sys.stdout.write((tmp_path / "scheduler.log").read_text(errors="replace")[-2000:])
    assert job.id not in queue.scheduled_job_registry
    queue.remove(job.id)
