from django.conf import settings
from django.db import transaction

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
