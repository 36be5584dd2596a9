"""rq task of the ``webhooks`` queue (``manage.py rqworker webhooks --with-scheduler``)."""

from rq import get_current_job

from .models import WebhookDelivery
from .services import webhook_attempt


def deliver_webhook(delivery_pk: int) -> str:
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_pk).first()
    if delivery is None or delivery.status == WebhookDelivery.Status.SUCCEEDED:
        return "gone" if delivery is None else "already delivered"
    job = get_current_job()
    final = job is None or not job.retries_left
    attempt = webhook_attempt(delivery=delivery, final=final)
    return f"{attempt.status_code or attempt.error}"
