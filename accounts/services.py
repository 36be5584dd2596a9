from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from .models import ConsentRecord, User


@transaction.atomic
def consent_record_create(*, user: User, partner_confirmed: bool, ip_address: str | None) -> ConsentRecord:
    """Store that ``user`` accepted the current upload terms (and that Person B agreed)."""
    return ConsentRecord.objects.create(
        user=user,
        terms_version=settings.TERMS_VERSION,
        partner_confirmed=partner_confirmed,
        ip_address=ip_address or None,
    )


@transaction.atomic
def user_confirm_age(*, user: User) -> User:
    """Record the sign-up confirmation "I am 14 or older" (Korea's PIPA)."""
    user.age_confirmed_at = timezone.now()
    user.save(update_fields=["age_confirmed_at", "updated_at"])
    return user


def user_delete(*, user: User) -> None:
    """Delete an account and everything that belongs to it: every job (taken off the queue), every
    uploaded photo, every result file and thumbnail, consent records, API token, sessions' user.

    Kept, without the person: reports they filed about *other* people's results (reporter set to
    NULL; moderators may still need to act on them) and the staff audit log, whose entries about this
    account are renamed to "deleted user #<id>" so no email address remains.

    Jobs, uploads and result files belong to the apps above accounts: they remove them when told
    through ``accounts.signals.user_deleting`` (studio.services.account_purge)."""
    from .signals import user_deleting

    user_deleting.send(sender=User, user=user)
    pk = user.pk
    with transaction.atomic():
        LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(pk)).update(
            object_repr=f"deleted user #{pk}"
        )
        user.delete()  # cascades: consent records, tokens, reports about their results


def user_ban(*, user: User) -> User:
    """Deactivate an account (no login, no API); ``accounts.signals.user_banned`` then lets studio cancel
    its queued or running jobs, which deletes their uploads at once (accounts never imports studio)."""
    from .signals import user_banned

    User.objects.filter(pk=user.pk).update(is_active=False, updated_at=timezone.now())
    user.is_active = False
    user_banned.send(sender=User, user=user)
    return user


class UpgradeCodeInvalid(Exception):
    """The code does not exist, was already used or has expired (the message says which)."""


def user_set_plan(*, user: User, plan: str) -> User:
    """Move an account to a plan (staff grant or a redeemed code). Jobs already made keep their plan."""
    if plan not in User.Plan.values:
        raise ValueError(f"unknown plan {plan!r}")
    User.objects.filter(pk=user.pk).update(plan=plan, updated_at=timezone.now())
    user.plan = plan
    return user


@transaction.atomic
def upgrade_code_redeem(*, user: User, code: str) -> User:
    """Redeem a single-use upgrade code: the account gets the code's plan. The row is locked so the
    same code cannot be spent twice by two requests at once."""
    from django.utils.translation import gettext as _

    from .models import UpgradeCode

    normalised = (code or "").strip().upper().replace(" ", "")
    row = UpgradeCode.objects.select_for_update().filter(code=normalised).first()
    if row is None:
        raise UpgradeCodeInvalid(_("We don't know that code. Please check it and try again."))
    if row.used_at is not None:
        raise UpgradeCodeInvalid(_("That code has already been used."))
    if row.expires_at is not None and row.expires_at <= timezone.now():
        raise UpgradeCodeInvalid(_("That code has expired."))
    row.used_by, row.used_at = user, timezone.now()
    row.save(update_fields=["used_by", "used_at"])
    return user_set_plan(user=user, plan=row.plan)
