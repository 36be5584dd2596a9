"""End-to-end time of one Standard couple-photo job on this machine's CPU.

    .venv/bin/python bench/job_time.py [--runs 5]

Starts its own redis-server and a throwaway SQLite DB, seeds one concept with one composed scene,
then per run (after one warm-up run that builds the models and is not counted):

- submit (request): ``job_create`` — cheap upload checks, re-encode, private storage, enqueue the photo
  check. No face model runs here since issue 14;
- check (worker): a real rq worker (burst) on the ``check`` queue runs the face gate on both photos and
  queues the swap;
- swap (worker): a real rq worker (burst) on the ``swap`` queue runs the job (job start → done);
- total: submit → results stored.

Writes the "job" section of BENCHMARKS.md.
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    from tests.plugins.redis_server import _free_port, start_redis

    work = tempfile.mkdtemp(prefix="lls-bench-")
    port = _free_port()
    redis = start_redis(port, work)
    os.environ.update(
        REDIS_URL=f"redis://127.0.0.1:{port}/0",
        LLS_VAR_DIR=work,
        DJANGO_SETTINGS_MODULE="loveloveshot.settings.test",
    )
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        import django_rq

        from accounts.models import User
        from accounts.services import consent_record_create
        from gallery.models import Result
        from studio import services
        from studio.models import Job
        from tests.builders import ThreadSafeWorker, build_concept, upload

        def burst(queue_name):
            q = django_rq.get_queue(queue_name)
            t = time.perf_counter()
            ThreadSafeWorker([q], connection=q.connection).work(burst=True)
            return time.perf_counter() - t

        concept = build_concept(slug="bench", pairs=(("obama.jpg", "biden.jpg"),))
        user = User.objects.create_user(email="bench@example.com", password="x-bench-password-1")
        rows = []
        for run in range(args.runs + 1):  # run 0 warms the models up and is not counted
            consent = consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")
            t0 = time.perf_counter()
            job = services.job_create(
                user=user, concept=concept, photos_a=[upload("grace_hopper.jpg")],
                photos_b=[upload("astronaut.png")], consent=consent,
            )
            submit_s = time.perf_counter() - t0
            burst("check")
            check_q = django_rq.get_queue("check")
            done_ids = [i for i in check_q.finished_job_registry.get_job_ids() if i.startswith(job.check_rq_job_id)]
            rq_check = check_q.fetch_job(done_ids[-1])
            check_s = (rq_check.ended_at - rq_check.started_at).total_seconds()  # the task's own time
            job.refresh_from_db()
            assert job.status == Job.Status.QUEUED, (job.status, job.error_message)
            burst("swap")
            total_s = time.perf_counter() - t0
            job.refresh_from_db()
            assert job.status == Job.Status.DONE, job.error_message
            swap_s = (job.finished_at - job.started_at).total_seconds()
            if run:
                rows.append((submit_s, check_s, swap_s, total_s))
        n_results = Result.objects.count()
    finally:
        redis.terminate()

    def med(i):
        return statistics.median(r[i] for r in rows)

    machine = platform.processor() or platform.machine()
    body = f"""## One Standard job, end to end (CPU)

Command: `.venv/bin/python bench/job_time.py --runs {args.runs}` — machine: {machine},
{os.cpu_count()} cores, no GPU. One concept with one 1280×896 composed scene; Person A = grace_hopper.jpg,
Person B = astronaut.png; {n_results} results written.

| phase | median of {args.runs} runs |
|---|---|
| submit (request, `job_create`): cheap checks, re-encode + store uploads, enqueue the check | {med(0):.2f} s |
| check (worker, `check` queue): face gate on both photos, verdicts pushed, swap enqueued | {med(1):.2f} s |
| swap (worker, `swap` queue): job start → done (detect, swap both faces, encode, store, push) | {med(2):.2f} s |
| total: submit → results stored (burst workers in this process, one after the other) | {med(3):.2f} s |

After one warm-up run (models built) that is not counted. Check is the rq task's own time (started →
ended), swap the job's own start → finish; total is wall time and also includes the two burst workers'
start-up and polling (0-2 s in all here), which a long-running worker does not pay.

Runs (submit / check / swap / total, s): {", ".join("/".join(f"{v:.2f}" for v in r) for r in rows)}
"""
    from bench._markdown import write_section

    write_section("job", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
