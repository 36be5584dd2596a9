from accounts.models import User

from .models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_get(*, user: User) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(user=user).first()


def webhook_delivery_list(*, user: User):
    return WebhookDelivery.objects.filter(endpoint__user=user).order_by("-created_at", "-id")
