"""The worker's process model: a light supervisor and one job process.

``manage.py gpu_worker`` is the supervisor. It never imports the engine, torch or CUDA; it runs the
abandoned-job sweeper and the queue-position ticker, and starts one *job process*
(``manage.py gpu_worker --serve``, a fresh interpreter, not a fork) that runs rq's SimpleWorker: jobs
run in that process itself, so models are built there once (lazily, or warmed at start) and stay warm
from job to job, and CUDA is never used across a fork.

If the job process dies (OOM kill, segfault, CUDA abort) the supervisor starts a new one with backoff;
the job it was running stops sending heartbeats and the sweeper puts it back in line (attempts are
counted, so a job that kills every worker fails after JOB_MAX_ATTEMPTS).

Redis going away is ridden out in the job process: rq retries its blocking dequeue with exponential
backoff, and when rq's loop gives up on a connection error anywhere else, the job process waits for
Redis with backoff and starts a new rq worker — same process, models still warm. One log line
"redis unavailable, retrying" per outage, one "redis back" when it returns."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from redis.exceptions import RedisError

logger = logging.getLogger("gpu_worker")

DEFAULT_QUEUES = ("swap",)
MAX_BACKOFF_SECONDS = 8.0


class Backoff:
    """1, 2, 4 ... seconds, capped."""

    def __init__(self, first: float = 1.0, cap: float = MAX_BACKOFF_SECONDS):
        self.first, self.cap, self.next = first, cap, first

    def step(self) -> float:
        wait, self.next = self.next, min(self.next * 2, self.cap)
        return wait

    def reset(self) -> None:
        self.next = self.first


class RedisOutage:
    """One log line when Redis goes away, one when it is back (however many retries in between)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.since: float | None = None

    def down(self) -> bool:
        """Note an outage; True the first time (the caller may log), False while it lasts."""
        with self._lock:
            if self.since is not None:
                return False
            self.since = time.monotonic()
        logger.warning("redis unavailable, retrying")
        return True

    def up(self) -> None:
        if self.since is None:
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            logger.warning("redis back after %.0fs", time.monotonic() - since)


outage = RedisOutage()


class _RqRedisErrors(logging.Filter):
    """rq logs an ERROR line for every reconnect attempt of its dequeue loop and another when its loop
    quits on a connection error; fold them into the outage's single line."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if "could not connect to Redis" in text or "Redis connection timeout" in text:
            outage.down()
            return False
        if "found an unhandled exception, quitting" in text and record.exc_info:
            exc = record.exc_info[1]
            if isinstance(exc, RedisError | ConnectionError | OSError):
                outage.down()
                return False
        return True


def configure_logging() -> None:
    """Quiet worker logs: our one line per job (gpu_worker.tasks), warnings and errors; not rq's
    per-job INFO lines ("swap: <id>", "Job OK", "Result is kept for ...")."""
    for name in ("rq.worker", "rq.job", "rq.queue", "rq.registry", "rq.maintenance"):
        logging.getLogger(name).setLevel(logging.WARNING)
    rq_worker = logging.getLogger("rq.worker")
    if not any(isinstance(f, _RqRedisErrors) for f in rq_worker.filters):
        rq_worker.addFilter(_RqRedisErrors())


def lower_priority() -> int:
    """Run at ``settings.WORKER_NICE`` (env ``LLS_WORKER_NICE``): on a machine shared with the web
    process (``make run``: 10) a swap or a photo check takes only the CPU the web leaves over, so pages
    and submits stay fast while jobs run. Only ever lowers the priority (raising it needs root and is
    never wanted); the job process inherits it and applies it again. Returns the niceness now."""
    target = max(0, min(19, int(getattr(settings, "WORKER_NICE", 0) or 0)))
    current = os.nice(0)
    if target > current:
        current = os.nice(target - current)
    return current


def redis_ok(connection) -> bool:
    try:
        connection.ping()
    except (RedisError, OSError):
        return False
    return True


# ---------------------------------------------------------------------------------------------------
# The job process


def _job_worker_class():
    from rq import SimpleWorker

    class JobWorker(SimpleWorker):
        """rq's SimpleWorker (jobs run in this process: models stay warm), with a shorter reconnect cap
        and the outage noted once."""

        max_connection_wait_time = MAX_BACKOFF_SECONDS
        stop_asked = False

        def request_stop(self, signum, frame):
            self.stop_asked = True  # rq only sets _stop_requested when busy; idle, it raises StopRequested
            return super().request_stop(signum, frame)

        def heartbeat(self, *args, **kwargs):
            result = super().heartbeat(*args, **kwargs)
            outage.up()  # it reached Redis
            return result

    return JobWorker


def warm(queue_names) -> None:
    """Build what the jobs need now, in this process, so the first job does not pay for it."""
    if "swap" in queue_names:
        from gpu_worker import tasks

        try:
            tasks.engine()
        except Exception as exc:  # a broken model fails jobs cleanly (model_missing); keep serving
            logger.warning("engine not ready at start (%s: %s); jobs will retry building it", type(exc).__name__, exc)
    if "check" in queue_names:
        try:
            from gpu_worker import checks
        except ImportError:
            return
        if hasattr(checks, "warm"):
            try:
                checks.warm()
            except Exception as exc:  # a broken gate model fails the checks cleanly; keep serving
                logger.warning("photo check models not ready at start (%s: %s)", type(exc).__name__, exc)


def _die_with_supervisor() -> None:
    """Linux: get SIGTERM (rq's warm shutdown) when the supervisor dies, even by SIGKILL, so a job
    process is never left orphaned."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except OSError:
        return
    if os.getppid() == 1:  # the supervisor was already gone before prctl
        os.kill(os.getpid(), signal.SIGTERM)


def serve(queue_names=DEFAULT_QUEUES, *, name: str | None = None, burst: bool = False) -> int:
    """The job process: run rq's SimpleWorker on ``queue_names`` until asked to stop (or, with
    ``burst``, until the queues are empty), riding out Redis outages."""
    import django_rq
    from django.db import connections
    from rq.exceptions import StopRequested

    _die_with_supervisor()
    configure_logging()
    lower_priority()
    warm(queue_names)
    queues = [django_rq.get_queue(n) for n in queue_names]
    connection = queues[0].connection
    stop = threading.Event()
    backoff = Backoff()
    runs = 0
    while not stop.is_set():
        runs += 1
        worker = None
        began = time.monotonic()
        try:
            worker = _job_worker_class()(queues, connection=connection,
                                         name=f"{name}.{os.getpid()}.{runs}" if name else None)
            if stop.is_set():
                return 0
            worker.work(burst=burst, logging_level="WARNING", with_scheduler=False)
        except (RedisError, OSError):
            outage.down()  # e.g. rq registering the worker's birth or death while Redis is away
        except StopRequested:
            return 0
        connections.close_all()
        if worker is not None and (worker.stop_asked or worker._stop_requested):
            return 0
        # rq's loop ended without a stop request: Redis went away, or (burst) the queues are empty.
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if time.monotonic() - began > 60:
            backoff.reset()
        if redis_ok(connection):
            outage.up()
            if burst:
                return 0
            stop.wait(backoff.step())  # rq quit for another reason: do not spin
            continue
        outage.down()
        while not stop.is_set() and not redis_ok(connection):
            stop.wait(backoff.step())
        if not stop.is_set():
            outage.up()
            backoff.reset()
    return 0


# ---------------------------------------------------------------------------------------------------
# The supervisor


class _Ticker(threading.Thread):
    """Pushes queue positions to waiting jobs at most once per tick (studio.queue.publish_positions)."""

    def __init__(self, interval: float):
        super().__init__(name="queue-positions", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        from studio import queue

        while not self.stopped.wait(self.interval):
            try:
                queue.publish_positions()
            except Exception:  # never let one bad tick end the ticker
                logger.exception("queue positions tick failed")


def _child_command(queue_names, name, burst) -> list[str]:
    cmd = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "gpu_worker", "--serve",
           "--queues", ",".join(queue_names)]
    if name:
        cmd += ["--name", name]
    if burst:
        cmd.append("--burst")
    return cmd


def supervise(queue_names=DEFAULT_QUEUES, *, name: str | None = None, burst: bool = False,
              sweep: bool = True) -> int:
    """Run the job process and restart it whenever it dies; sweep abandoned jobs; tick positions."""
    from gpu_worker.sweeper import Sweeper, sweep_once

    configure_logging()
    nice = lower_priority()
    threads: list = []
    if sweep:
        sweep_once()
        threads.append(Sweeper())
    if "swap" in queue_names:
        threads.append(_Ticker(float(getattr(settings, "QUEUE_POSITIONS_TICK_SECONDS", 1.0))))
    for thread in threads:
        thread.start()

    stopping = threading.Event()
    child: dict[str, subprocess.Popen | None] = {"proc": None}

    def on_signal(signum, _frame):
        proc = child["proc"]
        if stopping.is_set() and proc is not None and proc.poll() is None:
            proc.kill()  # asked twice: do not wait for the running job
            return
        stopping.set()
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # rq's warm shutdown: finish the running job, then exit

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    backoff = Backoff(cap=30.0)
    code = 0
    try:
        while not stopping.is_set():
            started = time.monotonic()
            proc = subprocess.Popen(_child_command(queue_names, name, burst))
            child["proc"] = proc
            logger.info("job process pid=%d started (queues %s, supervisor pid=%d, nice %d)", proc.pid,
                        ",".join(queue_names), os.getpid(), nice)
            code = proc.wait()
            if stopping.is_set() or (burst and code == 0):
                break
            if time.monotonic() - started > 60:
                backoff.reset()
            wait = backoff.step()
            how = f"signal {-code}" if code < 0 else f"exit code {code}"
            logger.warning("job process pid=%d died (%s); starting a new one in %.0fs", proc.pid, how, wait)
            stopping.wait(wait)
    finally:
        for thread in threads:
            thread.stopped.set()
    return 0 if stopping.is_set() else code
