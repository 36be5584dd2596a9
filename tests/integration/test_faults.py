"""Faults with real parts: a worker process killed with SIGKILL mid-job, Redis stopped and restarted
(append-only), Redis down while couples submit. Nothing is lost; nobody sees a 500."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import django_rq
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.urls import reverse

from accounts.services import consent_record_create
from gallery.models import Result
from studio import services
from studio.models import Job
from studio.realtime import job_group
from tests.builders import build_concept, children_of, run_checks, run_worker, upload
from tests.conftest import faces_dir

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]


def _consent(user):
    return consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")


def _spawn_worker(settings, private_root, log_path, **extra_env) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "REDIS_URL": settings.REDIS_URL,
        "LLS_VAR_DIR": str(settings.VAR_DIR),
        "LLS_PRIVATE_MEDIA_ROOT": str(private_root),
        "LLS_JOB_HEARTBEAT_SECONDS": "0.5",
        "LLS_JOB_STALE_SECONDS": "3",
        "LLS_JOB_SWEEP_INTERVAL_SECONDS": "1",
        **extra_env,
    }
    log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
    return subprocess.Popen(
        [sys.executable, "manage.py", "gpu_worker"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill_tree(pid: int) -> None:
    """SIGKILL the worker and its job process (the supervisor's child that runs the jobs)."""
    for child in children_of(pid):
        _kill_tree(child)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _drain(layer, channel) -> list[dict]:
    async def collect():
        frames = []
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=2)
            except TimeoutError:
                return frames
            frames.append(message["frame"])

    return asyncio.run(collect())


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_worker_killed_mid_job_is_detected_retried_and_finishes_once(premium_user, settings, _private_media,
                                                                      tmp_path):
    concept = build_concept(pairs=(("obama.jpg", "biden.jpg"), ("grace_hopper.jpg", "astronaut.png")))
    job = services.job_create(
        user=premium_user,
        concept=concept,
        photos_a=[upload("obama.jpg"), upload("obama2.jpg"), upload("obama3.jpg")],
        photos_b=[upload("biden.jpg"), upload("biden.jpg", as_name="biden-2.jpg"),
                  upload("biden.jpg", as_name="biden-3.jpg")],
        consent=_consent(premium_user),
    )
    run_checks()  # the photo check runs first (queue "check") and puts the job on the swap queue
    # listen to the job's channel group like the job page does
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(job_group(job.public_id), channel)

    log = tmp_path / "worker.log"
    first = _spawn_worker(settings, _private_media, log)
    try:
        # wait until the job is running and has produced part of its photos, then kill the whole worker
        _wait(lambda: Result.objects.filter(job=job).exists(), 120, "the first result")
        _kill_tree(first.pid)
        first.wait(10)
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING  # abandoned: nobody will finish it...
        partial = Result.objects.filter(job=job).count()
        assert 0 < partial < 2  # Premium: one photo per scene (2 scenes)

        # ...until a restarted worker notices the stale heartbeat, retries, and finishes it
        second = _spawn_worker(settings, _private_media, log)
        try:
            _wait(lambda: Job.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(), 180, "job end")
        finally:
            second.terminate()
            second.wait(10)
    finally:
        if first.poll() is None:
            _kill_tree(first.pid)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, (job.error_code, job.error_message, log.read_text()[-2000:])
    assert job.attempts == 2
    # exactly one photo per (scene, variant): no duplicates from the killed attempt
    results = Result.objects.filter(job=job)
    assert results.count() == 2
    assert len({(r.scene_id, r.variant) for r in results}) == 2
    for r in results:
        assert Path(r.image.path).is_file()

    frames = _drain(layer, channel)
    kinds = [(f["type"], f.get("status"), f.get("retrying")) for f in frames if f["type"] in ("status", "done")]
    assert ("status", "queued", True) in kinds, kinds  # the page was told "retrying"
    assert kinds[-1][0] == "done"


@pytest.mark.timeout(1500)
def test_work_horse_killed_like_oom_the_same_worker_recovers_it(user, settings, _private_media, tmp_path):
    """The kernel's OOM killer takes the process running the job (rq's work horse, or the worker's job
    process), not the worker: the worker goes on with the queue and its sweeper puts the abandoned job
    back in line, where it finishes.

    Robust on a busy machine (issue 13 item 16): every wait is on a condition with a generous deadline
    (a loaded 2-core box can take minutes to load models and run two scenes), and the stale threshold
    leaves room for a heartbeat thread starved for a few seconds, so a slow job is never taken for an
    abandoned one. What it proves is unchanged, and checked more strictly: the job was killed while
    running (attempt 1), retried once by the same worker (attempt 2) and finished with its two photos."""
    concept = build_concept(pairs=(("obama.jpg", "biden.jpg"), ("grace_hopper.jpg", "astronaut.png")))
    job = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                              photos_b=[upload("biden.jpg")], consent=_consent(user))
    run_checks()  # the photo check runs first (queue "check") and puts the job on the swap queue
    log = tmp_path / "worker.log"
    worker = _spawn_worker(settings, _private_media, log, LLS_JOB_STALE_SECONDS="8")
    try:
        _wait(lambda: Job.objects.filter(pk=job.pk, status="running", attempts=1).exists(), 600, "job start")
        horses = _wait(lambda: children_of(worker.pid), 120, "the process running the job")
        job.refresh_from_db()
        assert job.status == Job.Status.RUNNING and job.attempts == 1  # killed mid-job, not after it
        for horse in horses:
            _kill_tree(horse)
        _wait(lambda: Job.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(), 900, "job end")
        assert worker.poll() is None, "the worker itself must survive its horse"
    finally:
        _kill_tree(worker.pid)
        worker.wait(10)
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, (job.error_code, job.error_message, log.read_text()[-2000:])
    assert job.attempts == 2  # the killed attempt, then one retry
    assert Result.objects.filter(job=job).count() == 2


def test_model_load_failure_fails_the_job_cleanly_and_the_queue_goes_on(user, other_user, settings, tmp_path):
    concept = build_concept()
    first = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                                photos_b=[upload("biden.jpg")], consent=_consent(user))
    broken = tmp_path / "models"
    broken.mkdir()
    # an operator copied a truncated detector into MODELS_DIR
    (broken / "face_detection_yunet_2023mar_int8bq.onnx").write_bytes(b"not an onnx graph")
    settings.MODELS_DIR = str(broken)
    run_worker()
    first.refresh_from_db()
    assert first.status == Job.Status.FAILED and first.error_code == "model_missing"
    from studio.selectors import job_state

    assert "다시 시도" in job_state(job=first)["reason"]  # a sentence for the user, in Korean
    assert first.can_retry and first.photos.count() == 2  # nothing lost: can be retried

    settings.MODELS_DIR = str(tmp_path / "fixed")  # operator fixes it (no override: bundled weights)
    second = services.job_create(user=other_user, concept=concept, photos_a=[upload("grace_hopper.jpg")],
                                 photos_b=[upload("astronaut.png")], consent=_consent(other_user))
    services.job_retry(job=first)
    run_worker()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Job.Status.DONE, Job.Status.DONE)


def test_redis_restart_keeps_queued_jobs_and_pages_never_500(user, client, settings, session_redis):
    concept = build_concept()
    client.force_login(user)
    first = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")],
        consent=_consent(user),
    )
    run_checks()  # its photos pass the check: in line for the swap
    assert django_rq.get_queue("swap").get_job_ids() == [first.rq_job_id]

    session_redis.stop()
    try:
        # pages still answer while Redis is down: the job page and its polling endpoint, the album
        for url in (reverse("home"), reverse("studio:job-detail", args=[first.public_id]),
                    reverse("studio:job-status", args=[first.public_id]), reverse("gallery:album")):
            response = client.get(url)
            assert response.status_code in (200, 503), (url, response.status_code)
        # a couple submitting now loses nothing: the job is stored and will be queued later
        with open(faces_dir() / "grace_hopper.jpg", "rb") as a, \
                open(faces_dir() / "astronaut.png", "rb") as b:
            response = client.post(
                reverse("studio:job-new"),
                {"concept": concept.slug, "photos_a": a, "photos_b": b, "consent": "on", "partner_consent": "on"},
            )
        assert response.status_code == 302, response.content[:500]
        second = Job.objects.exclude(pk=first.pk).get()
        assert second.status == Job.Status.CHECKING  # stored; its photo check waits for Redis
    finally:
        session_redis.start()

    # the first job survived the restart (append-only file); the second is enqueued by the sweeper
    assert first.rq_job_id in django_rq.get_queue("swap").get_job_ids()
    settings.JOB_ORPHAN_SECONDS = 0
    counts = services.jobs_recover()
    assert counts["rechecked"] == 1  # the photo check of the job submitted while Redis was down
    run_worker()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Job.Status.DONE, Job.Status.DONE)


def test_busy_page_instead_of_500_when_redis_fails_in_a_view(user, client, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from studio import views

    def boom(**kwargs):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(views, "job_list", boom)
    client.force_login(user)
    response = client.get(reverse("studio:job-list"))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "서비스" in response.content.decode()
