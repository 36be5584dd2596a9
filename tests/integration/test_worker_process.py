"""The worker's process model and its Redis outage behaviour, with the real `manage.py gpu_worker`.

- models are built in the process that runs the jobs (not in the supervisor, never across a fork),
  once, and stay warm for the next job; the supervisor never loads torch or the face models;
- one log line per job in normal operation;
- Redis away for 5 s or 25 s: the same job process rides it out (one "redis unavailable, retrying"
  line), then goes on with the queue, including a job submitted while Redis was down;
- the job page's websocket while Redis is down: the state, a "reconnecting" frame, a clean close."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from accounts.services import consent_record_create
from studio import services
from studio.consumers import TRY_AGAIN_LATER
from studio.models import Job
from tests.builders import build_concept, run_checks, upload

pytestmark = pytest.mark.django_db(transaction=True)
REPO = Path(__file__).resolve().parents[2]
BUILT = re.compile(r"engine built: (\w+) pid=(\d+)")
RAN = re.compile(r"job ([0-9a-f-]{36}) (\w+) in [0-9.]+s pid=(\d+)")
STARTED = re.compile(r"job process pid=(\d+) started")


def _consent(user):
    return consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")


def _spawn(settings, private_root, log_path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "REDIS_URL": settings.REDIS_URL,
        "LLS_VAR_DIR": str(settings.VAR_DIR),
        "LLS_PRIVATE_MEDIA_ROOT": str(private_root),
        "LLS_ENGINE": "classical",
        "LLS_JOB_SWEEP_INTERVAL_SECONDS": "1",
        "LLS_JOB_ORPHAN_SECONDS": "5",
    }
    log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
    # one job process for both queues: a job's photo check runs first and queues its swap
    return subprocess.Popen([sys.executable, "manage.py", "gpu_worker", "--queues", "check,swap"], cwd=REPO,
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, 15)  # the supervisor and its job process (same session)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait(10)


def _wait(predicate, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f"; worker log:\n{log.read_text()[-4000:]}" if log else ""))


def _ended(*jobs):
    return lambda: Job.objects.filter(pk__in=[j.pk for j in jobs], status__in=["done", "failed"]).count() == len(jobs)


def _mapped_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_models_are_built_once_in_the_job_process_and_stay_warm(user, other_user, settings, _private_media,
                                                                 tmp_path):
    concept = build_concept()
    log = tmp_path / "worker.log"
    worker = _spawn(settings, _private_media, log)
    try:
        first = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                                    photos_b=[upload("biden.jpg")], consent=_consent(user))
        second = services.job_create(user=other_user, concept=concept, photos_a=[upload("grace_hopper.jpg")],
                                     photos_b=[upload("astronaut.png")], consent=_consent(other_user))
        _wait(_ended(first, second), 240, "both jobs to end", log)
        supervisor_maps = _mapped_libraries(worker.pid)
    finally:
        _stop(worker)
    text = log.read_text()

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("done", "done"), text[-3000:]
    job_processes = [int(p) for p in STARTED.findall(text)]
    builds = [(name, int(pid)) for name, pid in BUILT.findall(text)]
    runs = {rq_id: (status, int(pid)) for rq_id, status, pid in RAN.findall(text)}
    assert len(job_processes) == 1, text  # never restarted
    job_pid = job_processes[0]
    assert job_pid != worker.pid
    # built once, in the process that ran both jobs, and reused for the second job
    assert builds == [("Engine", job_pid)], text
    assert runs == {str(first.public_id): ("done", job_pid), str(second.public_id): ("done", job_pid)}, text
    # the supervisor never loaded the face models' runtimes or torch
    for library in ("libtorch", "onnxruntime", "mediapipe"):
        assert library not in supervisor_maps, library
    # quiet log: exactly one line per job, none of rq's per-job chatter
    for job in (first, second):
        assert sum(f"job {job.public_id}" in line for line in text.splitlines()) == 1, text
    assert "Job OK" not in text and "Result is kept" not in text, text


@pytest.mark.parametrize("outage_seconds", [5, 25])
def test_worker_rides_out_a_redis_outage_and_goes_on_with_the_queue(outage_seconds, user, other_user, settings,
                                                                     _private_media, tmp_path, session_redis):
    concept = build_concept()
    log = tmp_path / "worker.log"
    worker = _spawn(settings, _private_media, log)
    try:
        _wait(lambda: BUILT.search(log.read_text()), 120, "the job process to be ready", log)
        job_pid = int(STARTED.search(log.read_text()).group(1))
        session_redis.stop()
        try:
            # a couple submits while Redis is away: stored now, queued by the sweeper later
            during = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                                         photos_b=[upload("biden.jpg")], consent=_consent(user))
            time.sleep(outage_seconds)  # the outage itself (not a wait for a condition)
            assert worker.poll() is None
        finally:
            session_redis.start()
        after = services.job_create(user=other_user, concept=concept, photos_a=[upload("grace_hopper.jpg")],
                                    photos_b=[upload("astronaut.png")], consent=_consent(other_user))
        _wait(_ended(during, after), 240, "both jobs to end", log)
        alive = os.path.exists(f"/proc/{job_pid}")
    finally:
        _stop(worker)
    text = log.read_text()

    during.refresh_from_db()
    after.refresh_from_db()
    assert (during.status, after.status) == ("done", "done"), text[-3000:]
    assert alive and STARTED.findall(text) == [str(job_pid)], text  # the same job process, never restarted
    runs = {rq_id: int(pid) for rq_id, _, pid in RAN.findall(text)}
    assert runs == {str(during.public_id): job_pid, str(after.public_id): job_pid}, text
    assert text.count("redis unavailable, retrying") == 1, text
    assert "redis back" in text
    assert "Traceback" not in text, text


def _socket(cookie: bytes, job) -> WebsocketCommunicator:
    """The whole ASGI application (origin check, session auth, routing) with the user's session cookie."""
    from loveloveshot.asgi import application

    return WebsocketCommunicator(application, f"/ws/jobs/{job.public_id}/",
                                 headers=[(b"cookie", cookie), (b"origin", b"http://testserver"),
                                          (b"host", b"testserver")])


def test_job_socket_while_redis_is_down_says_reconnecting_and_closes_cleanly(user, client, session_redis):
    concept = build_concept()
    job = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                              photos_b=[upload("biden.jpg")], consent=_consent(user))
    run_checks()  # the photo check passes and the swap waits in line
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def talk():
        communicator = _socket(cookie, job)
        connected, _ = await communicator.connect(timeout=20)
        frames = []
        if connected:
            frames.append(await communicator.receive_json_from(timeout=20))
            frames.append(await communicator.receive_json_from(timeout=20))
            closed = await communicator.receive_output(timeout=20)
        else:
            closed = None
        await communicator.wait(timeout=20)
        return connected, frames, closed

    session_redis.stop()
    try:
        connected, frames, closed = async_to_sync(talk)()
    finally:
        session_redis.start()
    assert connected
    assert frames[0]["type"] == "state" and frames[0]["status"] == "queued"
    assert frames[1] == {"type": "reconnecting"}
    assert closed == {"type": "websocket.close", "code": TRY_AGAIN_LATER}

    # and with Redis back, the same socket works normally
    async def normal():
        communicator = _socket(cookie, job)
        connected, _ = await communicator.connect(timeout=20)
        frame = await communicator.receive_json_from(timeout=20)
        await communicator.disconnect()
        return connected, frame

    connected, frame = async_to_sync(normal)()
    assert connected and frame["type"] == "state" and frame["position"] == 1
