"""The django-rq queue "swap" and places in line, read from Redis itself.

Positions: one round trip answers any number of jobs (LPOS per job + the running count, pipelined).
Pushing them: a state change only marks the line as changed (one round trip); at most once per tick
ONE message goes to the channels group ``queue`` that every waiting job's websocket joins. It carries
the head of the line and the counts; each consumer works out its own place (studio.consumers)."""

import logging

import django_rq
from django.conf import settings
from redis.exceptions import RedisError

from . import realtime

logger = logging.getLogger(__name__)
QUEUE_NAME = "swap"
TASK = "gpu_worker.tasks.run_swap"
RQ_PREFIX = "swap-"  # Job.rq_job_id == "swap-<public_id>"
POSITIONS_GROUP = "queue"
POSITIONS_HEAD = 50  # job ids carried by one positions message; later jobs ask Redis themselves
_DIRTY_KEY = "lls:queue:positions:dirty"
_TICK_KEY = "lls:queue:positions:tick"


def get_queue():
    return django_rq.get_queue(QUEUE_NAME)


def enqueue(*, job) -> None:
    get_queue().enqueue(
        TASK,
        str(job.public_id),
        job_id=job.rq_job_id,
        job_timeout=900,
        result_ttl=3600,
        failure_ttl=86400,
    )


def dequeue(*, job) -> None:
    """Take a job off the queue and drop its rq record (which holds only the job id)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job as RqJob

    q = get_queue()
    try:
        q.remove(job.rq_job_id)
        RqJob.fetch(job.rq_job_id, connection=q.connection).delete()
    except NoSuchJobError:
        pass
    except RedisError:
        logger.warning("Redis unavailable; rq job %s not removed (the worker skips it)", job.rq_job_id, exc_info=True)


def running_count() -> int:
    return get_queue().started_job_registry.count


def waiting_ids() -> list[str]:
    return get_queue().get_job_ids()


def rq_positions(rq_job_ids) -> dict[str, int | None]:
    """1-based place in line for each rq job id (jobs already running count as ahead); None when not
    waiting. One Redis round trip: LPOS for each id and the running count, pipelined."""
    ids = list(rq_job_ids)
    if not ids:
        return {}
    q = get_queue()
    with q.connection.pipeline(transaction=False) as pipe:
        pipe.zcard(q.started_job_registry.key)
        for rq_id in ids:
            pipe.lpos(q.key, rq_id)
        running, *found = pipe.execute()
    return {rq_id: None if index is None else index + 1 + running for rq_id, index in zip(ids, found, strict=True)}


def job_positions(jobs) -> dict[str, int | None]:
    """Selector for lists (partner API, album): {str(public_id): place in line or None} for the given
    jobs in one Redis round trip; {} entries are None while Redis is away."""
    jobs = list(jobs)
    try:
        by_rq = rq_positions(job.rq_job_id for job in jobs)
    except RedisError:
        return {str(job.public_id): None for job in jobs}
    return {str(job.public_id): by_rq[job.rq_job_id] for job in jobs}


def position_of(*, job) -> int | None:
    """1-based place in line, counting jobs already running ahead of this one. None if not queued."""
    return job_positions([job])[str(job.public_id)]


def _tick_ms() -> int:
    return max(1, int(float(getattr(settings, "QUEUE_POSITIONS_TICK_SECONDS", 1.0)) * 1000))


def broadcast_positions() -> None:
    """Called on every state change that moves the line (submit, start, finish, cancel...).

    Marks the line as changed and, if no positions message went out during the current tick, sends one
    now; otherwise the worker's ticker (publish_positions, once per tick) sends it. Costs one round
    trip, plus one message for the first change in a tick, whatever the length of the line."""
    try:
        with get_queue().connection.pipeline(transaction=False) as pipe:
            pipe.set(_DIRTY_KEY, 1)
            pipe.set(_TICK_KEY, 1, nx=True, px=_tick_ms())
            _, first_in_tick = pipe.execute()
    except RedisError:
        logger.debug("Redis unavailable; queue positions not pushed", exc_info=True)
        return
    if first_in_tick:
        publish_positions()


def positions_snapshot() -> dict | None:
    """The positions message if the line changed since the last one (and clears the mark), else None."""
    q = get_queue()
    with q.connection.pipeline(transaction=True) as pipe:
        pipe.get(_DIRTY_KEY)
        pipe.delete(_DIRTY_KEY)
        pipe.lrange(q.key, 0, POSITIONS_HEAD - 1)
        pipe.llen(q.key)
        pipe.zcard(q.started_job_registry.key)
        dirty, _, head, waiting, running = pipe.execute()
    if not dirty:
        return None
    head = [rq_id.decode() if isinstance(rq_id, bytes) else rq_id for rq_id in head]
    return {
        "type": "queue.positions",
        "head": [rq_id.removeprefix(RQ_PREFIX) for rq_id in head],
        "waiting": waiting,
        "running": running,
    }


def publish_positions() -> bool:
    """Send one positions message to the group ``queue`` if the line changed; True if one was sent."""
    try:
        message = positions_snapshot()
    except RedisError:
        logger.debug("Redis unavailable; queue positions not pushed", exc_info=True)
        return False
    if message is None:
        return False
    return realtime.push_group(POSITIONS_GROUP, message)


def position_in(message: dict, public_id) -> int | None:
    """A consumer's own place from a positions message; None when it is beyond the message's head."""
    try:
        return message["head"].index(str(public_id)) + 1 + message["running"]
    except ValueError:
        return None
