"""The production stack end to end (`make prod-local`): nginx → 2 daphne → PostgreSQL, 2 gpu_workers
on one Redis queue. One job goes in through nginx, its result comes back over a websocket through
nginx, the download is served by nginx from the internal location after the view allowed it, and
both daphne instances served requests.

Marked `prod` (not in the default run): `.venv/bin/python -m pytest -m prod tests/prod`. Uses the stack
when `scripts/prod_local.sh status` says it is up (CI starts it in .ci/run), else starts and stops it.
"""

import json
import re
import shlex
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import faces_dir

pytestmark = pytest.mark.prod

REPO = Path(__file__).resolve().parents[2]
SCRIPT = ["bash", str(REPO / "scripts" / "prod_local.sh")]
PROD_ENV = REPO / "var" / "prod" / "env"
DEMO_EMAIL = "demo@loveloveshot.kr"
DEMO_PASSWORD = "lovelove-demo-2026"
JOB_URL = re.compile(r"/studio/jobs/(?P<id>[0-9a-f-]{36})/$")


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env[key] = shlex.split(value)[0] if value else ""
    return env


@pytest.fixture(scope="module")
def prod():
    started_here = subprocess.run([*SCRIPT, "status"], capture_output=True).returncode != 0
    if started_here:
        subprocess.run([*SCRIPT, "up"], check=True, timeout=600)
    env = read_env(PROD_ENV)
    log_dir = Path(env["PROD_LOG_DIR"])
    yield {
        "url": f"http://127.0.0.1:{env['PROD_HTTP_PORT']}",
        "web_ports": env["PROD_WEB_PORTS"].split(),
        "log_dir": log_dir,
        "redis_url": env["REDIS_URL"],
    }
    if started_here:
        subprocess.run([*SCRIPT, "down"], check=False, timeout=120)


def sign_in(base: str):
    import requests

    s = requests.Session()
    r = s.get(f"{base}/accounts/login/", timeout=10)
    assert r.status_code == 200 and r.headers["Server"].startswith("nginx")
    token = s.cookies["csrftoken"]
    r = s.post(
        f"{base}/accounts/login/",
        data={"login": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302, r.text[:2000]
    assert "sessionid" in s.cookies
    return s


def concept_slug(s, base: str) -> str:
    r = s.get(f"{base}/studio/new/", timeout=10)
    assert r.status_code == 200
    slugs = re.findall(r'name="concept" value="([^"]+)"', r.text)
    assert slugs, "no concept on /studio/new/ (seed_demo ran?)"
    return slugs[0]


def submit_job(s, base: str, slug: str) -> str:
    faces = faces_dir()
    with open(faces / "grace_hopper.jpg", "rb") as a, open(faces / "biden.jpg", "rb") as b:
        r = s.post(
            f"{base}/studio/new/",
            data={
                "concept": slug,
                "consent": "on",
                "partner_consent": "on",
                "csrfmiddlewaretoken": s.cookies["csrftoken"],
            },
            files={"photos_a": ("grace_hopper.jpg", a, "image/jpeg"), "photos_b": ("biden.jpg", b, "image/jpeg")},
            headers={"Referer": f"{base}/studio/new/"},
            allow_redirects=False,
            timeout=60,
        )
    assert r.status_code == 302, r.text[:3000]
    match = JOB_URL.search(r.headers["Location"])
    assert match, r.headers["Location"]
    return match["id"]


def follow_websocket(s, base: str, job_id: str, timeout: float = 120) -> tuple[list[dict], list[dict]]:
    """Frames from /ws/jobs/<id>/ through nginx until the job is done (or failed)."""
    from websockets.sync.client import connect

    cookies = "; ".join(f"{c.name}={c.value}" for c in s.cookies)
    ws_url = base.replace("http://", "ws://") + f"/ws/jobs/{job_id}/"
    frames: list[dict] = []
    deadline = time.monotonic() + timeout
    with connect(ws_url, additional_headers={"Cookie": cookies}, origin=base, open_timeout=10) as ws:
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=deadline - time.monotonic()))
            frames.append(frame)
            status = frame.get("status") if frame["type"] == "state" else frame["type"]
            if status == "done":
                return frames, frame["results"]
            assert status != "failed", frames
    raise AssertionError(f"no result over the websocket within {timeout}s: {frames}")


def test_one_job_through_nginx_two_daphnes_two_workers(prod):
    import redis
    import requests
    from rq import Queue, Worker

    base = prod["url"]
    conn = redis.Redis.from_url(prod["redis_url"])
    workers = Worker.all(queue=Queue("swap", connection=conn))
    assert len(workers) >= 2, [w.name for w in workers]

    s = sign_in(base)
    for _ in range(4):  # plain page views: round-robin spreads them over the daphne instances
        assert s.get(f"{base}/", timeout=10).status_code == 200
    job_id = submit_job(s, base, concept_slug(s, base))
    assert s.get(f"{base}/studio/jobs/{job_id}/", timeout=10).status_code == 200

    frames, results = follow_websocket(s, base, job_id)
    assert results, frames
    first = results[0]

    # Through nginx: the photo itself, streamed by nginx (no X-Accel-Redirect header leaks out).
    r = s.get(base + first["download"], timeout=10)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.content[:2] == b"\xff\xd8" and len(r.content) > 10_000
    assert "X-Accel-Redirect" not in r.headers
    assert "attachment" in r.headers["Content-Disposition"]

    # Straight at daphne: the view answered with the header only, nginx did the rest.
    direct = s.get(f"http://127.0.0.1:{prod['web_ports'][0]}{first['download']}", timeout=10)
    assert direct.status_code == 200
    accel = direct.headers["X-Accel-Redirect"]
    assert accel.startswith("/protected/") and direct.content == b""

    # The internal location is not reachable from outside, nor is anyone else's photo.
    assert s.get(base + accel, timeout=10).status_code == 404
    assert requests.get(base + first["download"], allow_redirects=False, timeout=10).status_code == 302

    # Both daphne instances served requests, the websocket included.
    logs = [(prod["log_dir"] / f"web-{i}.access.log").read_text() for i in range(1, len(prod["web_ports"]) + 1)]
    assert len(logs) >= 2
    for i, log in enumerate(logs, 1):
        assert re.search(r'"(GET|POST) /', log), f"daphne web-{i} served no request:\n{log[-2000:]}"
    assert any("WSCONNECT" in log for log in logs), logs

    # The job ran on one of the prod workers (both listen on the same queue).
    worker_logs = "".join((prod["log_dir"] / f"worker-{i}.log").read_text() for i in (1, 2))
    assert f"job {job_id} done in " in worker_logs  # the worker's one line per job
