"""Workers run at a lower CPU priority than the web server (LLS_WORKER_NICE; `make run` uses 10), so on
a shared machine a swap or a photo check takes only the CPU the web leaves over (issue 14: submit p95
under load). Checked on real processes: `manage.py gpu_worker` and the job process it starts."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.builders import children_of
from tests.ops.test_quiet_logs import supervise

REPO = Path(__file__).resolve().parents[2]


def _nice_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_worker_and_its_job_process_run_at_the_configured_niceness(settings, tmp_path):
    target = min(19, os.nice(0) + 5)  # always above the test's own, so the check can fail
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "REDIS_URL": settings.REDIS_URL,
        "LLS_VAR_DIR": str(tmp_path),
        "LLS_WORKER_NICE": str(target),
    }
    log = tmp_path / "worker.log"
    # the webhooks queue: a real rq job process without the face models (nothing to warm)
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "gpu_worker", "--queues", "webhooks", "--no-sweep"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        kids: list[int] = []
        while time.monotonic() < deadline and not kids and worker.poll() is None:
            kids = children_of(worker.pid)
            time.sleep(0.1)
        assert kids, f"no job process started:\n{log.read_text()[-2000:]}"
        assert _nice_of(worker.pid) == target
        assert _nice_of(kids[0]) == target
        assert os.nice(0) < target  # the test process itself was not changed
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)


def test_worker_nice_zero_leaves_the_priority_alone(settings):
    from gpu_worker.process import lower_priority

    settings.WORKER_NICE = 0
    before = os.nice(0)
    assert lower_priority() == before


def test_make_run_starts_workers_at_nice_10_unless_told_otherwise(monkeypatch):
    module = supervise()
    monkeypatch.delenv("LLS_WORKER_NICE", raising=False)
    assert module.worker_nice() == "10"
    monkeypatch.setenv("LLS_WORKER_NICE", "0")
    assert module.worker_nice() == "0"
