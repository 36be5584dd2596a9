"""Websocket /ws/jobs/<uuid>/: the job's owner gets its live state, then every frame pushed to it.

While the job waits, the socket also listens to the group ``queue`` (studio.queue): one message per
tick carries the head of the line, and this consumer works out its own place from it.

Redis (the channel layer) away: the socket still opens, sends the state read from the database and
a ``{"type": "reconnecting"}`` frame, then closes with 1013 (try again later); the page polls and
reconnects with backoff. Never a 500."""

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch

from . import queue, realtime
from .selectors import job_get, job_state

logger = logging.getLogger(__name__)
TRY_AGAIN_LATER = 1013  # RFC 6455: "Try Again Later"
BEYOND_HEAD_REFRESH_SECONDS = 5.0


class JobConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None
    public_id: str | None = None
    in_line = False
    position: int | None = None
    asked_at = 0.0

    async def __call__(self, scope, receive, send):
        """channels' AsyncConsumer.__call__, except that the channel layer's receive waits out a Redis
        outage instead of raising: otherwise the consumer dies before it can answer the handshake
        (daphne then answers 500)."""
        layer = get_channel_layer(self.channel_layer_alias)
        if layer is None:
            return await super().__call__(scope, receive, send)
        self.scope = scope
        self.channel_layer = layer
        self.channel_name = await layer.new_channel()
        self.channel_receive = self._layer_receive
        self.base_send = send
        try:
            await await_many_dispatch([receive, self.channel_receive], self.dispatch)
        except StopConsumer:
            pass

    async def _layer_receive(self):
        wait = 0.5
        while True:
            try:
                return await self.channel_layer.receive(self.channel_name)
            except (ConnectionError, OSError) as exc:
                logger.debug("Channel layer receive failed (%s); retrying in %.1fs", exc, wait)
            except Exception as exc:  # redis.exceptions.ConnectionError and friends
                if "redis" not in type(exc).__module__:
                    raise
                logger.debug("Channel layer receive failed (%s); retrying in %.1fs", exc, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, 10.0)

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        public_id = str(self.scope["url_route"]["kwargs"]["public_id"])
        state = await database_sync_to_async(self._state)(user, public_id)
        if state is None:
            await self.close(code=4404)
            return
        self.public_id = public_id
        try:
            await self.channel_layer.group_add(realtime.job_group(public_id), self.channel_name)
            self.group = realtime.job_group(public_id)
            await self._follow_line(state["status"] == "queued")
        except Exception:  # the channel layer (Redis) is away: say so and let the page poll
            logger.info("Channel layer unavailable; job socket %s told to reconnect", public_id)
            await self.accept()
            await self.send_json({"type": "state", **state})
            await self.send_json({"type": "reconnecting"})
            await self.close(code=TRY_AGAIN_LATER)
            return
        self.position = state.get("position")
        await self.accept()
        await self.send_json({"type": "state", **state})

    @staticmethod
    def _state(user, public_id):
        job = job_get(user=user, public_id=public_id)
        return None if job is None else job_state(job=job)

    async def _follow_line(self, waiting: bool) -> None:
        """Join the group ``queue`` while the job waits; leave it once it runs or ends."""
        if waiting and not self.in_line:
            await self.channel_layer.group_add(queue.POSITIONS_GROUP, self.channel_name)
            self.in_line = True
        elif not waiting and self.in_line:
            await self.channel_layer.group_discard(queue.POSITIONS_GROUP, self.channel_name)
            self.in_line = False

    async def disconnect(self, code):
        try:
            if self.group:
                await self.channel_layer.group_discard(self.group, self.channel_name)
            if self.in_line:
                await self.channel_layer.group_discard(queue.POSITIONS_GROUP, self.channel_name)
        except Exception:  # Redis away: the groups expire on their own
            logger.debug("Could not leave groups for job socket %s", self.public_id, exc_info=True)

    async def receive_json(self, content, **kwargs):
        # Clients may ask for a fresh snapshot (e.g. after coming back to the tab).
        if content.get("type") == "refresh" and self.public_id:
            state = await database_sync_to_async(self._state)(self.scope["user"], self.public_id)
            if state is not None:
                await self.send_json({"type": "state", **state})

    async def job_frame(self, event):
        frame = event["frame"]
        if frame.get("type") == "status":
            await self._follow_line(frame.get("status") == "queued")
        elif frame.get("type") in ("progress", "done", "failed"):
            await self._follow_line(False)
        await self.send_json(frame)

    async def queue_positions(self, event):
        """One message for the whole line (studio.queue.publish_positions): find our own place."""
        if not self.in_line:
            return
        position = queue.position_in(event, self.public_id)
        if position is None:
            # Beyond the head the message carries: ask Redis for our own place now and then.
            now = time.monotonic()
            if now - self.asked_at < BEYOND_HEAD_REFRESH_SECONDS:
                return
            self.asked_at = now
            job = _QueuedJob(self.public_id)
            position = (await database_sync_to_async(queue.job_positions)([job])).get(self.public_id)
            if position is None:
                return
        if position != self.position:
            self.position = position
            await self.send_json({"type": "queue", "position": position})


class _QueuedJob:
    """What studio.queue.job_positions needs from a job, without a database read."""

    def __init__(self, public_id: str):
        self.public_id = public_id
        self.rq_job_id = f"{queue.RQ_PREFIX}{public_id}"
