"""The django-rq queue "swap" and queue positions."""

import logging

import django_rq
from redis.exceptions import RedisError

from . import realtime

logger = logging.getLogger(__name__)
QUEUE_NAME = "swap"
TASK = "gpu_worker.tasks.run_swap"


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


def position_of(*, job) -> int | None:
    """1-based place in line, counting jobs already running ahead of this one. None if not queued."""
    try:
        ids = waiting_ids()
        if job.rq_job_id not in ids:
            return None
        return ids.index(job.rq_job_id) + 1 + running_count()
    except RedisError:
        return None


def broadcast_positions() -> None:
    """One fan-out per state change: tell every waiting job its place in line."""
    try:
        ids = waiting_ids()
        ahead = running_count()
    except RedisError:
        logger.warning("Redis unavailable; queue positions not pushed", exc_info=True)
        return
    for index, rq_id in enumerate(ids):
        if rq_id.startswith("swap-"):
            realtime.push(rq_id.removeprefix("swap-"), {"type": "queue", "position": index + 1 + ahead})
