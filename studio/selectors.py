"""Reads for jobs: lists, ownership-checked lookups and the job's live state."""

from django.db.models import QuerySet
from django.urls import reverse

from accounts.models import User

from . import queue
from .messages import NOTE_MESSAGES, error_message, note_message
from .models import Job, JobPhoto


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


TYPICAL_SECONDS_DEFAULT = 20  # until a few jobs have run
TYPICAL_SAMPLE = 20


def job_typical_seconds() -> int:
    """How long a job usually runs, measured: the median run time (start to finish) of the last
    TYPICAL_SAMPLE finished jobs; a default until any has finished. Drives the page's time estimate
    ("about N seconds", and place in line × this while waiting) and the form's copy."""
    rows = (
        Job.objects.filter(status=Job.Status.DONE, started_at__isnull=False, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("started_at", "finished_at")[:TYPICAL_SAMPLE]
    )
    runs = sorted((end - start).total_seconds() for start, end in rows if end >= start)
    if not runs:
        return TYPICAL_SECONDS_DEFAULT
    mid = len(runs) // 2
    median = runs[mid] if len(runs) % 2 else (runs[mid - 1] + runs[mid]) / 2
    return max(1, round(median))


def job_photo_slot(photo: JobPhoto) -> str:
    """The photo's id on the job page and in frames: person + index ("a0", "b2")."""
    return f"{photo.person}{photo.index}"


def job_photo_frame(*, photo: JobPhoto) -> dict:
    """What the job page shows for one photo (sentences in the active language)."""
    return {
        "type": "photo",
        "photo": job_photo_slot(photo),
        "person": photo.person,
        "index": photo.index,
        "name": photo.name,
        "verdict": photo.verdict,
        "code": photo.reject_code or None,
        "reason": error_message(photo.reject_code) if photo.verdict == JobPhoto.Verdict.REJECTED else None,
        "notes": job_photo_notes(photo),
    }


def _note_sentence(item: str) -> str | None:
    """ "code" or "code:position" -> its sentence in the active language (None: unknown code)."""
    code, _, position = item.partition(":")
    return note_message(code, position=position or None) if code in NOTE_MESSAGES else None


def job_photo_notes(photo: JobPhoto) -> list[str]:
    """The sentences of an accepted photo's non-blocking notes."""
    if photo.verdict != JobPhoto.Verdict.OK or not photo.note_codes:
        return []
    return [t for t in (_note_sentence(c) for c in photo.note_codes.split(",")) if t]


def job_notes(*, job: Job) -> list[dict]:
    """The photo check's notes kept on the job (shown with the results): person, code, sentence."""
    out = []
    for item in job.photo_notes or []:
        person, _, rest = str(item).partition(":")
        text = _note_sentence(rest)
        if text and person in ("a", "b"):
            out.append({"person": person, "code": rest.partition(":")[0], "text": text})
    return out


def job_photo_states(*, job: Job) -> list[dict]:
    """Each uploaded photo's check verdict (what the job page shows while photos are checked)."""
    return [{k: v for k, v in job_photo_frame(photo=p).items() if k != "type"} for p in job.photos.all()]


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
        "photos": [],
        "notes": job_notes(job=job),
        "typical_seconds": job_typical_seconds(),
    }
    if job.status == Job.Status.CHECKING:
        state["photos"] = job_photo_states(job=job)
    if job.status == Job.Status.QUEUED:
        state["position"] = queue.position_of(job=job)
    elif job.status == Job.Status.DONE:
        state["results"] = job_result_frames(job=job)
    elif job.status == Job.Status.FAILED:
        state["reason"] = error_message(job.error_code)
    return state
