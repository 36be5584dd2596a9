"""Writes for couple-photo jobs. Every state transition lives here and pushes exactly one frame."""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from accounts.models import ConsentRecord, User
from gallery.models import Concept
from engine import decode_image

from . import queue, realtime
from .messages import error_message
from .models import Job, JobPhoto
from .screening import screen_upload
from .uploads import photos_check

logger = logging.getLogger(__name__)


def _enqueue_after_commit(job: Job) -> None:
    def _go() -> None:
        try:
            queue.enqueue(job=job)
        except RedisError:
            # The job row is committed: jobs_recover() enqueues it once Redis is back.
            logger.warning("Redis unavailable: job %s will be enqueued by the sweeper", job.public_id)
            return
        queue.broadcast_positions()

    transaction.on_commit(_go)


class JobQuotaExceeded(ValidationError):
    """Too many jobs at once or in the last hour (answered with 429 and Retry-After)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, code="rate_limited")
        self.retry_after = retry_after


def job_quota_check(*, user: User) -> None:
    """Raise JobQuotaExceeded when ``user`` may not start another job right now."""
    quota = settings.JOB_QUOTAS["partner" if user.is_partner else user.plan]
    active = Job.objects.filter(user=user, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).count()
    if active >= quota["active"]:
        raise JobQuotaExceeded(
            _("You already have %(n)d couple photos in progress. Please wait until one is finished.")
            % {"n": active},
            retry_after=30,
        )
    since = timezone.now() - timedelta(hours=1)
    recent = Job.objects.filter(user=user, created_at__gte=since).order_by("created_at")
    if recent.count() >= quota["per_hour"]:
        oldest = recent.first().created_at
        wait = max(60, int((oldest + timedelta(hours=1) - timezone.now()).total_seconds()))
        raise JobQuotaExceeded(
            _("You made %(n)d couple photos in the last hour, the most your plan allows. "
              "Please try again in %(minutes)d minutes.") % {"n": quota["per_hour"], "minutes": -(-wait // 60)},
            retry_after=wait,
        )


def job_create(
    *,
    user: User,
    concept: Concept,
    photos_a: list[UploadedFile],
    photos_b: list[UploadedFile],
    consent: ConsentRecord | None,
    source: str = Job.Source.WEB,
    swap_slots: bool = False,
) -> Job:
    """Validate uploads, store them privately, create the Job and queue it.

    Raises ValidationError with per-field messages (in the active language) and stores nothing
    when anything is wrong; JobQuotaExceeded when the account is over its limits."""
    job_quota_check(user=user)
    errors: dict[str, list[str]] = {}
    if consent is None or consent.terms_version != settings.TERMS_VERSION or not consent.partner_confirmed:
        errors["consent"] = [_("Please accept the upload terms and confirm Person B agreed.")]
    if not concept.is_published or not concept.scenes.filter(is_published=True).exists():
        errors["concept"] = [_("This concept is not available. Please pick another one.")]
    plan = user.plan
    checked_a, errors_a = photos_check(photos=photos_a, plan=plan, label=_("Person A"))
    checked_b, errors_b = photos_check(photos=photos_b, plan=plan, label=_("Person B"))
    if errors_a:
        errors["photos_a"] = errors_a
    if errors_b:
        errors["photos_b"] = errors_b
    if not errors:
        errors.update(_screen(photos_a=photos_a, photos_b=photos_b, checked_a=checked_a, checked_b=checked_b))
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # Two submits from one account at the same moment: lock the account row and check again, so
        # both cannot pass the quota (PostgreSQL; SQLite serialises writers anyway).
        User.objects.select_for_update().filter(pk=user.pk).first()
        job_quota_check(user=user)
        job = Job.objects.create(
            user=user,
            concept=concept,
            consent=consent,
            plan=plan,
            source=source,
            status=Job.Status.QUEUED,
            language=(get_language() or settings.LANGUAGE_CODE)[:8],
            swap_slots=swap_slots,
            queued_at=timezone.now(),
        )
        for person, checked in (("a", checked_a), ("b", checked_b)):
            for index, photo in enumerate(checked):
                jp = JobPhoto(job=job, person=person, index=index)
                jp.file.save("photo.jpg", ContentFile(photo.jpeg), save=False)
                jp.save()
        _enqueue_after_commit(job)
    return job


def _screen(*, photos_a, photos_b, checked_a, checked_b) -> dict[str, list[str]]:
    """The screening hook (studio/screening.py) on every photo, as it will be stored."""
    errors: dict[str, list[str]] = {}
    for field, label, uploads, checked in (
        ("photos_a", _("Person A"), photos_a, checked_a),
        ("photos_b", _("Person B"), photos_b, checked_b),
    ):
        for upload, photo in zip(uploads, checked, strict=True):
            result = screen_upload(decode_image(photo.jpeg))
            if not result.allowed:
                logger.info("Upload refused by the screener: %s", result.code or "no code")
                name = (upload.name or "photo")[:80]
                errors.setdefault(field, []).append(f"{label} · {name}: {result.user_message}")
    return errors


def _transition(job: Job, frame: dict, **fields) -> Job:
    for key, value in fields.items():
        setattr(job, key, value)
    job.save(update_fields=[*fields.keys(), "updated_at"])
    realtime.push(job.public_id, frame)
    return job


def job_start(*, job: Job) -> Job | None:
    """queued → running. Claimed with a conditional UPDATE so a job delivered twice runs once;
    returns None when another worker (or a cancel) got there first."""
    now = timezone.now()
    fields = {
        "status": Job.Status.RUNNING,
        "attempts": job.attempts + 1,
        "started_at": now,
        "heartbeat_at": now,
        "stage": "detect",
        "progress": 0,
        "error_code": "",
        "error_message": "",
    }
    claimed = Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED, attempts=job.attempts).update(
        **fields, updated_at=now
    )
    if not claimed:
        return None
    for key, value in fields.items():
        setattr(job, key, value)
    realtime.push(job.public_id, {"type": "status", "status": Job.Status.RUNNING, "attempt": job.attempts})
    queue.broadcast_positions()
    return job


def job_report_progress(*, job: Job, stage: str, pct: int) -> Job:
    pct = max(0, min(100, int(pct)))
    return _transition(job, {"type": "progress", "stage": stage, "pct": pct}, stage=stage, progress=pct)


def job_is_cancelled(*, job: Job) -> bool:
    """The owner cancelled (or deleted) the job, possibly while the worker was running it."""
    status = Job.objects.filter(pk=job.pk).values_list("status", flat=True).first()
    return status is None or status == Job.Status.CANCELLED


def _settle_if_cancelled(job: Job) -> bool:
    """A job cancelled while the worker was busy: throw the work away instead of finishing it."""
    if not job_is_cancelled(job=job):
        return False
    job_discard_results(job=job)
    job_purge_uploads(job=job)
    job.status = Job.Status.CANCELLED
    return True


def job_finish(*, job: Job) -> Job:
    from .selectors import job_result_frames

    if _settle_if_cancelled(job):
        return job
    job.status = Job.Status.DONE
    _transition(
        job,
        {"type": "done", "results": job_result_frames(job=job)},
        status=Job.Status.DONE,
        stage="finish",
        progress=100,
        finished_at=timezone.now(),
    )
    job_purge_uploads(job=job)
    queue.broadcast_positions()
    return job


def job_fail(*, job: Job, code: str, detail: str = "") -> Job:
    logger.warning("Job %s failed: %s %s", job.public_id, code, detail)
    if _settle_if_cancelled(job):
        return job
    job.status = Job.Status.FAILED
    _transition(
        job,
        {
            "type": "failed",
            "code": code,
            "reason": error_message(code),
            "can_retry": job.attempts < settings.JOB_MAX_ATTEMPTS,
        },
        status=Job.Status.FAILED,
        error_code=code,
        error_message=detail[:2000],
        finished_at=timezone.now(),
    )
    if not job.can_retry:
        job_purge_uploads(job=job)
    queue.broadcast_positions()
    return job


def job_retry(*, job: Job) -> Job:
    """failed → queued, bounded by JOB_MAX_ATTEMPTS; the uploads are still there until the last try."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job.can_retry or not job.photos.exists():
            raise ValidationError(_("This job can no longer be retried. Please start a new one."))
        _transition(
            job,
            {"type": "status", "status": Job.Status.QUEUED},
            status=Job.Status.QUEUED,
            queued_at=timezone.now(),
            stage="",
            progress=0,
        )
        _enqueue_after_commit(job)
    return job


def job_cancel(*, job: Job) -> Job:
    """queued | running | failed-with-retries-left → cancelled. Takes the job off the queue and deletes
    its uploads at once; a worker that is running it notices and throws its work away."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job.can_cancel:
            raise ValidationError(_("This job has already ended."))
        was_queued = job.status == Job.Status.QUEUED
        _transition(
            job,
            {"type": "status", "status": Job.Status.CANCELLED},
            status=Job.Status.CANCELLED,
            stage="",
            finished_at=timezone.now(),
        )
    if was_queued:
        queue.dequeue(job=job)
    job_purge_uploads(job=job)
    queue.broadcast_positions()
    return job


def job_purge_uploads(*, job: Job) -> None:
    """Delete the job's uploaded photos (files and rows). The worker keeps everything derived from
    them (crops, landmarks, embeddings) in memory only, so nothing else is left once these are gone."""
    for photo in list(job.photos.all()):
        photo.file.delete(save=False)
        photo.delete()


def job_discard_results(*, job: Job) -> None:
    from gallery.services import result_delete

    for result in list(job.results.all()):
        result_delete(result=result)


def job_delete(*, job: Job) -> None:
    """Delete a job with its results and uploads (cancelling it first if it is still going)."""
    if job.is_active:
        queue.dequeue(job=job)
    job_discard_results(job=job)
    job_purge_uploads(job=job)
    job.delete()
    if job.status == Job.Status.QUEUED:
        queue.broadcast_positions()


def job_heartbeat(*, job: Job) -> bool:
    """Mark the running job alive; False when it is no longer ours to run (recovered, cancelled...)."""
    return bool(
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts).update(
            heartbeat_at=timezone.now()
        )
    )


def jobs_recover(*, now=None) -> dict[str, int]:
    """Put abandoned work back in line. Safe to run from several processes at once: each job is
    claimed with a conditional UPDATE, so only one sweeper acts on it.

    - running jobs whose worker stopped sending heartbeats (killed, out of memory, host lost) are
      queued again while attempts remain, else failed with a reason;
    - queued jobs that are missing from the rq queue (Redis was down at submit, or lost its data)
      are enqueued again."""
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_STALE_SECONDS)
    counts = {"requeued": 0, "failed": 0, "reenqueued": 0}
    stale = Job.objects.filter(status=Job.Status.RUNNING).filter(
        models.Q(heartbeat_at__lt=stale_before) | models.Q(heartbeat_at__isnull=True, started_at__lt=stale_before)
    )
    for job in stale:
        claimed = Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, attempts=job.attempts).update(
            status=Job.Status.QUEUED, queued_at=now, stage="", progress=0, updated_at=now
        )
        if not claimed:
            continue
        job.refresh_from_db()
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            job_fail(job=job, code="internal", detail="worker lost on the last attempt")
            counts["failed"] += 1
            continue
        logger.warning("Job %s abandoned by its worker; retrying (attempt %d)", job.public_id, job.attempts + 1)
        realtime.push(job.public_id, {"type": "status", "status": Job.Status.QUEUED, "retrying": True})
        queue.enqueue(job=job)
        counts["requeued"] += 1
    orphan_before = now - timedelta(seconds=settings.JOB_ORPHAN_SECONDS)
    waiting = Job.objects.filter(status=Job.Status.QUEUED, queued_at__lt=orphan_before)
    if waiting.exists():
        in_queue = set(queue.waiting_ids())
        for job in waiting:
            if job.rq_job_id not in in_queue:
                queue.enqueue(job=job)
                counts["reenqueued"] += 1
    if any(counts.values()):
        queue.broadcast_positions()
    return counts
