"""End-to-end time of one Standard couple-photo job on this machine's CPU.

    .venv/bin/python bench/job_time.py [--runs 5]

Starts its own redis-server and a throwaway SQLite DB, seeds one concept with one composed scene,
then per run: job_create (upload decode + face gate + private storage + enqueue) → a real rq worker
(burst) runs the job → results stored. Times each phase; writes the "job" section of BENCHMARKS.md.
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
        from accounts.models import User
        from accounts.services import consent_record_create
        from gallery.models import Result
        from studio import services
        from studio.models import Job
        from tests.builders import build_concept, run_worker, upload

        concept = build_concept(slug="bench", pairs=(("obama.jpg", "biden.jpg"),))
        user = User.objects.create_user(email="bench@example.com", password="x-bench-password-1")
        rows = []
        for _ in range(args.runs):
            consent = consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")
            t0 = time.perf_counter()
            job = services.job_create(
                user=user, concept=concept, photos_a=[upload("grace_hopper.jpg")],
                photos_b=[upload("astronaut.png")], consent=consent,
            )
            t1 = time.perf_counter()
            run_worker()
            t2 = time.perf_counter()
            job.refresh_from_db()
            assert job.status == Job.Status.DONE, job.error_message
            worker_s = (job.finished_at - job.started_at).total_seconds()
            rows.append((t1 - t0, worker_s, t2 - t0))
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
| submit: decode + face gate + store both uploads + enqueue (`job_create`) | {med(0):.2f} s |
| worker: job start → done (decode, detect, swap both faces, encode, store, push) | {med(1):.2f} s |
| total: submit → results stored (rq worker in burst mode, same process) | {med(2):.2f} s |

Runs (submit / worker / total, s): {", ".join(f"{a:.2f}/{b:.2f}/{c:.2f}" for a, b, c in rows)}
"""
    from bench._markdown import write_section

    write_section("job", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
