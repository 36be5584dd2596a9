"""Photo checks off the submit request (issue 14), on the real redis-server with a real rq worker for
the ``check`` queue: the request stores the photos and answers; the check task sets each photo's
verdict, pushes it to the job's websocket, and queues the swap when every photo is fine; a rejected
photo is replaced on the same job."""

import asyncio
import io
import threading

import django_rq
import pytest
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from PIL import Image

from accounts.models import ConsentRecord
from studio import services
from studio.consumers import JobConsumer
from studio.models import Job, JobPhoto
from studio.selectors import job_state
from tests.builders import build_concept, run_checks, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)


def wall(name="wall.jpg", size=(640, 480)) -> SimpleUploadedFile:
    """A real photo with no face in it: passes the cheap checks, fails the face check."""
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 190, 180)).save(buf, "JPEG", quality=90)
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def create(user, concept, a=None, b=None, **kw):
    return services.job_create(
        user=user, concept=concept, photos_a=a or [upload("grace_hopper.jpg")], photos_b=b or [upload("biden.jpg")],
        partner_confirmed=True, ip_address="127.0.0.1", **kw,
    )


def test_submit_stores_photos_and_answers_without_checking_faces(user, settings):
    concept = build_concept()
    job = create(user, concept, b=[wall()])  # no face: not noticed by the request
    assert job.status == Job.Status.CHECKING
    assert sorted(job.photos.values_list("person", "verdict", "name")) == [
        ("a", "pending", "grace_hopper.jpg"), ("b", "pending", "wall.jpg")]
    assert django_rq.get_queue("check").count == 1
    assert django_rq.get_queue("swap").count == 0
    assert job.consent is not None and job.consent.ip_address == "127.0.0.1"
    stored = job.photos.get(person="a").file.read()
    assert stored[:2] == b"\xff\xd8" and b"Exif\x00\x00" not in stored[:4096]


def test_check_worker_pushes_each_verdict_then_queues_the_swap(user):
    concept = build_concept()
    job = create(user, concept)

    async def scenario():
        comm = WebsocketCommunicator(JobConsumer.as_asgi(), f"/ws/jobs/{job.public_id}/")
        comm.scope["user"] = user
        comm.scope["url_route"] = {"kwargs": {"public_id": str(job.public_id)}}
        connected, _ = await comm.connect()
        assert connected
        first = await comm.receive_json_from(timeout=5)
        assert first["status"] == "checking"
        assert [p["verdict"] for p in first["photos"]] == ["pending", "pending"]
        worker = threading.Thread(target=run_checks)
        worker.start()
        frames = []
        while not any(f.get("type") == "status" and f.get("status") == "queued" for f in frames):
            frames.append(await comm.receive_json_from(timeout=120))
        worker.join()
        await comm.disconnect()
        return frames

    frames = asyncio.run(scenario())
    photo_frames = [f for f in frames if f["type"] == "photo"]
    assert [(f["photo"], f["verdict"]) for f in photo_frames] == [("a0", "ok"), ("b0", "ok")]
    queued = next(f for f in frames if f.get("status") == "queued")
    assert queued["position"] == 1  # "#1 in line" reaches the page even when a swap worker is idle
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert django_rq.get_queue("swap").get_job_ids() == [job.rq_job_id]
    assert django_rq.get_queue("check").count == 0


def test_rejected_photo_is_replaced_on_the_same_job_and_the_job_completes(user, settings):
    concept = build_concept()
    job = create(user, concept, b=[wall("beach.jpg")])
    first_a = job.photos.get(person="a").file.name
    run_checks()
    job.refresh_from_db()
    assert job.status == Job.Status.CHECKING  # waits for a better photo; the swap is not queued
    b0 = job.photos.get(person="b")
    assert (b0.verdict, b0.reject_code) == ("rejected", "no_face")
    assert job.photos.get(person="a").verdict == "ok"
    assert django_rq.get_queue("swap").count == 0
    with translation.override("ko"):
        state = job_state(job=job)
    rejected = [p for p in state["photos"] if p["verdict"] == "rejected"]
    assert rejected[0]["photo"] == "b0" and "얼굴" in rejected[0]["reason"] and rejected[0]["name"] == "beach.jpg"

    old_b = b0.file.name
    services.job_photo_replace(job=job, slot="b0", upload=upload("biden.jpg"))
    b0.refresh_from_db()
    assert b0.verdict == "pending" and b0.name == "biden.jpg" and b0.file.name != old_b
    assert not b0.file.storage.exists(old_b)  # the refused photo is gone from disk
    assert job.photos.get(person="a").file.name == first_a  # the other photo was not uploaded again
    run_worker()  # the check of the new photo, then the swap
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, (job.error_code, job.error_message)
    assert job.results.count() == 1


def test_only_a_rejected_photo_of_a_job_still_checking_can_be_replaced(user):
    concept = build_concept()
    job = create(user, concept)
    run_checks()
    job.refresh_from_db()
    with pytest.raises(ValidationError):
        services.job_photo_replace(job=job, slot="a0", upload=upload("obama.jpg"))  # job already queued


def test_replacement_through_the_job_page_is_owner_only(client, user, other_user):
    concept = build_concept()
    job = create(user, concept, b=[wall()])
    run_checks()
    url = reverse("studio:job-photo-replace", args=[job.public_id, "b0"])
    client.force_login(other_user)
    assert client.post(url, {"photo": upload("biden.jpg")}).status_code == 404
    client.force_login(user)
    bad = client.post(url, {"photo": SimpleUploadedFile("empty.jpg", b"")}, HTTP_ACCEPT="application/json")
    assert bad.status_code == 400 and "empty.jpg" in bad.json()["errors"][0]["message"]
    response = client.post(url, {"photo": upload("biden.jpg")})
    assert response.status_code == 302
    assert job.photos.get(person="b").verdict == "pending"
    assert django_rq.get_queue("check").count == 1


def test_premium_photos_of_another_person_are_rejected_by_the_check(premium_user):
    concept = build_concept()
    a = [upload("obama.jpg"), upload("obama2.jpg"), upload("obama3.jpg"), upload("biden.jpg", "friend.jpg")]
    b = [upload("grace_hopper.jpg"), upload("grace_hopper.jpg", "gh2.jpg"), upload("grace_hopper.jpg", "gh3.jpg")]
    job = create(premium_user, concept, a=a, b=b)
    run_checks()
    job.refresh_from_db()
    assert job.status == Job.Status.CHECKING
    rejected = list(job.photos.filter(verdict="rejected").values_list("person", "index", "reject_code"))
    assert rejected == [("a", 3, "not_same_person")]


def test_partner_api_job_with_a_rejected_photo_fails_with_the_reason(user):
    concept = build_concept()
    job = create(user, concept, b=[wall()], source=Job.Source.API)
    run_checks()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.error_code == "no_face"
    assert django_rq.get_queue("swap").count == 0


def test_cheap_refusal_writes_no_consent_and_stores_nothing(client, user, settings):
    """Issue 13 item 8: consent only together with a created job."""
    concept = build_concept()
    client.force_login(user)
    response = client.post(
        reverse("studio:job-new"),
        {"concept": concept.slug, "photos_a": SimpleUploadedFile("notes.jpg", b"not a photo at all"),
         "photos_b": upload("biden.jpg"), "consent": "on", "partner_consent": "on"},
    )
    assert response.status_code == 400
    assert ConsentRecord.objects.count() == 0 and Job.objects.count() == 0 and JobPhoto.objects.count() == 0
    response = client.post(
        reverse("studio:job-new"),
        {"concept": concept.slug, "photos_a": upload("grace_hopper.jpg"), "photos_b": upload("biden.jpg"),
         "consent": "on", "partner_consent": "on"},
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert ConsentRecord.objects.count() == 1 and job.consent == ConsentRecord.objects.get()


@pytest.mark.parametrize(("lang", "expected"), [
    ("ko", "A님의 두 번째 사진(empty.jpg)이 비어 있어요"), ("en", "Person A's second photo (empty.jpg) is empty")])
def test_empty_file_is_named_with_its_person_and_place(client, premium_user, lang, expected):
    """Issue 13 item 15: not Django's anonymous "The submitted file is empty."."""
    concept = build_concept()
    client.force_login(premium_user)
    photos_a = [upload("obama.jpg"), SimpleUploadedFile("empty.jpg", b""), upload("obama3.jpg")]
    photos_b = [upload("grace_hopper.jpg"), upload("grace_hopper.jpg", "g2.jpg"), upload("grace_hopper.jpg", "g3.jpg")]
    response = client.post(
        reverse("studio:job-new"),
        {"concept": concept.slug, "photos_a": photos_a, "photos_b": photos_b, "consent": "on",
         "partner_consent": "on"},
        HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE=lang,
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["field"], e["index"]) for e in errors] == [("photos_a", 1)]  # the file, marked in place
    assert expected in errors[0]["message"]
    assert "submitted file is empty" not in response.content.decode()


def test_form_json_answer_marks_the_bad_file_and_redirects_on_success(client, premium_user):
    concept = build_concept()
    client.force_login(premium_user)
    big = io.BytesIO()
    Image.new("RGB", (60, 60), (10, 10, 10)).save(big, "PNG")
    data = {"concept": concept.slug, "consent": "on", "partner_consent": "on",
            "photos_a": [upload("obama.jpg"), upload("obama2.jpg"), SimpleUploadedFile("tiny.png", big.getvalue())],
            "photos_b": [upload("grace_hopper.jpg"), upload("grace_hopper.jpg", "g2.jpg"),
                         upload("grace_hopper.jpg", "g3.jpg")]}
    response = client.post(reverse("studio:job-new"), data, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [(e["field"], e["index"]) for e in errors] == [("photos_a", 2)]
    assert "tiny.png" in errors[0]["message"]
    data["photos_a"][2] = upload("obama3.jpg")
    for f in data["photos_a"] + data["photos_b"]:
        f.seek(0)
    response = client.post(reverse("studio:job-new"), data, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    job = Job.objects.get()
    assert response.json()["redirect"] == reverse("studio:job-detail", args=[job.public_id])


def test_eleventh_job_in_an_hour_through_the_form_gets_429_with_retry_after(client, user, settings):
    concept = build_concept()
    settings.JOB_QUOTAS = {**settings.JOB_QUOTAS, "standard": {"active": 50, "per_hour": 2}}
    client.force_login(user)

    def post():
        return client.post(
            reverse("studio:job-new"),
            {"concept": concept.slug, "photos_a": upload("grace_hopper.jpg"), "photos_b": upload("biden.jpg"),
             "consent": "on", "partner_consent": "on"},
        )

    assert post().status_code == 302 and post().status_code == 302
    response = post()
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 60
    assert "시간" in response.content.decode() or "hour" in response.content.decode()
    assert Job.objects.count() == 2 and ConsentRecord.objects.count() == 2


def test_progress_is_monotone_within_an_attempt(user):
    concept = build_concept()
    job = create(user, concept)
    run_checks()
    job.refresh_from_db()
    job = services.job_start(job=job)
    seen = []
    for stage, pct in [("detect", 10), ("swap", 40), ("detect", 45), ("finish", 60), ("swap", 50), ("finish", 95)]:
        services.job_report_progress(job=job, stage=stage, pct=pct)
        job.refresh_from_db()
        seen.append((job.stage, job.progress))
    order = ["detect", "swap", "finish"]
    assert [p for _, p in seen] == sorted(p for _, p in seen)
    assert [order.index(s) for s, _ in seen] == sorted(order.index(s) for s, _ in seen)


def test_time_estimate_is_the_median_of_measured_runs(user):
    from datetime import timedelta

    from django.utils import timezone

    from studio.selectors import TYPICAL_SECONDS_DEFAULT, job_typical_seconds

    assert job_typical_seconds() == TYPICAL_SECONDS_DEFAULT
    concept = build_concept()
    now = timezone.now()
    for seconds in (12, 14, 40):
        Job.objects.create(user=user, concept=concept, plan="standard", status=Job.Status.DONE,
                           started_at=now - timedelta(seconds=seconds), finished_at=now)
    assert job_typical_seconds() == 14
    job = create(user, concept)
    assert job_state(job=job)["typical_seconds"] == 14


def test_stuck_check_is_enqueued_again_by_the_sweeper(user, settings):
    concept = build_concept()
    job = create(user, concept)
    django_rq.get_queue("check").empty()  # as if Redis lost it
    settings.JOB_ORPHAN_SECONDS = 0
    counts = services.jobs_recover()
    assert counts["rechecked"] == 1
    assert django_rq.get_queue("check").count == 1
    assert services.jobs_recover()["rechecked"] == 0  # already waiting: not twice
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE


def test_a_check_still_running_is_not_queued_a_second_time(user, settings, monkeypatch):
    """A check that runs longer than JOB_ORPHAN_SECONDS (slow models, many photos) is in the check
    queue's started registry, not in the queue: the sweeper must leave it alone."""
    from datetime import timedelta

    from django.utils import timezone

    from gpu_worker import checks

    concept = build_concept()
    job = create(user, concept)
    entered, release = threading.Event(), threading.Event()
    real_verdict = checks.photo_verdict

    def held_verdict(engine, img):  # the real check, held in the middle of its first photo
        entered.set()
        assert release.wait(120)
        return real_verdict(engine, img)

    monkeypatch.setattr(checks, "photo_verdict", held_verdict)
    worker = threading.Thread(target=run_checks)
    worker.start()
    try:
        assert entered.wait(120)  # the check worker is running this job's check
        check_queue = django_rq.get_queue("check")
        assert check_queue.count == 0
        assert any(i.startswith(job.check_rq_job_id) for i in check_queue.started_job_registry.get_job_ids())
        settings.JOB_ORPHAN_SECONDS = 1
        later = timezone.now() + timedelta(seconds=30)  # the check has been running "30 s"
        assert services.jobs_recover(now=later)["rechecked"] == 0
        assert check_queue.count == 0  # not queued a second time
    finally:
        release.set()
        worker.join(180)
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED  # the one check finished the job's photos
    assert django_rq.get_queue("check").count == 0
    # once it has finished nothing is left to recheck, whatever the clock says
    assert services.jobs_recover(now=timezone.now() + timedelta(seconds=30))["rechecked"] == 0


def test_job_page_offers_stop_while_going_and_delete_once_ended(client, user):
    """Issue 16 item 8: never two similar destructive buttons; "stop" while the job is going, "delete"
    once it has ended; the form's plan line links to the plans page."""
    import re

    concept = build_concept()
    job = create(user, concept)
    client.force_login(user)
    url = reverse("studio:job-detail", args=[job.public_id])

    def shown(page, marker):
        tag = re.search(r"<[^>]*" + marker + r"[^>]*>", page).group(0)
        return " hidden" not in tag

    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert shown(page, "data-cancel") and not shown(page, "data-delete-job")
    assert "Stop now and delete our uploaded photos" in page
    services.job_cancel(job=job)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert not shown(page, "data-cancel") and shown(page, "data-delete-job")
    assert "이 작업과 사진 모두 삭제하기" in page
    form = client.get(reverse("studio:job-new")).content.decode()
    assert re.search(r'<a href="/plans/" data-testid="form-plan-link">', form)


def test_form_copy_states_the_measured_time(client, user):
    """Issue 16: "usually about N seconds" from measured runs, not "a few minutes"."""
    from datetime import timedelta

    from django.utils import timezone

    concept = build_concept()
    now = timezone.now()
    for seconds in (31, 33, 34):
        Job.objects.create(user=user, concept=concept, plan="standard", status=Job.Status.DONE,
                           started_at=now - timedelta(seconds=seconds), finished_at=now)
    client.force_login(user)
    page = client.get(reverse("studio:job-new"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "usually takes about 35 seconds" in page and "a few minutes" not in page
    page = client.get(reverse("studio:job-new"), HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "보통 35초쯤" in page


def test_hair_over_the_brows_is_accepted_with_a_note_kept_after_the_uploads_are_gone(logged_client, user):
    """A lock of hair over one brow: the photo is fine to use, but the couple photo keeps the scene's
    forehead and brows. The check says so on the photo while checking and with the results once done,
    after the uploads themselves are deleted; the other person's photo has no note."""
    concept = build_concept()
    job = create(user, concept, a=[upload("../synthetic_faces/sfhq_pt1_00002921.jpg")])
    run_checks()
    a0, b0 = job.photos.get(person="a"), job.photos.get(person="b")
    assert (a0.verdict, a0.note_codes) == ("ok", "hair_over_brows")
    assert (b0.verdict, b0.note_codes) == ("ok", "")
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE, (job.error_code, job.error_message)
    assert not job.photos.exists()  # the uploads are gone, the note is on the job
    assert job.photo_notes == ["a:hair_over_brows"]
    with translation.override("en"):
        notes = job_state(job=job)["notes"]
    assert [n["person"] for n in notes] == ["a"] and "keeps the scene's forehead" in notes[0]["text"]
    page = logged_client.get(reverse("studio:job-detail", args=[job.public_id]), HTTP_ACCEPT_LANGUAGE="ko")
    html = page.content.decode()
    assert 'data-testid="result-notes"' in html and "이마가 드러난 사진" in html
    assert 'data-testid="result-notes" hidden' not in html
