"""Places in line from Redis itself (LPOS), one round trip for any number of jobs; a state change costs
O(1) Redis round trips and at most one positions message per tick, to the one group ``queue``; each
job's websocket works out its own place from that message."""

import asyncio
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from redis.client import Pipeline, Redis

from accounts.services import consent_record_create
from studio import queue, services
from studio.consumers import JobConsumer
from tests.builders import build_concept, run_checks, upload


class FakeJob:
    """What studio.queue needs from a job (public id and rq id); the rq queue itself is real."""

    def __init__(self):
        self.public_id = uuid.uuid4()
        self.rq_job_id = f"swap-{self.public_id}"


@pytest.fixture
def round_trips(monkeypatch):
    """Counts Redis round trips: single commands and pipeline executions."""
    counter = {"n": 0}
    command, execute = Redis.execute_command, Pipeline.execute

    def counted_command(self, *args, **kwargs):
        if not isinstance(self, Pipeline):
            counter["n"] += 1
        return command(self, *args, **kwargs)

    def counted_execute(self, *args, **kwargs):
        counter["n"] += 1
        return execute(self, *args, **kwargs)

    monkeypatch.setattr(Redis, "execute_command", counted_command)
    monkeypatch.setattr(Pipeline, "execute", counted_execute)
    return counter


def _line(n: int) -> list[FakeJob]:
    jobs = [FakeJob() for _ in range(n)]
    for job in jobs:
        queue.enqueue(job=job)
    return jobs


def test_positions_of_many_jobs_in_one_round_trip(round_trips):
    jobs = _line(30)
    outsider = FakeJob()
    round_trips["n"] = 0
    positions = queue.job_positions([jobs[0], jobs[17], jobs[29], outsider])
    assert round_trips["n"] == 1
    assert positions == {str(jobs[0].public_id): 1, str(jobs[17].public_id): 18, str(jobs[29].public_id): 30,
                         str(outsider.public_id): None}
    assert queue.position_of(job=jobs[5]) == 6


def test_a_state_change_costs_constant_round_trips_and_one_message_per_tick(settings, round_trips):
    settings.QUEUE_POSITIONS_TICK_SECONDS = 3600  # the whole test inside one tick
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(queue.POSITIONS_GROUP, channel)
    jobs = _line(300)

    costs = []
    for job in jobs[:20]:  # twenty jobs start one after another
        queue.dequeue(job=job)
        round_trips["n"] = 0
        queue.broadcast_positions()
        costs.append(round_trips["n"])
    assert costs[0] <= 6, costs  # mark + snapshot + one group send
    assert costs[1:] == [1] * 19, costs  # later changes in the same tick: just the mark

    # the worker's ticker sends the trailing state once; nothing when the line did not change
    assert queue.publish_positions() is True
    assert queue.publish_positions() is False

    async def drain():
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=1))
            except TimeoutError:
                return messages

    messages = async_to_sync(drain)()
    assert len(messages) == 2
    first, last = messages
    assert first["type"] == "queue.positions" and first["waiting"] == 299
    assert last["waiting"] == 280 and len(last["head"]) == queue.POSITIONS_HEAD
    assert last["head"][0] == str(jobs[20].public_id)
    assert queue.position_in(last, jobs[21].public_id) == 2
    assert queue.position_in(last, jobs[299].public_id) is None  # beyond the head


@pytest.mark.django_db(transaction=True)
def test_each_waiting_socket_finds_its_own_place(user, other_user, django_user_model, password, settings,
                                                 monkeypatch):
    settings.QUEUE_POSITIONS_TICK_SECONDS = 0.001  # every change is the first in its tick
    concept = build_concept()
    third_user = django_user_model.objects.create_user(email="third@example.com", password=password)
    jobs = []
    for owner, a, b in ((user, "obama.jpg", "biden.jpg"), (other_user, "grace_hopper.jpg", "astronaut.png"),
                        (third_user, "obama2.jpg", "biden.jpg")):
        consent = consent_record_create(user=owner, partner_confirmed=True, ip_address="127.0.0.1")
        jobs.append(services.job_create(user=owner, concept=concept, photos_a=[upload(a)], photos_b=[upload(b)],
                                        consent=consent))
    run_checks()
    monkeypatch.setattr(queue, "POSITIONS_HEAD", 2)  # the third job is beyond the message's head

    async def scenario():
        sockets = []
        for job in jobs[1:]:
            communicator = WebsocketCommunicator(JobConsumer.as_asgi(), f"/ws/jobs/{job.public_id}/")
            communicator.scope["user"] = job.user
            communicator.scope["url_route"] = {"kwargs": {"public_id": job.public_id}}
            connected, _ = await communicator.connect(timeout=20)
            assert connected
            state = await communicator.receive_json_from(timeout=20)
            sockets.append((communicator, state["position"]))
        # the first job leaves the line (as when a worker takes it)
        await asyncio.to_thread(queue.dequeue, job=jobs[0])
        await asyncio.to_thread(queue.broadcast_positions)
        frames = [await communicator.receive_json_from(timeout=20) for communicator, _ in sockets]
        for communicator, _ in sockets:
            await communicator.disconnect()
        return [position for _, position in sockets], frames

    before, frames = async_to_sync(scenario)()
    assert before == [2, 3]
    assert frames == [{"type": "queue", "position": 1}, {"type": "queue", "position": 2}]
