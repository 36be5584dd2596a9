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
        logger.warning("Could not push %s frame for job %s", frame.get("type"), public_id, exc_info=True)
