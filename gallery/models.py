import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _validate_box(value) -> None:
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(v, (int, float)) for v in value)
        or not all(0.0 <= float(v) <= 1.0 for v in value)
    ):
        raise ValidationError(_("A face slot is [x, y, width, height] as fractions of the image (0..1)."))


class Concept(models.Model):
    slug = models.SlugField(unique=True)
    name_ko = models.CharField(max_length=80)
    name_en = models.CharField(max_length=80)
    description_ko = models.TextField(blank=True)
    description_en = models.TextField(blank=True)
    is_published = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "slug"]
        verbose_name = _("concept")
        verbose_name_plural = _("concepts")

    def __str__(self) -> str:
        return f"{self.name_ko} / {self.name_en}"

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "ko").startswith("en") else self.name_ko

    @property
    def description(self) -> str:
        return self.description_en if (get_language() or "ko").startswith("en") else self.description_ko


def scene_upload_to(instance: "Scene", filename: str) -> str:
    return f"scenes/{instance.public_id}.jpg"


def scene_thumb_upload_to(instance: "Scene", filename: str) -> str:
    return f"scenes/{instance.public_id}_thumb.jpg"


class Scene(models.Model):
    """A curated two-person scene. Slot A / B are normalised face boxes [x, y, w, h]."""

    class SlotHint(models.TextChoices):
        NONE = "", _("none (A is the left face)")
        LEFT = "left", _("A is the left face")
        RIGHT = "right", _("A is the right face")
        TALLER = "taller", _("A is the taller person (face higher in the picture)")
        SHORTER = "shorter", _("A is the shorter person (face lower in the picture)")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="scenes")
    title = models.CharField(max_length=120, blank=True)
    image = models.ImageField(upload_to=scene_upload_to)
    thumbnail = models.ImageField(upload_to=scene_thumb_upload_to, blank=True)
    slot_a = models.JSONField(validators=[_validate_box], help_text=_("Person A face box [x, y, w, h] in 0..1"))
    slot_b = models.JSONField(validators=[_validate_box], help_text=_("Person B face box [x, y, w, h] in 0..1"))
    slot_a_label = models.CharField(max_length=40, blank=True, default="A")
    slot_b_label = models.CharField(max_length=40, blank=True, default="B")
    slot_hint = models.CharField(
        max_length=8, choices=SlotHint.choices, default=SlotHint.NONE, blank=True,
        help_text=_("Which detected face becomes slot A when slots are (re)detected; B is the other one."),
    )
    is_published = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["concept", "order", "id"]
        verbose_name = _("scene")
        verbose_name_plural = _("scenes")

    def __str__(self) -> str:
        return self.title or f"{self.concept.slug} #{self.pk}"

    @property
    def slots(self) -> list[list[float]]:
        return [list(self.slot_a), list(self.slot_b)]


def result_upload_to(instance: "Result", filename: str) -> str:
    return f"results/{instance.user_id}/{instance.public_id}.jpg"


def result_thumb_upload_to(instance: "Result", filename: str) -> str:
    return f"results/{instance.user_id}/{instance.public_id}_thumb.jpg"


class Result(models.Model):
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="results", verbose_name=_("owner")
    )
    job = models.ForeignKey("studio.Job", on_delete=models.CASCADE, related_name="results", verbose_name=_("job"))
    scene = models.ForeignKey(
        Scene, on_delete=models.SET_NULL, null=True, related_name="results", verbose_name=_("scene")
    )
    variant = models.PositiveSmallIntegerField(_("variant"), default=0)
    image = models.ImageField(_("image"), upload_to=result_upload_to)
    thumbnail = models.ImageField(_("thumbnail"), upload_to=result_thumb_upload_to)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    is_hidden = models.BooleanField(_("hidden"), default=False, help_text=_("Hidden by a moderator."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at", "variant"]
        verbose_name = _("result")
        verbose_name_plural = _("results")
        constraints = [
            models.UniqueConstraint(fields=["job", "scene", "variant"], name="result_unique_per_job_scene_variant"),
        ]

    def __str__(self) -> str:
        return str(self.public_id)

    @property
    def code(self) -> str:
        """The short code printed in the label and the metadata (gallery.codes)."""
        from .codes import result_code

        return result_code(self.public_id)


class Report(models.Model):
    """A user's report about a result; open reports form the moderation queue in the admin."""

    class Reason(models.TextChoices):
        NO_CONSENT = "no_consent", _("Someone in it did not agree to this photo")
        MINOR = "minor", _("It shows a child or a minor")
        SEXUAL = "sexual", _("Sexual or offensive content")
        IMPERSONATION = "impersonation", _("It impersonates or misleads about a real person")
        OTHER = "other", _("Something else")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    class Source(models.TextChoices):
        ACCOUNT = "account", _("Owner's report")
        PUBLIC = "public", _("Public removal request")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="reports", verbose_name=_("photo"))
    # A report about someone else's content outlives the reporter's account (without their identity).
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports_filed",
        verbose_name=_("reporter"),
    )
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    text = models.TextField(_("details"), blank=True, max_length=2000)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.ACCOUNT)
    contact = models.CharField(
        _("contact"), max_length=200, blank=True, help_text=_("How to reach the person who asked (public requests).")
    )
    ip_address = models.GenericIPAddressField(
        _("IP address"), null=True, blank=True, help_text=_("Public requests only: for the rate limit.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="reports_handled",
        verbose_name=_("handled by"),
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    created_at = models.DateTimeField(_("reported at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["status", "-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            # one report per reporter and photo (public requests have no reporter)
            models.UniqueConstraint(
                fields=["reporter", "result"], condition=models.Q(reporter__isnull=False),
                name="report_one_per_reporter_and_result",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.result_id} ({self.status})"


def share_token() -> str:
    import secrets

    return secrets.token_urlsafe(24)  # 32 characters, 192 bits


class ShareLink(models.Model):
    """An opt-in public link to one result's labelled image: unguessable, expiring, revocable."""

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="share_links", verbose_name=_("photo"))
    token = models.CharField(_("token"), max_length=64, unique=True, default=share_token, editable=False)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("share link")
        verbose_name_plural = _("share links")

    def __str__(self) -> str:
        return f"{self.result_id} · {self.token[:6]}…"

    def is_active(self, now=None) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and self.expires_at > (now or timezone.now())
