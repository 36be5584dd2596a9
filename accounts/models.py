import uuid

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """Custom user from the first migration: email login, a plan, an optional partner flag."""

    class Plan(models.TextChoices):
        STANDARD = "standard", _("Standard")
        PREMIUM = "premium", _("Premium")

    username = None
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("email address"), unique=True)
    plan = models.CharField(_("plan"), max_length=16, choices=Plan.choices, default=Plan.STANDARD)
    is_partner = models.BooleanField(
        _("partner"), default=False, help_text=_("May use the partner REST API with a token.")
    )
    age_confirmed_at = models.DateTimeField(
        _("age confirmed"), null=True, blank=True, help_text=_("When the user confirmed being 14 or older at sign-up.")
    )
    updated_at = models.DateTimeField(auto_now=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class ConsentRecord(models.Model):
    """Which upload-terms version a user accepted, when and from where."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="consents")
    terms_version = models.CharField(max_length=32)
    partner_confirmed = models.BooleanField(
        default=False, help_text=_("The uploader confirmed Person B agreed to the upload.")
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        from django.utils import timezone

        return f"{self.user} · {self.terms_version} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M:%S %Z}"


def upgrade_code_default() -> str:
    import secrets

    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class UpgradeCode(models.Model):
    """A single-use code that moves an account to a plan (given out by staff; no payment here)."""

    code = models.CharField(_("code"), max_length=32, unique=True, default=upgrade_code_default)
    plan = models.CharField(_("plan"), max_length=16, choices=User.Plan.choices, default=User.Plan.PREMIUM)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    used_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="upgrade_codes_used",
        verbose_name=_("used by"),
    )
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("upgrade code")
        verbose_name_plural = _("upgrade codes")

    def __str__(self) -> str:
        return self.code
