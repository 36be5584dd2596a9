from django.conf import settings

from .models import ConsentRecord, User


def consent_latest(*, user: User) -> ConsentRecord | None:
    return ConsentRecord.objects.filter(user=user).order_by("-created_at", "-pk").first()


def terms_changed_since_last_consent(*, user: User) -> bool:
    """True when the user agreed to an older version of the upload terms than the current one."""
    latest = consent_latest(user=user)
    return latest is not None and latest.terms_version != settings.TERMS_VERSION
