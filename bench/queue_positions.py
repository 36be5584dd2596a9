"""Benchmark of queue positions (issue 14): what one job start/finish costs the worker with 500 jobs
waiting, each with its job page open, before and after positions came from Redis itself.

    .venv/bin/python bench/queue_positions.py [--jobs 500] [--events 40] [--no-write]

Starts its own redis-server on a free port (needs `redis-server` on PATH), queues ``--jobs`` real rq
jobs and gives each waiting job one channels-layer channel, like an open job page: in its own group
``job-<id>`` (the old push) and in the group ``queue`` (the new one). Then ``--events`` times: one job
leaves the head of the line (not timed) and the worker announces it (timed):

- before: the old ``broadcast_positions`` (kept below, verbatim): read the whole queue, clean the
  started registry, then one group message per waiting job;
- after, every change first in its tick: studio.queue.broadcast_positions with a tick so short that
  each call sends the positions message (the worst case);
- after, as run (1 s tick): changes within a tick only mark the line; the worker's ticker sends one
  message per tick (its cost is measured separately).

Also: the partner job list's positions for 100 jobs (old: ``position_of`` per item; new:
studio.queue.job_positions). Round trips are counted by wrapping redis-py's command and pipeline
calls. Writes its section of BENCHMARKS.md."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_redis(workdir: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--bind",
                             "127.0.0.1", "--dir", workdir, "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


# ---- the code before (studio/queue.py at 4ebe253^), kept verbatim for the comparison ------------------

def old_position_of(q, rq_job_id):
    ids = q.get_job_ids()
    if rq_job_id not in ids:
        return None
    return ids.index(rq_job_id) + 1 + q.started_job_registry.count


def old_broadcast_positions(q, push):
    ids = q.get_job_ids()
    ahead = q.started_job_registry.count
    for index, rq_id in enumerate(ids):
        if rq_id.startswith("swap-"):
            push(rq_id.removeprefix("swap-"), {"type": "queue", "position": index + 1 + ahead})


# -------------------------------------------------------------------------------------------------------

class RoundTrips:
    def __init__(self):
        from redis.client import Pipeline, Redis

        self.n = 0
        command, execute = Redis.execute_command, Pipeline.execute
        counter = self

        def counted_command(self, *args, **kwargs):
            if not isinstance(self, Pipeline):
                counter.n += 1
            return command(self, *args, **kwargs)

        def counted_execute(self, *args, **kwargs):
            counter.n += 1
            return execute(self, *args, **kwargs)

        Redis.execute_command = counted_command
        Pipeline.execute = counted_execute

        # channels_redis talks to Redis through redis.asyncio: count those too
        from redis.asyncio.client import Pipeline as AsyncPipeline
        from redis.asyncio.client import Redis as AsyncRedis

        async_command, async_execute = AsyncRedis.execute_command, AsyncPipeline.execute

        async def counted_async_command(self, *args, **kwargs):
            if not isinstance(self, AsyncPipeline):
                counter.n += 1
            return await async_command(self, *args, **kwargs)

        async def counted_async_execute(self, *args, **kwargs):
            counter.n += 1
            return await async_execute(self, *args, **kwargs)

        AsyncRedis.execute_command = counted_async_command
        AsyncPipeline.execute = counted_async_execute


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    workdir = tempfile.mkdtemp(prefix="lls-bench-redis-")
    redis_proc, port = _start_redis(workdir)
    try:
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        os.environ.setdefault("LLS_VAR_DIR", tempfile.mkdtemp(prefix="lls-bench-var-"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "loveloveshot.settings.test"
        import logging

        import django

        django.setup()
        logging.getLogger("channels_redis").setLevel(logging.ERROR)  # the old fan-out fills the pages' buffers
        body = run(args)
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
    print(body)
    if not args.no_write:
        from bench._markdown import write_section

        write_section("queue-positions", body)


def run(args) -> str:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer
    from django.conf import settings

    from studio import queue, realtime

    class Job:
        def __init__(self):
            self.public_id = uuid.uuid4()
            self.rq_job_id = f"swap-{self.public_id}"

    q = queue.get_queue()
    layer = get_channel_layer()
    counter = RoundTrips()

    def fill() -> list:
        q.connection.flushdb()
        jobs = [Job() for _ in range(args.jobs)]
        for job in jobs:
            queue.enqueue(job=job)

        async def open_pages():
            for job in jobs:
                channel = await layer.new_channel()
                await layer.group_add(realtime.job_group(job.public_id), channel)
                await layer.group_add(queue.POSITIONS_GROUP, channel)

        async_to_sync(open_pages)()
        return jobs

    def measure(announce) -> tuple[list[float], list[int]]:
        fill()
        times, trips = [], []
        for _ in range(args.events):
            q.connection.lpop(q.key)  # a job leaves the head of the line (not timed)
            counter.n = 0
            started = time.perf_counter()
            announce()
            times.append((time.perf_counter() - started) * 1000)
            trips.append(counter.n)
        return times, trips

    results = {}
    results["before: broadcast_positions (one message per waiting job)"] = measure(
        lambda: old_broadcast_positions(q, realtime.push))
    settings.QUEUE_POSITIONS_TICK_SECONDS = 0.000001
    results["after, every change first in its tick (one group message)"] = measure(queue.broadcast_positions)
    settings.QUEUE_POSITIONS_TICK_SECONDS = 1.0
    results["after, as run: changes within a 1 s tick (mark only)"] = measure(queue.broadcast_positions)

    # the ticker's cost once per tick (the line changed)
    fill()
    tick_times, tick_trips = [], []
    for _ in range(args.events):
        q.connection.lpop(q.key)
        q.connection.set("lls:queue:positions:dirty", 1)
        counter.n = 0
        started = time.perf_counter()
        queue.publish_positions()
        tick_times.append((time.perf_counter() - started) * 1000)
        tick_trips.append(counter.n)
    results["after: the worker's ticker, once per tick"] = (tick_times, tick_trips)

    # the partner job list: positions of 100 listed jobs
    jobs = fill()
    listed = jobs[-100:]
    counter.n = 0
    started = time.perf_counter()
    old = [old_position_of(q, job.rq_job_id) for job in listed]
    old_ms, old_trips = (time.perf_counter() - started) * 1000, counter.n
    counter.n = 0
    started = time.perf_counter()
    new = queue.job_positions(listed)
    new_ms, new_trips = (time.perf_counter() - started) * 1000, counter.n
    assert old == [new[str(job.public_id)] for job in listed]

    redis_version = q.connection.info()["redis_version"]
    lines = [
        "## Queue positions (issue 14)",
        "",
        f"Command: `.venv/bin/python bench/queue_positions.py` — machine: {platform.machine()}, "
        f"{os.cpu_count()} CPUs (load average {os.getloadavg()[0]:.1f}: shared with other work), "
        f"Python {platform.python_version()}, redis-server {redis_version} on loopback; "
        f"{args.jobs} jobs waiting, each with one open job page (a channels-layer channel); {args.events} "
        "state changes (a job leaves the head of the line), the worker's cost of announcing each one.",
        "",
        "| what the worker does per start/finish | median ms | p95 ms | Redis round trips | messages |",
        "|---|---:|---:|---:|---:|",
    ]
    messages = {0: f"{args.jobs - 1}…{args.jobs - args.events}", 1: "1", 2: "0 (ticker: 1 per tick)", 3: "1"}
    for i, (name, (times, trips)) in enumerate(results.items()):
        p95 = sorted(times)[max(0, int(len(times) * 0.95) - 1)]
        lines.append(f"| {name} | {statistics.median(times):.2f} | {p95:.2f} | "
                     f"{statistics.median(trips):.0f} | {messages[i]} |")
    lines += [
        "",
        f"Partner job list, places in line of 100 listed jobs: before {old_ms:.1f} ms / {old_trips} round trips "
        f"(the whole queue read per item), after {new_ms:.1f} ms / {new_trips} round trip "
        "(`studio.queue.job_positions`: LPOS per job, pipelined).",
        "",
        "Before, every start and finish ran the fan-out synchronously in the worker, so with N jobs waiting "
        "the line as a whole cost O(N²) messages. After, a change marks the line (1 round trip); at most "
        "one message per tick reaches the group `queue`, and each page works out its own place from the "
        f"head it carries (first {queue.POSITIONS_HEAD}; pages further back ask Redis with one LPOS at "
        "most every 5 s).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
