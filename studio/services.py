"""Writes for couple-photo jobs. Every state transition lives here and pushes exactly one frame."""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import ConsentRecord, User
from gallery.models import Concept

from . import queue, realtime
from .messages import error_message
from .models import Job, JobPhoto
from .uploads import photos_check

logger = logging.getLogger(__name__)


def _enqueue_after_commit(job: Job) -> None:
    def _go() -> None:
        queue.enqueue(job=job)
        queue.broadcast_positions()

    transaction.on_commit(_go)


def job_create(
    *,
    user: User,
    concept: Concept,
    photos_a: list[UploadedFile],
    photos_b: list[UploadedFile],
    consent: ConsentRecord | None,
    source: str = Job.Source.WEB,
) -> Job:
    """Validate uploads, store them privately, create the Job and queue it.

    Raises ValidationError with per-field messages (in the active language) and stores nothing
    when anything is wrong."""
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
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        job = Job.objects.create(
            user=user,
            concept=concept,
            consent=consent,
            plan=plan,
            source=source,
            status=Job.Status.QUEUED,
            language=(get_language() or settings.LANGUAGE_CODE)[:8],
            queued_at=timezone.now(),
        )
        for person, checked in (("a", checked_a), ("b", checked_b)):
            for index, photo in enumerate(checked):
                jp = JobPhoto(job=job, person=person, index=index)
                jp.file.save("photo.jpg", ContentFile(photo.jpeg), save=False)
                jp.save()
        _enqueue_after_commit(job)
    return job


def _transition(job: Job, frame: dict, **fields) -> Job:
    for key, value in fields.items():
        setattr(job, key, value)
    job.save(update_fields=[*fields.keys(), "updated_at"])
    realtime.push(job.public_id, frame)
    return job


def job_start(*, job: Job) -> Job:
    _transition(
        job,
        {"type": "status", "status": Job.Status.RUNNING, "attempt": job.attempts + 1},
        status=Job.Status.RUNNING,
        attempts=job.attempts + 1,
        started_at=timezone.now(),
        stage="detect",
        progress=0,
        error_code="",
        error_message="",
    )
    queue.broadcast_positions()
    return job


def job_report_progress(*, job: Job, stage: str, pct: int) -> Job:
    pct = max(0, min(100, int(pct)))
    return _transition(job, {"type": "progress", "stage": stage, "pct": pct}, stage=stage, progress=pct)


def job_finish(*, job: Job) -> Job:
    from .selectors import job_result_frames

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


def job_purge_uploads(*, job: Job) -> None:
    for photo in list(job.photos.all()):
        photo.file.delete(save=False)
        photo.delete()


def job_delete(*, job: Job) -> None:
    from gallery.services import result_delete

    for result in list(job.results.all()):
        result_delete(result=result)
    job_purge_uploads(job=job)
    job.delete()
