"""Writes for couple-photo jobs. Every state transition lives here and pushes exactly one frame."""

import logging
import uuid
from collections.abc import Sequence
from datetime import timedelta

import django_rq
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from accounts.models import ConsentRecord, User
from gallery.models import Concept

from . import queue, realtime
from .messages import error_message
from .models import Job, JobPhoto
from .selectors import job_photo_frame
from .uploads import photos_check

logger = logging.getLogger(__name__)

# Sent with ``job=`` after every status change (checking, queued, running, done, failed, cancelled);
# partners.services.webhook_job_event turns it into webhook deliveries. Receivers must not raise.
job_state_changed = Signal()


def _state_changed(job: Job) -> None:
    job_state_changed.send_robust(sender=Job, job=job)


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
    active = Job.objects.filter(
        user=user, status__in=[Job.Status.CHECKING, Job.Status.QUEUED, Job.Status.RUNNING]
    ).count()
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
    consent: ConsentRecord | None = None,
    source: str = Job.Source.WEB,
    swap_slots: bool = False,
    partner_confirmed: bool | None = None,
    ip_address: str | None = None,
) -> Job:
    """Validate the cheap things, store the uploads privately, create the Job (``checking``) and put its
    photo check on the ``check`` queue (``gpu_worker.checks.check_job``); the swap is queued by
    ``job_checks_complete`` once every photo passed.

    Consent: pass ``partner_confirmed`` (+ ``ip_address``) and the ConsentRecord is written in the same
    transaction as the Job, only when the job is created (issue 13 item 8); a ready ``consent`` record
    is still accepted. Raises ValidationError with per-field messages (in the active language; per-file
    errors carry ``params={"field", "index"}``) and stores nothing when anything is wrong;
    JobQuotaExceeded when the account is over its limits."""
    job_quota_check(user=user)
    errors: dict[str, list] = {}
    if consent is not None:
        consent_ok = consent.terms_version == settings.TERMS_VERSION and consent.partner_confirmed
    else:
        consent_ok = bool(partner_confirmed)
    if not consent_ok:
        errors["consent"] = [_("Please accept the upload terms and confirm Person B agreed.")]
    if not concept.is_published or not concept.scenes.filter(is_published=True).exists():
        errors["concept"] = [_("This concept is not available. Please pick another one.")]
    plan = user.plan
    checked_a, errors_a = photos_check(photos=photos_a, plan=plan, label=_("Person A"), field="photos_a")
    checked_b, errors_b = photos_check(photos=photos_b, plan=plan, label=_("Person B"), field="photos_b")
    if errors_a:
        errors["photos_a"] = errors_a
    if errors_b:
        errors["photos_b"] = errors_b
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        # Two submits from one account at the same moment: lock the account row and check again, so
        # both cannot pass the quota (PostgreSQL; SQLite serialises writers anyway).
        User.objects.select_for_update().filter(pk=user.pk).first()
        job_quota_check(user=user)
        if consent is None:
            consent = ConsentRecord.objects.create(
                user=user,
                terms_version=settings.TERMS_VERSION,
                partner_confirmed=True,
                ip_address=ip_address or None,
            )
        job = Job.objects.create(
            user=user,
            concept=concept,
            consent=consent,
            plan=plan,
            source=source,
            status=Job.Status.CHECKING,
            language=(get_language() or settings.LANGUAGE_CODE)[:8],
            swap_slots=swap_slots,
        )
        for person, checked in (("a", checked_a), ("b", checked_b)):
            for index, photo in enumerate(checked):
                jp = JobPhoto(job=job, person=person, index=index, name=photo.name)
                jp.file.save("photo.jpg", ContentFile(photo.jpeg), save=False)
                jp.save()
        _state_changed(job)
        _enqueue_check_after_commit(job)
    return job


# ---------------------------------------------------------------- photo checks (worker side) -------

CHECK_QUEUE = "check"
CHECK_TASK = "gpu_worker.checks.check_job"


def _enqueue_check(job: Job) -> None:
    django_rq.get_queue(CHECK_QUEUE).enqueue(
        CHECK_TASK,
        str(job.public_id),
        job_id=f"{job.check_rq_job_id}-{uuid.uuid4().hex[:8]}",
        job_timeout=120,
        result_ttl=600,
        failure_ttl=86400,
    )


def _enqueue_check_after_commit(job: Job) -> None:
    def _go() -> None:
        try:
            _enqueue_check(job)
        except RedisError:
            # The job row is committed: jobs_recheck_orphans() enqueues its check once Redis is back.
            logger.warning("Redis unavailable: the photo check of job %s will be enqueued by the sweeper",
                           job.public_id)

    transaction.on_commit(_go)


def job_photo_verdict_set(*, photo: JobPhoto, code: str | None, notes: Sequence[str] = ()) -> JobPhoto:
    """The check's verdict on one photo (``code`` None = ok), pushed live to the job page. ``notes``:
    codes of ``studio.messages.NOTE_MESSAGES`` ("code" or "code:position") for an accepted photo."""
    photo.verdict = JobPhoto.Verdict.OK if code is None else JobPhoto.Verdict.REJECTED
    photo.reject_code = code or ""
    photo.note_codes = ",".join(notes) if code is None else ""
    photo.checked_at = timezone.now()
    JobPhoto.objects.filter(pk=photo.pk).update(
        verdict=photo.verdict, reject_code=photo.reject_code, note_codes=photo.note_codes,
        checked_at=photo.checked_at,
    )
    job = photo.job
    with translation.override(job.language or settings.LANGUAGE_CODE):
        realtime.push(job.public_id, job_photo_frame(photo=photo))
    return photo


def job_checks_complete(*, job: Job) -> Job:
    """After a check pass: every photo ok → checking → queued (the swap is enqueued; the page gets
    "queued" and its place in line). A partner-API job with a rejected photo fails (partners resubmit;
    there is no replace step in the API). Safe to call twice: the transition is a conditional UPDATE."""
    photos = list(job.photos.all())
    if not photos or any(p.verdict == JobPhoto.Verdict.PENDING for p in photos):
        return job
    rejected = [p for p in photos if p.verdict == JobPhoto.Verdict.REJECTED]
    if rejected:
        if job.source == Job.Source.API and job.status == Job.Status.CHECKING:
            first = rejected[0]
            detail = "; ".join(f"{p.person}{p.index} {p.name}: {p.reject_code}" for p in rejected)
            job_fail(job=job, code=first.reject_code or "no_face", detail=f"photo check: {detail}")
            job_purge_uploads(job=job)  # a retry cannot fix a photo: nothing is kept
        return job
    now = timezone.now()
    notes = list(dict.fromkeys(f"{p.person}:{code}" for p in photos for code in p.note_codes.split(",") if code))
    claimed = Job.objects.filter(pk=job.pk, status=Job.Status.CHECKING).update(
        status=Job.Status.QUEUED, queued_at=now, stage="", progress=0, updated_at=now, photo_notes=notes
    )
    if not claimed:
        return job
    job.status, job.queued_at, job.photo_notes = Job.Status.QUEUED, now, notes
    _state_changed(job)
    try:
        queue.enqueue(job=job)
    except RedisError:
        logger.warning("Redis unavailable: job %s will be enqueued by the sweeper", job.public_id)
        return job
    # An idle worker may have taken the job already (not in the list any more): it is first in line.
    position = queue.position_of(job=job) or 1
    realtime.push(job.public_id, {"type": "status", "status": Job.Status.QUEUED, "position": position})
    queue.broadcast_positions()
    return job


def job_photo_replace(*, job: Job, slot: str, upload: UploadedFile) -> JobPhoto:
    """Replace one rejected photo of a job that is still being checked (same person and place); only
    this photo is checked again. Raises ValidationError with a sentence naming the file."""
    from .uploads import PhotoRejected, photo_check, photo_label

    person, index = slot[:1], slot[1:]
    photo = job.photos.filter(person=person, index=int(index) if index.isdigit() else -1).first()
    if job.status != Job.Status.CHECKING or photo is None:
        raise ValidationError(_("This photo can no longer be replaced."))
    if photo.verdict != JobPhoto.Verdict.REJECTED:
        raise ValidationError(_("This photo is fine; only a photo that needs another one can be replaced."))
    label = _("Person A") if person == "a" else _("Person B")
    name = (upload.name or "photo")[:80]
    try:
        checked = photo_check(upload)
    except PhotoRejected as exc:
        where = photo_label(person_label=label, position=photo.index + 1, name=name)
        if exc.code == "empty":
            msg = _("%(photo)s is empty (0 bytes). Please choose the photo again.") % {"photo": where}
        else:
            msg = f"{where}: {exc.message}"
        raise ValidationError(msg.replace("%", "%%")) from None
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status != Job.Status.CHECKING:
            raise ValidationError(_("This photo can no longer be replaced."))
        old = photo.file.name
        photo.file.save("photo.jpg", ContentFile(checked.jpeg), save=False)
        photo.name = checked.name
        photo.verdict = JobPhoto.Verdict.PENDING
        photo.reject_code = ""
        photo.checked_at = None
        photo.save(update_fields=["file", "name", "verdict", "reject_code", "checked_at"])
        storage = photo.file.storage
        if old and old != photo.file.name:
            transaction.on_commit(lambda: storage.delete(old))
        job.save(update_fields=["updated_at"])
        realtime.push(job.public_id, job_photo_frame(photo=photo))
        _enqueue_check_after_commit(job)
    return photo


def jobs_recheck_orphans(*, now=None) -> int:
    """Jobs stuck in ``checking`` with unchecked photos and no check waiting or running (Redis was down
    at submit, or the check worker died mid-check): put their check back on the queue. A check still
    running (in the queue's started registry, which rq keeps alive with the worker's heartbeat and
    clears when the worker dies) is left alone however long it takes. Returns how many."""
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.JOB_ORPHAN_SECONDS)
    stuck = Job.objects.filter(
        status=Job.Status.CHECKING, updated_at__lt=before, photos__verdict=JobPhoto.Verdict.PENDING
    ).distinct()
    if not stuck.exists():
        return 0
    check_queue = django_rq.get_queue(CHECK_QUEUE)
    # waiting, or running now (entries "<rq id>" or "<rq id>:<execution id>"; a dead worker's expire)
    waiting = set(check_queue.get_job_ids()) | set(check_queue.started_job_registry.get_job_ids())
    count = 0
    for job in stuck:
        if any(rq_id.startswith(job.check_rq_job_id) for rq_id in waiting):
            continue
        _enqueue_check(job)
        Job.objects.filter(pk=job.pk).update(updated_at=now)
        count += 1
    return count


def _transition(job: Job, frame: dict, **fields) -> Job:
    for key, value in fields.items():
        setattr(job, key, value)
    job.save(update_fields=[*fields.keys(), "updated_at"])
    realtime.push(job.public_id, frame)
    if "status" in fields:
        _state_changed(job)
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
    _state_changed(job)
    queue.broadcast_positions()
    return job


PROGRESS_STAGES = ("detect", "swap", "finish")


def job_report_progress(*, job: Job, stage: str, pct: int) -> Job:
    """Progress of the running attempt, monotone (issue 16): the bar never goes back and the stage
    never returns to an earlier one within an attempt (job_start resets both for a new attempt)."""
    pct = max(0, min(100, int(pct)), job.progress or 0)
    if stage in PROGRESS_STAGES and job.stage in PROGRESS_STAGES:
        stage = PROGRESS_STAGES[max(PROGRESS_STAGES.index(stage), PROGRESS_STAGES.index(job.stage))]
    if stage == job.stage and pct == job.progress:
        return job
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
    from .selectors import job_notes, job_result_frames

    if _settle_if_cancelled(job):
        return job
    job.status = Job.Status.DONE
    _transition(
        job,
        {"type": "done", "results": job_result_frames(job=job), "notes": job_notes(job=job)},
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
        if job.photos.exclude(verdict=JobPhoto.Verdict.OK).exists():
            # failed before its photos were all checked (e.g. the check worker could not load its
            # models): back to the photo check, which queues the swap when every photo passes
            _transition(job, {"type": "status", "status": Job.Status.CHECKING}, status=Job.Status.CHECKING,
                        stage="", progress=0)
            _enqueue_check_after_commit(job)
            return job
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
    from gallery.files import prune_empty_folder

    for photo in list(job.photos.all()):
        photo.file.delete(save=False)
        photo.delete()
    prune_empty_folder(JobPhoto._meta.get_field("file").storage, f"uploads/{job.public_id}")


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


def account_purge(*, user: User) -> None:
    """Remove everything an account keeps above the accounts app, files first: every job (taken off
    the queue, uploads deleted) and every result file and thumbnail. Connected to
    ``accounts.signals.user_deleting`` (studio/apps.py), so every way of deleting an account (the
    account page, the User admin, single or bulk) goes through it; accounts never imports studio."""
    from gallery.files import prune_empty_folder
    from gallery.models import Result
    from gallery.services import result_delete

    for job in list(Job.objects.filter(user=user)):
        job_delete(job=job)
    for result in list(Result.objects.filter(user=user)):
        result_delete(result=result)
    prune_empty_folder(Result._meta.get_field("image").storage, f"results/{user.pk}")


def account_jobs_cancel(*, user: User) -> None:
    """A banned account: cancel its waiting, checking or running jobs and failed ones that could still be
    retried, which deletes their uploads at once. Connected to ``accounts.signals.user_banned``."""
    for job in Job.objects.filter(user=user).exclude(status__in=[Job.Status.DONE, Job.Status.CANCELLED]):
        if job.can_cancel:
            job_cancel(job=job)


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
        _state_changed(job)
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
    try:
        counts["rechecked"] = jobs_recheck_orphans(now=now)
    except RedisError:
        # the worker logs the outage once ("redis unavailable, retrying"); the next sweep tries again
        logger.debug("Redis unavailable; photo checks not re-enqueued", exc_info=True)
    return counts
