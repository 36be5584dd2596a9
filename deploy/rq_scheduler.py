"""The scheduler process: rq's own RQScheduler for the "swap", "check" and "webhooks" queues, on its own.

rq 3.0 runs its scheduler inside a worker started `--with-scheduler`; `manage.py gpu_worker` runs
without it, so one small process (one per deployment; rq holds a Redis lock per queue, so a second
copy idles as a standby) moves jobs scheduled with enqueue_at/enqueue_in and retries with intervals
back onto the queue (partner webhook retries: partners.services, Retry with backoff intervals). It
executes no job and imports no Django: only REDIS_URL is needed.

    REDIS_URL=redis://10.0.0.5:6379/0 python deploy/rq_scheduler.py [queue ...]   (default: every queue)
"""

import logging
import os
import sys

from redis import Redis
from rq.scheduler import RQScheduler

# The rq queues of settings.RQ_QUEUES (kept in step by tests/integration/test_webhooks.py).
QUEUES = ("swap", "check", "webhooks")


def main(argv: list[str]) -> None:
    url = os.environ.get("REDIS_URL")
    if not url:
        sys.exit("REDIS_URL must point at the shared Redis")
    queues = argv or list(QUEUES)
    scheduler = RQScheduler(queues, connection=Redis.from_url(url), interval=1, logging_level=logging.INFO)
    scheduler.log.info("rq scheduler for %s on %s", ", ".join(queues), url.rsplit("@", 1)[-1])
    scheduler.work()


if __name__ == "__main__":
    main(sys.argv[1:])
