"""The README's `make run` from a fresh clone (issue 12), as CI runs it (.ci/run):

`git clone` of this repository into a temporary folder outside the checkout, `make run` there on free
ports (PORT, REDIS_PORT) with an environment that names nothing of the checkout (HOME is an empty
folder), wait until the home page answers, sign in with the demo login, run one job to the end
through the site (two test portraits from this checkout's ../shared/testdata: the clone itself never
sees them), ask for a password reset and find the mail with its link in `make run`'s output (local
settings print mail), then Ctrl-C (SIGINT to the process group, as a terminal does) and check that no
process of the clone is left and its redis-server is gone.

Marked `fresh_clone`, deselected by default: `.venv/bin/python -m pytest -m fresh_clone tests/ops`.
The clone reuses this venv (`make run VENV=...`, LLS_FRESH_CLONE_VENV to choose another) so CI does
not install everything twice; a clone with its own new venv was measured by hand (README, BENCHMARKS.md).
LLS_FRESH_CLONE_WORKTREE=1 copies the working tree (tracked + untracked, not ignored) instead of
cloning HEAD, to try uncommitted changes; LLS_FRESH_CLONE_KEEP=1 keeps the temporary folder.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import faces_dir

pytestmark = [pytest.mark.fresh_clone, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
DEMO_EMAIL = "demo@loveloveshot.kr"
DEMO_PASSWORD = "lovelove-demo-2026"
JOB_URL = re.compile(r"/studio/jobs/(?P<id>[0-9a-f-]{36})/")
START_TIMEOUT = 900  # seconds: a cold machine may have to install packages first
JOB_TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    import requests

    try:
        return requests.get(url, timeout=3).status_code == 200
    except requests.RequestException:
        return False


def clone_processes(clone: Path) -> list[str]:
    """Processes whose command line names the clone (`pgrep -f`) or whose working folder is in it."""
    out = subprocess.run(["pgrep", "-af", str(clone)], capture_output=True, text=True)
    found = {int(line.split()[0]): line for line in out.stdout.splitlines() if line.strip()}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and int(proc.name) not in found:
            try:
                if Path(os.readlink(proc / "cwd")).is_relative_to(clone):
                    found[int(proc.name)] = f"{proc.name} (cwd in the clone) " + (proc / "cmdline").read_bytes(
                    ).replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                pass
    found.pop(os.getpid(), None)
    return sorted(found.values())


def worker_pids(clone: Path) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"{clone}/manage.py gpu_worker --queues swap"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def make_clone(tmp: Path) -> Path:
    clone = tmp / "clone"
    if os.environ.get("LLS_FRESH_CLONE_WORKTREE"):
        files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                               capture_output=True, check=True).stdout.split(b"\0")
        for name in filter(None, files):
            src = REPO / name.decode()
            if src.is_file():
                (clone / name.decode()).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, clone / name.decode())
    else:
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=300)
    return clone


@pytest.fixture
def running_clone():
    tmp = Path(tempfile.mkdtemp(prefix="lls-fresh-clone-"))
    assert not tmp.resolve().is_relative_to(REPO.resolve())
    clone = make_clone(tmp)
    home = tmp / "home"
    home.mkdir()
    venv = Path(os.environ.get("LLS_FRESH_CLONE_VENV") or sys.prefix)
    port, redis_port = free_port(), free_port()
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "LANG", "LC_ALL", "TMPDIR"} or k.startswith("PIP_")}
    env = {**keep, "HOME": str(home), "PORT": str(port), "REDIS_PORT": str(redis_port)}
    log_path = tmp / "make-run.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(["make", "run", f"VENV={venv}"], cwd=clone, env=env, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    run = {"clone": clone, "proc": proc, "base": f"http://127.0.0.1:{port}", "redis_port": redis_port,
           "log": log_path, "stopped": False}
    try:
        yield run
    finally:
        if proc.poll() is None:  # the test failed before its own clean stop: let make run clean up
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while (left := clone_processes(clone)) and time.monotonic() < deadline:
            for line in left:
                try:
                    os.kill(int(line.split()[0]), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        log.close()
        if run["stopped"] and not os.environ.get("LLS_FRESH_CLONE_KEEP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"make run output kept in {log_path}")


def output(run) -> str:
    return run["log"].read_text(errors="replace")


def wait_for_home(run) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if run["proc"].poll() is not None:
            raise AssertionError(f"make run exited with {run['proc'].returncode}:\n{output(run)[-4000:]}")
        if "LoveLoveShot is running:" in output(run) and answers(run["base"] + "/"):
            return
        time.sleep(1)
    raise AssertionError(f"home page did not answer within {START_TIMEOUT}s:\n{output(run)[-4000:]}")


def sign_in(base: str):
    import requests

    s = requests.Session()
    r = s.get(f"{base}/accounts/login/", timeout=30)
    assert r.status_code == 200
    r = s.post(f"{base}/accounts/login/",
               data={"login": DEMO_EMAIL, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": s.cookies["csrftoken"]},
               headers={"Referer": f"{base}/accounts/login/"}, allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:2000]
    assert "sessionid" in s.cookies
    return s


def run_one_job(s, base: str) -> dict:
    r = s.get(f"{base}/studio/new/", timeout=30)
    assert r.status_code == 200
    slugs = re.findall(r'name="concept"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="concept"', r.text)
    slugs = [a or b for a, b in slugs]
    assert slugs, "no concept on /studio/new/ (did seed_demo run?)"
    faces = faces_dir()
    with open(faces / "grace_hopper.jpg", "rb") as a, open(faces / "biden.jpg", "rb") as b:
        r = s.post(
            f"{base}/studio/new/",
            data={"concept": slugs[0], "consent": "on", "partner_consent": "on",
                  "csrfmiddlewaretoken": s.cookies["csrftoken"]},
            files={"photos_a": ("grace_hopper.jpg", a, "image/jpeg"), "photos_b": ("biden.jpg", b, "image/jpeg")},
            headers={"Referer": f"{base}/studio/new/"},
            timeout=120,
        )  # follows redirects: straight to the job page, or through a photo-check step first
    assert r.status_code == 200, r.text[:3000]
    ids = [m["id"] for resp in [*r.history, r] for m in [JOB_URL.search(resp.headers.get("Location", "") or resp.url)]
           if m]
    assert ids, f"no job page after submitting: {r.url}\n{r.text[:2000]}"
    job_id = ids[-1]
    deadline = time.monotonic() + JOB_TIMEOUT
    seen = []
    while time.monotonic() < deadline:
        state = s.get(f"{base}/studio/jobs/{job_id}/status.json", timeout=30).json()
        if not seen or seen[-1] != state["status"]:
            seen.append(state["status"])
        if state["status"] in {"done", "failed", "cancelled"}:
            return {**state, "seen": seen}
        time.sleep(1)
    raise AssertionError(f"job {job_id} not finished within {JOB_TIMEOUT}s: statuses {seen}")


def password_reset_mail(s, base: str, run) -> str:
    r = s.get(f"{base}/accounts/password/reset/", timeout=30)
    assert r.status_code == 200
    r = s.post(f"{base}/accounts/password/reset/",
               data={"email": DEMO_EMAIL, "csrfmiddlewaretoken": s.cookies["csrftoken"]},
               headers={"Referer": f"{base}/accounts/password/reset/"}, allow_redirects=False, timeout=30)
    assert r.status_code == 302, r.text[:2000]
    link = re.compile(re.escape(base) + r"/accounts/password/reset/key/\S+/")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = link.findall(output(run))
        if found:
            return found[-1]
        time.sleep(0.5)
    raise AssertionError(f"no reset mail in make run's output:\n{output(run)[-3000:]}")


def test_make_run_from_a_fresh_clone(running_clone):
    run = running_clone
    base = run["base"]
    wait_for_home(run)
    text = output(run)
    assert base + "/" in text and DEMO_EMAIL in text and DEMO_PASSWORD in text  # URL + demo login printed
    assert redis_answers(run["redis_port"])  # its own private redis-server

    # The worker dies (OOM kill, crash): make run starts a new one, and the job below still runs.
    deadline = time.monotonic() + 60
    while len(worker_pids(run["clone"])) != 1 and time.monotonic() < deadline:
        time.sleep(0.5)
    (first,) = worker_pids(run["clone"])
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and [p for p in worker_pids(run["clone"]) if p != first] == []:
        time.sleep(0.5)
    assert [p for p in worker_pids(run["clone"]) if p != first], output(run)[-3000:]
    assert "worker exited" in output(run)

    s = sign_in(base)
    state = run_one_job(s, base)
    assert state["status"] == "done", state
    assert state["results"], state
    image = s.get(base + state["results"][0]["url"], timeout=30)
    assert image.status_code == 200 and image.headers["Content-Type"].startswith("image/")
    assert len(image.content) > 10_000

    link = password_reset_mail(s, base, run)
    assert s.get(link, timeout=30).status_code == 200  # the mail's link opens the set-password page

    assert answers(base + "/api/docs/")

    # Ctrl-C: SIGINT to the whole foreground group, as a terminal does.
    os.killpg(run["proc"].pid, signal.SIGINT)
    try:
        run["proc"].wait(timeout=120)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"make run still running 120 s after Ctrl-C:\n{output(run)[-3000:]}") from None
    deadline = time.monotonic() + 20
    while clone_processes(run["clone"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert clone_processes(run["clone"]) == []
    assert not redis_answers(run["redis_port"])
    assert "Everything make run started is stopped." in output(run)
    # Nothing noisy from native libraries in the worker log: one line per job in normal operation.
    logs = {name: (run["clone"] / "var" / "log" / name).read_text() for name in ("worker.log", "seed.log")}
    logs["make run"] = output(run)
    for name, text in logs.items():
        assert "TensorFlow Lite" not in text and "absl::InitializeLog" not in text, (name, text[-3000:])
    job_lines = [line for line in logs["worker.log"].splitlines() if state["id"] in line]
    assert len(job_lines) == 1, logs["worker.log"]  # normal operation: one line per job
    run["stopped"] = True
