import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    """One couple-photo request. State changes only through studio.services."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking photos")  # stored; the photo checks run on the check queue
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        WEB = "web", _("Website")
        API = "api", _("Partner API")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    concept = models.ForeignKey("gallery.Concept", on_delete=models.PROTECT, related_name="jobs")
    consent = models.ForeignKey(
        "accounts.ConsentRecord", on_delete=models.PROTECT, related_name="jobs", null=True, blank=True
    )
    plan = models.CharField(max_length=16)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.WEB)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    stage = models.CharField(max_length=16, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    # The photo check's non-blocking notes, kept after the uploads are deleted: "person:code" or
    # "person:code:position" (studio.messages.NOTE_MESSAGES), e.g. "a:hair_over_brows".
    photo_notes = models.JSONField(default=list, blank=True)
    error_message = models.TextField(blank=True)
    language = models.CharField(max_length=8, default="ko")
    swap_slots = models.BooleanField(
        default=False, help_text="The couple chose to swap who goes into scene slots A and B."
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Touched every few seconds by the worker running the job."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="job_progress_lte_100"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"

    @property
    def rq_job_id(self) -> str:
        return f"swap-{self.public_id}"

    @property
    def can_retry(self) -> bool:
        return self.status == self.Status.FAILED and self.attempts < settings.JOB_MAX_ATTEMPTS

    @property
    def can_cancel(self) -> bool:
        """Queued, running, or failed with a retry still allowed (its uploads are still kept)."""
        return self.status in (self.Status.CHECKING, self.Status.QUEUED, self.Status.RUNNING) or self.can_retry

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.CHECKING, self.Status.QUEUED, self.Status.RUNNING)

    @property
    def check_rq_job_id(self) -> str:
        return f"check-{self.public_id}"


def job_photo_upload_to(instance: "JobPhoto", filename: str) -> str:
    # Never use the client's filename as a path.
    return f"uploads/{instance.job.public_id}/{instance.person}{instance.index}-{uuid.uuid4().hex}.img"


class JobPhoto(models.Model):
    class Person(models.TextChoices):
        A = "a", _("Person A")
        B = "b", _("Person B")

    class Verdict(models.TextChoices):
        PENDING = "pending", _("Checking")
        OK = "ok", _("Looks good")
        REJECTED = "rejected", _("Needs another photo")

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="photos")
    person = models.CharField(max_length=1, choices=Person.choices)
    index = models.PositiveSmallIntegerField(default=0)
    file = models.FileField(upload_to=job_photo_upload_to)
    # The photo check (gpu_worker.checks) runs after the job is stored; a rejected photo is replaced
    # in place on the job page (same person and index).
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.PENDING)
    reject_code = models.CharField(max_length=32, blank=True)
    # Non-blocking notes on an accepted photo, comma-separated codes of studio.messages.NOTE_MESSAGES
    # ("code" or "code:position"), e.g. hair over the brows: the result keeps the scene's brows.
    note_codes = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=80, blank=True, help_text="The file name the uploader chose (shown to them).")
    checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["person", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "person", "index"], name="jobphoto_unique_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.person}{self.index}"
