"""Pushing job frames to the job's Channels group. Best effort: the DB stays the source of truth and
clients fall back to polling when a push cannot be delivered."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def job_group(public_id) -> str:
    return f"job-{public_id}"


def push(public_id, frame: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(job_group(public_id), {"type": "job.frame", "frame": frame})
    except Exception:  # Redis down: the page polls the status endpoint instead.
        logger.debug("Could not push %s frame for job %s", frame.get("type"), public_id, exc_info=True)


def push_group(group: str, message: dict) -> bool:
    """Send one message (its "type" names the consumer handler) to every member of ``group``."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # Redis down: pages poll instead
        logger.debug("Could not push %s to group %s", message.get("type"), group, exc_info=True)
        return False
    return True
