"""A couple-photo job through the real queue: services → django-rq on a real redis-server → a real
rq worker → results, with frames pushed over real channels-redis to the job's websocket."""

import asyncio
import threading

import cv2
import django_rq
import numpy as np
import pytest
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import consent_record_create
from engine import get_engine
from engine.identity import SFaceEmbedder, cosine
from gallery.models import Result
from studio import services
from studio.consumers import JobConsumer
from studio.models import Job, JobPhoto
from studio.selectors import job_state
from tests.builders import build_concept, portrait_bytes, run_checks, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)


def consent_for(user):
    return consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")


def checked(*jobs):
    """The photo checks run on the worker side (queue "check"): run them, the jobs are then queued."""
    run_checks()
    for job in jobs:
        job.refresh_from_db()
    return jobs[0] if len(jobs) == 1 else jobs


def stored_files(settings) -> list[str]:
    root = settings.PRIVATE_MEDIA_ROOT / "uploads"
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_bad_uploads_are_refused_with_per_file_messages_and_nothing_stored(user, settings):
    concept = build_concept()
    with pytest.raises(ValidationError) as exc:
        services.job_create(
            user=user,
            concept=concept,
            photos_a=[SimpleUploadedFile("notes.jpg", b"this is not a photo", content_type="image/jpeg")],
            photos_b=[upload("obama.jpg")],
            consent=consent_for(user),
        )
    errors = exc.value.message_dict
    assert list(errors) == ["photos_a"]
    assert "notes.jpg" in errors["photos_a"][0]
    assert "사진" in errors["photos_a"][0]  # Korean is the default language
    assert Job.objects.count() == 0 and JobPhoto.objects.count() == 0
    assert stored_files(settings) == []
    assert django_rq.get_queue("swap").count == 0


def test_photo_without_a_face_is_refused_by_the_photo_check(user):
    concept = build_concept()
    blank = np.full((600, 600, 3), 200, np.uint8)
    ok, buf = cv2.imencode(".png", blank)
    job = services.job_create(
        user=user,
        concept=concept,
        photos_a=[upload("obama.jpg")],
        photos_b=[SimpleUploadedFile("wall.png", buf.tobytes(), content_type="image/png")],
        consent=consent_for(user),
    )
    checked(job)
    photo = job.photos.get(person="b")
    assert (photo.name, photo.verdict, photo.reject_code) == ("wall.png", "rejected", "no_face")
    assert job.status == Job.Status.CHECKING and django_rq.get_queue("swap").count == 0


def test_standard_plan_needs_exactly_one_photo_each_and_consent(user):
    concept = build_concept()
    with pytest.raises(ValidationError) as exc:
        services.job_create(
            user=user,
            concept=concept,
            photos_a=[upload("obama.jpg"), upload("obama2.jpg")],
            photos_b=[upload("biden.jpg")],
            consent=None,
        )
    assert set(exc.value.message_dict) == {"photos_a", "consent"}


def test_queue_positions_follow_submission_order(user, other_user):
    concept = build_concept()
    first = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")],
        consent=consent_for(user),
    )
    second = services.job_create(
        user=other_user, concept=concept, photos_a=[upload("grace_hopper.jpg")], photos_b=[upload("astronaut.png")],
        consent=consent_for(other_user),
    )
    checked(first, second)
    queue = django_rq.get_queue("swap")
    assert queue.get_job_ids() == [first.rq_job_id, second.rq_job_id]
    assert job_state(job=first)["position"] == 1
    assert job_state(job=second)["position"] == 2


def test_job_runs_on_worker_and_pushes_frames_to_the_owner_socket(user, settings):
    concept = build_concept(pairs=(("obama.jpg", "biden.jpg"),))
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("grace_hopper.jpg")], photos_b=[upload("astronaut.png")],
        consent=consent_for(user),
    )
    assert len(stored_files(settings)) == 2  # stored privately until the job ends
    checked(job)

    async def scenario():
        comm = WebsocketCommunicator(JobConsumer.as_asgi(), f"/ws/jobs/{job.public_id}/")
        comm.scope["user"] = user
        comm.scope["url_route"] = {"kwargs": {"public_id": str(job.public_id)}}
        connected, _ = await comm.connect()
        assert connected
        first = await comm.receive_json_from(timeout=5)
        assert first["type"] == "state" and first["status"] == "queued" and first["position"] == 1

        worker = threading.Thread(target=run_worker)
        worker.start()
        frames = []
        while True:
            frame = await comm.receive_json_from(timeout=120)
            frames.append(frame)
            if frame["type"] in ("done", "failed"):
                break
        await asyncio.get_running_loop().run_in_executor(None, worker.join)
        await comm.disconnect()
        return frames

    frames = asyncio.run(scenario())
    types = [f["type"] for f in frames]
    assert types[0] == "status" and frames[0]["status"] == "running"
    stages = [f["stage"] for f in frames if f["type"] == "progress"]
    assert {"detect", "swap", "finish"} <= set(stages)
    pcts = [f["pct"] for f in frames if f["type"] == "progress"]
    assert pcts == sorted(pcts)
    assert types[-1] == "done", frames[-1]
    results = frames[-1]["results"]
    assert len(results) == 1

    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.progress == 100
    result = Result.objects.get(job=job)
    assert result.user == user
    # uploads are gone once the job has ended
    assert stored_files(settings) == [] and job.photos.count() == 0

    # The result really carries the users' faces: each scene face is now closer to its user.
    engine = get_engine()
    embedder = SFaceEmbedder()
    out = cv2.imread(result.image.path)
    scene = cv2.imread(result.scene.image.path)
    scale = out.shape[1] / scene.shape[1]
    if scale != 1:
        scene = cv2.resize(scene, (out.shape[1], out.shape[0]), interpolation=cv2.INTER_AREA)
    out_faces = engine.match_slots(out, result.scene.slots)
    scene_faces = engine.match_slots(scene, result.scene.slots)
    for name, out_face, scene_face in zip(("grace_hopper.jpg", "astronaut.png"), out_faces, scene_faces, strict=True):
        user_img = cv2.imdecode(np.frombuffer(portrait_bytes(name), np.uint8), cv2.IMREAD_COLOR)
        user_face = max(engine.inspect(user_img), key=lambda f: f.box[2] * f.box[3])
        swapped = embedder.embed(out, out_face)
        assert cosine(swapped, embedder.embed(user_img, user_face)) > cosine(swapped, embedder.embed(scene, scene_face))


def test_socket_refuses_strangers_and_anonymous(user, other_user):
    concept = build_concept()
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")],
        consent=consent_for(user),
    )
    from django.contrib.auth.models import AnonymousUser

    async def try_as(who):
        comm = WebsocketCommunicator(JobConsumer.as_asgi(), f"/ws/jobs/{job.public_id}/")
        comm.scope["user"] = who
        comm.scope["url_route"] = {"kwargs": {"public_id": str(job.public_id)}}
        connected, code = await comm.connect(timeout=30)
        # let the refused consumer finish inside this loop (asyncio.run would otherwise cancel it
        # while it may still be leaving a thread-sensitive database call)
        await comm.disconnect(timeout=30)
        return connected, code

    assert asyncio.run(try_as(other_user)) == (False, 4404)
    assert asyncio.run(try_as(AnonymousUser())) == (False, 4401)


def test_failed_job_tells_why_and_can_be_retried(user, settings):
    concept = build_concept()
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")],
        consent=consent_for(user),
    )
    checked(job)
    # the stored upload disappears before the worker runs (e.g. storage lost a file)
    broken = job.photos.get(person="a")
    broken.file.storage.save(broken.file.name + ".bak", broken.file)
    backup = broken.file.name + ".bak"
    broken.file.storage.delete(broken.file.name)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "internal"
    state = job_state(job=job)
    assert state["reason"] and state["can_retry"] is True
    assert job.photos.count() == 2  # kept for the retry

    # put the file back and retry: the job runs again and finishes
    broken.file.storage.save(broken.file.name, broken.file.storage.open(backup))
    services.job_retry(job=job)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert django_rq.get_queue("swap").get_job_ids() == [job.rq_job_id]
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE and job.attempts == 2
    assert job.results.count() == 1


def test_retries_are_bounded(user, settings):
    settings.JOB_MAX_ATTEMPTS = 1
    concept = build_concept()
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")],
        consent=consent_for(user),
    )
    services.job_start(job=checked(job))
    services.job_fail(job=job, code="internal", detail="test")
    job.refresh_from_db()
    assert job.can_retry is False
    assert job.photos.count() == 0  # last attempt over: uploads deleted
    with pytest.raises(ValidationError):
        services.job_retry(job=job)


def test_a_scene_larger_than_the_stored_result_is_swapped_at_the_result_size(user, settings, monkeypatch):
    """Results are stored at RESULT_MAX_SIDE at most, so the worker swaps a larger scene at about that
    size (cheaper, the same stored photo) — but never so small that a slot face gets narrower than 120 px."""
    from engine import Engine

    settings.RESULT_MAX_SIDE = 800
    concept = build_concept()  # a 1280 px wide composed scene
    seen = []
    real_run = Engine.run

    def spy(self, scene_img, *args, **kwargs):
        seen.append(scene_img.shape[:2])
        return real_run(self, scene_img, *args, **kwargs)

    monkeypatch.setattr(Engine, "run", spy)

    def submit_and_run() -> Job:
        job = services.job_create(
            user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("biden.jpg")],
            consent=consent_for(user),
        )
        run_worker()
        job.refresh_from_db()
        assert job.status == Job.Status.DONE, (job.error_code, job.error_message)
        return job

    scene = submit_and_run().results.get().scene
    assert seen and max(seen[0]) == 800 < max(scene.image.height, scene.image.width)
    narrowest = min(s[2] for s in scene.slots) * seen[0][1]
    assert narrowest >= 120

    # with tiny faces the scene is shrunk less: the narrowest face box stays 120 px wide
    settings.RESULT_MAX_SIDE = 200
    submit_and_run()
    assert min(s[2] for s in scene.slots) * seen[-1][1] >= 119.5
