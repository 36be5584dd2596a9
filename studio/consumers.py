"""Websocket /ws/jobs/<uuid>/: the job's owner gets its live state, then every frame pushed to it."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import realtime
from .selectors import job_get, job_state


class JobConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        state = await database_sync_to_async(self._state)(user, public_id)
        if state is None:
            await self.close(code=4404)
            return
        self.group = realtime.job_group(public_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "state", **state})

    @staticmethod
    def _state(user, public_id):
        job = job_get(user=user, public_id=public_id)
        return None if job is None else job_state(job=job)

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        # Clients may ask for a fresh snapshot (e.g. after coming back to the tab).
        if content.get("type") == "refresh" and self.group:
            user = self.scope["user"]
            state = await database_sync_to_async(self._state)(user, self.group.removeprefix("job-"))
            if state is not None:
                await self.send_json({"type": "state", **state})

    async def job_frame(self, event):
        await self.send_json(event["frame"])
