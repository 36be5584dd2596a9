"""Privacy promises, each with a test that fails if the promise breaks: uploads (and anything derived
from them) are gone when a job ends — done, failed for the last time, or cancelled; Redis never holds
image bytes; users can delete a result, a job or their whole account; consent is versioned and
recorded; sign-up asks for 14+; the upload screening hook can refuse a photo."""

import zlib

import django_rq
import numpy as np
import pytest
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.authtoken.models import Token

from accounts.models import ConsentRecord, User
from accounts.services import consent_record_create
from gallery.models import Report, Result
from gallery.services import report_create, result_create
from studio import realtime, services
from studio.models import Job, JobPhoto
from studio.screening import ScreeningResult
from tests.builders import build_concept, run_checks, run_worker, upload

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n", b"RIFF", b"ftypheic", b"/9j/", b"iVBORw0KGgo")


def consent_for(user, ip="203.0.113.7"):
    return consent_record_create(user=user, partner_confirmed=True, ip_address=ip)


def new_job(user, concept, a="obama.jpg", b="grace_hopper.jpg") -> Job:
    """A job whose photos passed the photo check (queue "check"): queued for the swap."""
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload(a)], photos_b=[upload(b)], consent=consent_for(user)
    )
    run_checks()
    job.refresh_from_db()
    return job


def storage_files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def upload_files(root) -> set[str]:
    return {f for f in storage_files(root) if f.startswith("uploads/")}


def redis_values() -> dict[bytes, list[bytes]]:
    """Every value of every key in the Redis the app uses (queue, rq jobs, channel layer)."""
    conn = django_rq.get_connection("swap")
    values: dict[bytes, list[bytes]] = {}
    for key in conn.scan_iter("*"):
        kind = conn.type(key).decode()
        if kind == "string":
            vals = [conn.get(key)]
        elif kind == "hash":
            vals = [v for kv in conn.hgetall(key).items() for v in kv]
        elif kind == "list":
            vals = conn.lrange(key, 0, -1)
        elif kind == "set":
            vals = list(conn.smembers(key))
        elif kind == "zset":
            vals = [m for m, _ in conn.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            vals = [v for _, fields in conn.xrange(key) for kv in fields.items() for v in kv]
        else:
            vals = []
        values[key] = [v for v in vals if v is not None]
    return values


def assert_no_image_bytes_in_redis() -> int:
    values = redis_values()
    for key, vals in values.items():
        for raw in vals:
            candidates = [raw]
            try:
                candidates.append(zlib.decompress(raw))  # rq stores job data zlib-compressed
            except zlib.error:
                pass
            for blob in candidates:
                assert len(blob) < 16_384, f"{key!r} holds a {len(blob)}-byte value"
                assert not any(m in blob for m in IMAGE_MAGIC), f"{key!r} holds image bytes"
    return len(values)


@pytest.fixture
def frames(monkeypatch):
    pushed: list[tuple[str, dict]] = []
    original = realtime.push

    def record(public_id, frame):
        pushed.append((str(public_id), frame))
        original(public_id, frame)

    monkeypatch.setattr(realtime, "push", record)
    return pushed


# --- retention ------------------------------------------------------------------------------------


def test_done_job_leaves_no_uploads_and_redis_never_holds_image_bytes(user, _private_media):
    concept = build_concept()
    job = new_job(user, concept)
    assert len(upload_files(_private_media)) == 2
    assert assert_no_image_bytes_in_redis() > 0  # the queued rq job: only the job id
    rq_job = django_rq.get_queue("swap").fetch_job(job.rq_job_id)
    assert rq_job.args == (str(job.public_id),)

    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert upload_files(_private_media) == set()
    assert not JobPhoto.objects.filter(job=job).exists()
    assert not (_private_media / "uploads" / str(job.public_id)).exists() or not any(
        (_private_media / "uploads" / str(job.public_id)).iterdir()
    )
    assert assert_no_image_bytes_in_redis() > 0  # finished rq job + channel frames: still no image bytes
    # only the labelled result and its thumbnail remain for this job
    assert {f for f in storage_files(_private_media) if f.startswith("results/")} == {
        f"results/{user.pk}/{r.public_id}{suffix}.jpg" for r in job.results.all() for suffix in ("", "_thumb")
    }


def test_failed_job_keeps_uploads_only_until_its_last_attempt(user, settings, _private_media):
    settings.JOB_MAX_ATTEMPTS = 2
    job = new_job(user, build_concept())
    django_rq.get_queue("swap").remove(job.rq_job_id)
    services.job_start(job=job)
    services.job_fail(job=job, code="internal", detail="first try")
    assert len(upload_files(_private_media)) == 2  # kept: a retry is still allowed
    services.job_retry(job=job)
    django_rq.get_queue("swap").remove(job.rq_job_id)
    job.refresh_from_db()
    services.job_start(job=job)
    services.job_fail(job=job, code="internal", detail="last try")
    assert upload_files(_private_media) == set()
    assert not JobPhoto.objects.filter(job=job).exists()


def test_cancel_queued_job_removes_it_from_the_queue_and_deletes_uploads(logged_client, user, frames, _private_media):
    job = new_job(user, build_concept())
    queue = django_rq.get_queue("swap")
    assert queue.get_job_ids() == [job.rq_job_id]
    page = logged_client.get(reverse("studio:job-detail", args=[job.public_id])).content.decode()
    assert 'data-testid="cancel-job"' in page

    response = logged_client.post(reverse("studio:job-cancel", args=[job.public_id]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and job.finished_at
    assert queue.get_job_ids() == [] and queue.fetch_job(job.rq_job_id) is None
    assert upload_files(_private_media) == set() and not job.photos.exists()
    assert (str(job.public_id), {"type": "status", "status": "cancelled"}) in frames
    run_worker()  # nothing left to run
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED and not job.results.exists()
    # the page shows the cancelled state and no cancel button any more
    page = logged_client.get(reverse("studio:job-detail", args=[job.public_id])).content.decode()
    assert 'data-status="cancelled"' in page
    # an ended job cannot be cancelled again
    with pytest.raises(ValidationError):
        services.job_cancel(job=job)


def test_cancel_while_running_throws_the_work_away(user, _private_media):
    concept = build_concept()
    job = new_job(user, concept)
    django_rq.get_queue("swap").remove(job.rq_job_id)
    services.job_start(job=job)
    services.job_cancel(job=job)  # the owner cancels while the worker renders
    assert upload_files(_private_media) == set()
    # the worker finishes its scene: it is not stored (the job is no longer its own), and "done" is ignored
    from gallery.services import ResultJobGone

    with pytest.raises(ResultJobGone):
        result_create(job=job, scene=concept.scenes.get(), variant=0,
                      image=np.full((300, 400, 3), 90, np.uint8), max_side=1600, thumb_side=480)
    services.job_finish(job=job)
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert not Result.objects.filter(job=job).exists()
    assert {f for f in storage_files(_private_media) if not f.startswith("scenes/")} == set()


def test_user_deletes_a_result_and_a_job(logged_client, user, _private_media):
    concept = build_concept()
    job = new_job(user, concept)
    run_worker()
    result = job.results.get()
    files = storage_files(_private_media)
    assert f"results/{user.pk}/{result.public_id}.jpg" in files

    assert logged_client.post(reverse("gallery:result-delete", args=[result.public_id])).status_code == 302
    assert not Result.objects.filter(pk=result.pk).exists()
    assert not any(f.startswith("results/") for f in storage_files(_private_media))

    queued = new_job(user, concept, a="biden.jpg", b="obama2.jpg")
    assert len(upload_files(_private_media)) == 2
    for j in (job, queued):
        response = logged_client.post(reverse("studio:job-delete", args=[j.public_id]))
        assert response.status_code == 302
    assert not Job.objects.filter(user=user).exists()
    assert upload_files(_private_media) == set()
    assert django_rq.get_queue("swap").get_job_ids() == []


def test_account_deletion_removes_every_file_and_row(client, user, other_user, password, _private_media):
    concept = build_concept()
    done = new_job(user, concept)
    theirs = new_job(other_user, concept, a="biden.jpg", b="obama.jpg")
    run_worker()
    queued = new_job(user, concept, a="obama2.jpg", b="grace_hopper.jpg")
    result = done.results.get()
    report_create(reporter=user, result=result, reason=Report.Reason.OTHER, text="testing")
    Token.objects.create(user=user)
    LogEntry.objects.log_actions(
        user_id=other_user.pk, queryset=[user], action_flag=2, change_message="test", single_object=True
    )
    own_paths = {f"results/{user.pk}/", f"uploads/{done.public_id}/", f"uploads/{queued.public_id}/"}
    before = storage_files(_private_media)
    assert any(f.startswith(tuple(own_paths)) for f in before)
    others_before = {f for f in before if not f.startswith(tuple(own_paths))}

    client.force_login(user)
    page = client.get(reverse("account-delete"))
    assert page.status_code == 200
    wrong = client.post(reverse("account-delete"), {"password": "not-it", "confirm": "on"})
    assert wrong.status_code == 400 and User.objects.filter(pk=user.pk).exists()

    response = client.post(reverse("account-delete"), {"password": password, "confirm": "on"})
    assert response.status_code == 302
    after = storage_files(_private_media)
    assert not any(f.startswith(tuple(own_paths)) for f in after)
    assert after == others_before  # the other couple's files and the scenes are untouched
    assert not User.objects.filter(pk=user.pk).exists()
    for model, lookup in (
        (Job, "user_id"), (Result, "user_id"), (ConsentRecord, "user_id"), (Token, "user_id"),
        (Report, "reporter_id"), (Report, "result__user_id"),
    ):
        assert not model.objects.filter(**{lookup: user.pk}).exists(), model
    assert not JobPhoto.objects.filter(job__public_id__in=[done.public_id, queued.public_id]).exists()
    assert django_rq.get_queue("swap").get_job_ids() == []
    assert not LogEntry.objects.filter(object_repr=user.email).exists()
    assert Job.objects.filter(pk=theirs.pk).exists() and Result.objects.filter(user=other_user).exists()
    assert client.get(reverse("gallery:album")).status_code == 302  # logged out


# --- consent --------------------------------------------------------------------------------------


def test_consent_is_versioned_recorded_and_asked_again_after_a_change(logged_client, user, settings):
    build_concept()
    page = logged_client.get(reverse("studio:job-new")).content.decode()
    assert 'data-testid="terms-changed"' not in page and settings.TERMS_VERSION in page

    response = logged_client.post(
        reverse("studio:job-new"),
        {"concept": "film-date", "photos_a": upload("obama.jpg"), "photos_b": upload("grace_hopper.jpg"),
         "consent": "on"},
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 400 and not Job.objects.exists()  # Person B's agreement is required
    response = logged_client.post(
        reverse("studio:job-new"),
        {"concept": "film-date", "photos_a": upload("obama.jpg"), "photos_b": upload("grace_hopper.jpg"),
         "consent": "on", "partner_consent": "on"},
        REMOTE_ADDR="198.51.100.4",
    )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.consent.terms_version == settings.TERMS_VERSION
    assert job.consent.ip_address == "198.51.100.4" and job.consent.partner_confirmed and job.consent.created_at

    settings.TERMS_VERSION = "2099-01-01"  # the terms change
    page = logged_client.get(reverse("studio:job-new")).content.decode()
    assert 'data-testid="terms-changed"' in page and "2099-01-01" in page
    with pytest.raises(ValidationError) as exc:  # an old acceptance is not enough any more
        services.job_create(
            user=user, concept=job.concept, photos_a=[upload("obama.jpg")], photos_b=[upload("grace_hopper.jpg")],
            consent=job.consent,
        )
    assert "consent" in exc.value.message_dict


def test_terms_page_shows_the_current_version_in_both_languages(client, settings):
    ko = client.get("/terms/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    en = client.get("/terms/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert settings.TERMS_VERSION in ko and settings.TERMS_VERSION in en
    assert "Upload terms" in en and "업로드 약관" in ko


# --- sign-up age, screening, scenes ---------------------------------------------------------------


def test_signup_requires_the_14_plus_confirmation(client):
    data = {"email": "young@example.com", "password1": "Han-river-2026!", "password2": "Han-river-2026!"}
    response = client.post(reverse("account_signup"), data)
    assert response.status_code == 200 and not User.objects.filter(email="young@example.com").exists()
    assert "14" in response.content.decode()
    response = client.post(reverse("account_signup"), {**data, "age_confirmed": "on"})
    assert response.status_code == 200, "the terms and privacy policy are accepted explicitly"
    assert not User.objects.filter(email="young@example.com").exists()
    response = client.post(reverse("account_signup"), {**data, "age_confirmed": "on", "terms_accepted": "on"})
    assert response.status_code == 302
    assert User.objects.get(email="young@example.com").age_confirmed_at is not None


def refuse_everything(image) -> ScreeningResult:
    assert image.ndim == 3 and image.shape[2] == 3  # the decoded photo as it would be stored
    return ScreeningResult(allowed=False, code="test", message="Refused by the test screener.")


def test_screening_hook_can_refuse_an_upload(user, settings, _private_media):
    """The screener runs in the photo check (worker side), on the photo exactly as stored; a refused
    photo never reaches the swap and is shown as needing another photo."""
    concept = build_concept()
    settings.UPLOAD_SCREENER = "tests.integration.test_privacy.refuse_everything"
    job = new_job(user, concept)
    assert job.status == Job.Status.CHECKING
    assert sorted(job.photos.values_list("name", "verdict", "reject_code")) == [
        ("grace_hopper.jpg", "rejected", "screened"), ("obama.jpg", "rejected", "screened")]
    assert django_rq.get_queue("swap").count == 0
    settings.UPLOAD_SCREENER = "studio.screening.allow_all"
    assert new_job(user, concept).status == Job.Status.QUEUED


def test_users_can_never_supply_the_target_scene():
    from studio.api import JobInputSerializer
    from studio.forms import JobForm

    # no field takes a target photo: only the couple's own photos, a curated concept, and choices
    assert set(JobForm().fields) == {"concept", "photos_a", "photos_b", "swap_slots", "consent", "partner_consent"}
    assert set(JobInputSerializer().fields) == {"concept", "photos_a", "photos_b", "swap_slots", "consent"}
    assert settings.TERMS_VERSION
