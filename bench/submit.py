"""Submit → photo verdicts (issue 14): how fast the form answers now that the face checks left the
request, and how soon each photo's verdict exists when the check queue is idle.

    .venv/bin/python bench/submit.py [--runs 10]

Starts its own redis-server, a throwaway SQLite DB and one real photo-check worker process
(``manage.py gpu_worker --queues check --no-sweep``, models warmed at start), then per run posts the
form (Django's test client, in process: the view's own time, no network) with two photos and polls
the DB every 5 ms until both verdicts are set (the live frame is pushed right after that write) and
until the job is queued for the swap. Writes the "submit" section of BENCHMARKS.md.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()

    from tests.plugins.redis_server import _free_port, start_redis

    work = tempfile.mkdtemp(prefix="lls-bench-submit-")
    port = _free_port()
    redis = start_redis(port, work)
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "LLS_VAR_DIR": work,
        "LLS_PRIVATE_MEDIA_ROOT": str(Path(work) / "private"),
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "PYTHONUNBUFFERED": "1",
    }
    os.environ.update(env)
    worker = None
    try:
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse

        call_command("migrate", verbosity=0)
        from accounts.models import User
        from studio.models import Job, JobPhoto
        from tests.builders import build_concept, upload

        settings.JOB_QUOTAS = {k: {"active": 1000, "per_hour": 1000} for k in settings.JOB_QUOTAS}
        concept = build_concept(slug="bench", pairs=(("obama.jpg", "biden.jpg"),))
        user = User.objects.create_user(email="bench@example.com", password="x-bench-password-1")

        log = open(Path(work) / "check-worker.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "gpu_worker", "--queues", "check", "--no-sweep"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        client = Client()
        client.force_login(user)

        def submit():
            t0 = time.perf_counter()
            response = client.post(
                reverse("studio:job-new"),
                {"concept": concept.slug, "photos_a": upload("grace_hopper.jpg"), "photos_b": upload("biden.jpg"),
                 "consent": "on", "partner_consent": "on"},
                HTTP_ACCEPT="application/json",
            )
            t1 = time.perf_counter()
            assert response.status_code == 201, response.content[:500]
            job = Job.objects.filter(user=user).order_by("-created_at").first()
            verdict_s = queued_s = None
            deadline = time.perf_counter() + 120
            while time.perf_counter() < deadline and (verdict_s is None or queued_s is None):
                if verdict_s is None and not JobPhoto.objects.filter(job=job, verdict="pending").exists():
                    verdict_s = time.perf_counter() - t0
                if queued_s is None and Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).exists():
                    queued_s = time.perf_counter() - t0
                time.sleep(0.005)
            return t1 - t0, verdict_s, queued_s

        # the first check after start waits for the worker to come up and warm its models: not counted
        warm = submit()
        load_before = os.getloadavg()[0]
        rows = [submit() for _ in range(args.runs)]
        load_after = os.getloadavg()[0]
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        redis.terminate()

    submit_s = [r[0] * 1000 for r in rows]
    verdict_s = [r[1] for r in rows if r[1] is not None]
    queued_s = [r[2] for r in rows if r[2] is not None]
    machine = platform.processor() or platform.machine()
    body = f"""## Submit: answer at once, photo checks on the `check` queue (issue 14)

Command: `.venv/bin/python bench/submit.py --runs {args.runs}` — machine: {machine}, {os.cpu_count()} cores,
no GPU, shared with other work while measured (load average {load_before:.1f} → {load_after:.1f} on
{os.cpu_count()} cores, so every figure here is several times what an idle machine gives).
One user posts the form (two photos: grace_hopper.jpg, biden.jpg) through Django's test client in
process (the view's own time: cheap Pillow checks, clean JPEG re-encode, storage, job row, enqueue —
no face model); one idle photo-check worker process
(`manage.py gpu_worker --queues check`) runs the face gate. Verdict time is from the start of the
submit to both photos' verdicts written (each live frame is pushed right after its write).

| | median | p95 (of {args.runs}) |
|---|---|---|
| submit answered (201 + job page URL) | {statistics.median(submit_s):.0f} ms | {_pct(submit_s, .95):.0f} ms |
| both verdicts on the job page | {statistics.median(verdict_s):.2f} s | {_pct(verdict_s, .95):.2f} s |
| job queued for the swap | {statistics.median(queued_s):.2f} s | {_pct(queued_s, .95):.2f} s |

First submit after the worker started (worker start-up + model warm-up included, not in the table):
verdicts after {warm[1] or float('nan'):.2f} s. Before this change the submit request itself ran the gate:
`POST /studio/new/` took p50 7.5 s / p95 8.8 s under the 50-user load bench (issue 14).
Runs (submit ms / verdicts s): {", ".join(f"{a * 1000:.0f}/{b:.2f}" for a, b, _ in rows if b is not None)}
"""
    from bench._markdown import write_section

    write_section("submit", body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
