"""Writes for partner integrations: webhook endpoints, deliveries (on the rq queue ``webhooks``,
never in a request or inside the swap job)."""

import ipaddress
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from accounts.models import User

from . import signing
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)

QUEUE = "webhooks"
ROTATION_OVERLAP = timedelta(hours=24)
SNIPPET_CHARS = 500


def _retry_intervals() -> list[int]:
    return list(getattr(settings, "WEBHOOK_RETRY_INTERVALS", [10, 30, 120, 600, 1800, 3600, 7200]))


def _new_secret() -> str:
    return "whsec_" + secrets.token_hex(24)


# --- endpoints ------------------------------------------------------------------------------------


def _internal_ip(host: str) -> bool:
    """An IP literal on our own networks (loopback, private, link-local): not a partner's server."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host == "localhost"
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified


def webhook_url_validate(url: str) -> None:
    """HTTPS only; plain http only to the loopback host when WEBHOOK_ALLOW_HTTP_LOOPBACK (DEBUG/tests)."""
    parts = urlsplit(url or "")
    allow_loopback = getattr(settings, "WEBHOOK_ALLOW_HTTP_LOOPBACK", settings.DEBUG)
    if parts.scheme == "https" and parts.hostname and (allow_loopback or not _internal_ip(parts.hostname)):
        return
    if parts.scheme == "http" and allow_loopback and parts.hostname in ("127.0.0.1", "localhost", "::1"):
        return
    raise ValidationError({"url": [_("The webhook URL must start with https:// and name a public host.")]})


def webhook_endpoint_set(*, user: User, url: str, base_url: str) -> tuple[WebhookEndpoint, bool]:
    """Register or change the partner's endpoint; returns (endpoint, created). A new endpoint gets a
    fresh secret; changing the URL keeps the secret."""
    webhook_url_validate(url)
    endpoint = WebhookEndpoint.objects.filter(user=user).first()
    if endpoint is None:
        endpoint = WebhookEndpoint.objects.create(user=user, url=url, base_url=base_url, secret=_new_secret())
        return endpoint, True
    endpoint.url, endpoint.base_url, endpoint.is_active = url, base_url, True
    endpoint.save(update_fields=["url", "base_url", "is_active", "updated_at"])
    return endpoint, False


def webhook_endpoint_delete(*, user: User) -> bool:
    deleted, _n = WebhookEndpoint.objects.filter(user=user).delete()
    return bool(deleted)


def webhook_secret_rotate(*, endpoint: WebhookEndpoint, overlap: timedelta = ROTATION_OVERLAP) -> WebhookEndpoint:
    """New secret now; the old one keeps signing (second v1=) for ``overlap`` so receivers can switch."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = timezone.now() + overlap
    endpoint.secret = _new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint


def webhook_signing_secrets(*, endpoint: WebhookEndpoint) -> list[str]:
    out = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and (
        endpoint.previous_secret_expires_at > timezone.now()
    ):
        out.append(endpoint.previous_secret)
    return out


# --- events and deliveries ------------------------------------------------------------------------


def webhook_job_event(sender=None, *, job, **kwargs) -> None:
    """Receiver of studio.services.job_state_changed: one delivery per endpoint of the job's owner.
    Never raises (a webhook problem must not break a job transition)."""
    try:
        endpoint = WebhookEndpoint.objects.filter(user_id=job.user_id, is_active=True).first()
        if endpoint is None:
            return
        from studio.api import job_representation

        event = f"job.{job.status}"
        delivery = WebhookDelivery(endpoint=endpoint, event=event, job_public_id=job.public_id)
        # sentences (a failed job's reason, photo verdicts) in the language the job was submitted in
        with translation.override(job.language or "en"):
            body = {
                "id": str(delivery.public_id),
                "type": event,
                "created": timezone.now().isoformat(),
                "data": {"job": job_representation(job=job, base_url=endpoint.base_url)},
            }
            delivery.payload = json.dumps(body, ensure_ascii=False, default=str, separators=(",", ":"))
        delivery.save()
        transaction.on_commit(lambda: webhook_delivery_enqueue(delivery=delivery))
    except Exception:
        logger.exception("Could not record the %s webhook for job %s", job.status, job.public_id)


def webhook_delivery_enqueue(*, delivery: WebhookDelivery) -> bool:
    """Put one delivery on the ``webhooks`` queue with exponential-backoff retries (rq Retry; the rq
    scheduler — a worker started --with-scheduler or deploy/rq_scheduler.py — runs the retries)."""
    import django_rq
    from rq import Retry

    intervals = _retry_intervals()
    try:
        django_rq.get_queue(QUEUE).enqueue(
            "partners.tasks.deliver_webhook", delivery.pk,
            retry=Retry(max=len(intervals), interval=intervals) if intervals else None,
            job_timeout=60, result_ttl=3600, failure_ttl=7 * 24 * 3600,
        )
    except RedisError:
        logger.warning("Redis unavailable: webhook delivery %s stays pending", delivery.public_id)
        return False
    return True


def webhook_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Admin's "redeliver": the same event (same id and body, fresh signature) sent again."""
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.save(update_fields=["status"])
    webhook_delivery_enqueue(delivery=delivery)
    return delivery


class WebhookDeliveryFailed(Exception):
    """Raised by the rq task so rq schedules the next attempt."""


def webhook_attempt(*, delivery: WebhookDelivery, final: bool) -> WebhookAttempt:
    """POST the delivery once, log the attempt; raises WebhookDeliveryFailed on failure unless final."""
    endpoint = delivery.endpoint
    body = delivery.payload.encode()
    number = delivery.attempts + 1
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "LoveLoveShot-Webhooks/1.0",
        signing.HEADER: signing.sign(body, webhook_signing_secrets(endpoint=endpoint)),
        "LoveLoveShot-Event": delivery.event,
        "LoveLoveShot-Delivery": str(delivery.public_id),
        "LoveLoveShot-Attempt": str(number),
    }
    request = urllib.request.Request(endpoint.url, data=body, headers=headers, method="POST")
    started = time.monotonic()
    status_code, snippet, error = None, "", ""
    try:
        # No redirects are followed for a POST by urllib; a 3xx counts as a failure.
        with urllib.request.urlopen(request, timeout=getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10)) as resp:
            status_code = resp.status
            snippet = resp.read(SNIPPET_CHARS * 4).decode("utf-8", "replace")[:SNIPPET_CHARS]
    except urllib.error.HTTPError as exc:
        status_code = exc.code
        snippet = exc.read(SNIPPET_CHARS * 4).decode("utf-8", "replace")[:SNIPPET_CHARS]
    except Exception as exc:  # network error, timeout, TLS
        error = f"{type(exc).__name__}: {exc}"[:300]
    duration_ms = int((time.monotonic() - started) * 1000)
    attempt = WebhookAttempt.objects.create(
        delivery=delivery, number=number, url=endpoint.url, status_code=status_code, error=error,
        response_snippet=snippet, duration_ms=duration_ms,
    )
    ok = status_code is not None and 200 <= status_code < 300
    delivery.attempts = number
    delivery.last_status_code = status_code
    if ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = timezone.now()
    elif final:
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["attempts", "last_status_code", "status", "delivered_at"])
    if not ok and not final:
        raise WebhookDeliveryFailed(f"{endpoint.url} answered {status_code or error}")
    return attempt
