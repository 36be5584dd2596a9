"""The partner guide's Python example (docs/partner-guide.md), extracted from the guide and run as a
partner would: against a live daphne server, the photo-check worker, the swap worker and the webhook
worker (real processes on the test database and the session's redis-server)."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token

from tests.builders import build_concept
from tests.conftest import faces_dir

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "docs" / "partner-guide.md"


def guide_python_example() -> str:
    text = GUIDE.read_text()
    section = text[text.index("## Python:"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_stack(transactional_db, _private_media, tmp_path):
    from django.conf import settings as dj

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "REDIS_URL": dj.REDIS_URL,
        "LLS_VAR_DIR": str(dj.VAR_DIR),
        "LLS_PRIVATE_MEDIA_ROOT": str(_private_media),
        "PYTHONUNBUFFERED": "1",
    }
    port = _free_port()
    commands = {
        "daphne": [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "loveloveshot.asgi:application"],
        "check": [sys.executable, "manage.py", "gpu_worker", "--queues", "check", "--no-sweep"],
        "swap": [sys.executable, "manage.py", "gpu_worker"],
        "webhooks": [sys.executable, "manage.py", "rqworker", "webhooks", "--with-scheduler"],
    }
    procs, logs = [], []
    for name, args in commands.items():
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed below
        logs.append(log)
        procs.append(subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if time.monotonic() > deadline or procs[0].poll() is not None:
                raise RuntimeError("daphne did not start") from None
            time.sleep(0.2)
    yield f"http://127.0.0.1:{port}"
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    for log in logs:
        log.close()
    for path in sorted(tmp_path.glob("*.log")):
        sys.stdout.write(f"--- {path.name} ---\n{path.read_text(errors='replace')[-2000:]}\n")


def test_guide_has_curl_and_python_examples():
    text = GUIDE.read_text()
    assert "```sh" in text and "curl" in text and "Idempotency-Key" in text
    code = guide_python_example()
    compile(code, "partner-guide.md", "exec")
    assert "LoveLoveShot-Signature" in code and "compare_digest" in code


@pytest.mark.django_db(transaction=True)
def test_guide_python_example_runs_against_the_live_stack(live_stack, django_user_model, tmp_path):
    concept = build_concept()
    partner = django_user_model.objects.create_user(email="guide@partner.example", password="Guide-2026-pass",
                                                    is_partner=True)
    token = Token.objects.create(user=partner).key
    script = tmp_path / "partner_example.py"
    script.write_text(guide_python_example())
    out = tmp_path / "result.jpg"
    env = {
        **os.environ,
        "LLS_API": f"{live_stack}/api/v1",
        "LLS_TOKEN": token,
        "LLS_CONCEPT": concept.slug,
        "LLS_PHOTO_A": str(faces_dir() / "obama.jpg"),
        "LLS_PHOTO_B": str(faces_dir() / "grace_hopper.jpg"),
        "LLS_OUT": str(out),
    }
    run = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "created 201" in run.stdout and "event job.done" in run.stdout, run.stdout
    data = out.read_bytes()
    assert data[:2] == b"\xff\xd8" and len(data) > 10_000
