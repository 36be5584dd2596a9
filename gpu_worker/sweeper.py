"""Periodic recovery of abandoned work (see studio.services.jobs_recover), run beside each worker."""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from redis.exceptions import RedisError

from studio.services import jobs_recover

logger = logging.getLogger(__name__)


def sweep_once() -> dict[str, int]:
    close_old_connections()
    try:
        counts = jobs_recover()
    except RedisError:
        # The job process logs the outage once ("redis unavailable, retrying"); sweep again next round.
        logger.debug("Redis unavailable; will sweep again", exc_info=True)
        return {}
    if any(counts.values()):
        logger.info("Recovered jobs: %s", counts)
    return counts


class Sweeper(threading.Thread):
    def __init__(self, interval: float | None = None):
        super().__init__(name="job-sweeper", daemon=True)
        self.interval = interval or settings.JOB_SWEEP_INTERVAL_SECONDS
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    sweep_once()
                except Exception:  # keep sweeping whatever one round hit
                    logger.exception("Job sweep failed")
        finally:
            connection.close()
