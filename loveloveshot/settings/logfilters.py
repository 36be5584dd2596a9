"""Logging filters used by LOGGING (settings/base.py).

rq's worker logs two INFO lines per job (one when it takes the job, one when it is done) plus a
"cleaning registries" line now and then. In normal operation the worker log keeps one line per job:
rq's "Successfully completed job ... in ...s" line. Warnings and errors (failed jobs, retries, Redis
trouble) always pass.
"""

import logging

# rq 3.0 (requirements/base.txt) format strings of the lines we drop, matched on record.msg.
RQ_NOISE = (
    "Worker %s: %s: %s (%s)",  # job taken (with description)
    "Worker %s: %s: %s",  # job taken
    "Worker %s: cleaning registries for queue: %s",
    "Worker %s: cleaning group registries",
)


class OneLinePerJob(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.msg not in RQ_NOISE
