"""Reads for jobs: lists, ownership-checked lookups and the job's live state."""

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User

from . import queue
from .messages import error_message
from .models import Job


def job_list(*, user: User) -> QuerySet[Job]:
    return Job.objects.filter(user=user).select_related("concept")


def job_get(*, user: User, public_id) -> Job | None:
    """The user's own job, or None (callers answer 404: other people's jobs do not exist for you)."""
    try:
        return job_list(user=user).get(public_id=public_id)
    except (Job.DoesNotExist, ValueError):
        return None


def job_result_frames(*, job: Job) -> list[dict]:
    frames = []
    for result in job.results.filter(is_hidden=False).order_by("scene__order", "scene_id", "variant"):
        frames.append(
            {
                "id": str(result.public_id),
                "url": reverse("gallery:result-image", args=[result.public_id]),
                "thumb": reverse("gallery:result-thumb", args=[result.public_id]),
                "download": reverse("gallery:result-download", args=[result.public_id]),
                "page": reverse("gallery:result-detail", args=[result.public_id]),
                "width": result.width,
                "height": result.height,
            }
        )
    return frames


def job_state(*, job: Job) -> dict:
    """Everything a job page, the polling endpoint or the API needs to show the job now."""
    state = {
        "id": str(job.public_id),
        "status": job.status,
        "stage": job.stage,
        "pct": job.progress,
        "attempts": job.attempts,
        "position": None,
        "results": [],
        "code": job.error_code or None,
        "reason": None,
        "can_retry": job.can_retry,
        "retrying": job.status == Job.Status.QUEUED and job.attempts > 0,
    }
    if job.status == Job.Status.QUEUED:
        state["position"] = queue.position_of(job=job)
    elif job.status == Job.Status.DONE:
        state["results"] = job_result_frames(job=job)
    elif job.status == Job.Status.FAILED:
        state["reason"] = error_message(job.error_code)
    return state
