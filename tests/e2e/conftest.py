"""The real stack for browser tests: daphne (HTTP + websockets) and a real `manage.py gpu_worker`
process, both on the test database and the test session's redis-server, driven by Debian chromium."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LLS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = REPO / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(port: int, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


class Stack:
    """Child processes sharing the test DB, private storage and redis with the test process."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop_web(self) -> None:
        """Take the web server down (deploy, crash): open websockets drop. Daphne waits for open
        websockets to close on SIGTERM; on a busy machine that can outlast the grace period, and then
        the server is killed (a crash: the same for the page)."""
        self.web.terminate()
        try:
            self.web.wait(10)
        except subprocess.TimeoutExpired:
            self.web.kill()
            self.web.wait(10)

    def start_web(self) -> None:
        self.web = proc = self._spawn(
            "daphne", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port),
                       "loveloveshot.asgi:application"]
        )
        _wait_http(self.port, proc)

    def start_worker(self) -> subprocess.Popen:
        return self._spawn("worker", [sys.executable, "manage.py", "gpu_worker"])

    def start_check_worker(self) -> subprocess.Popen:
        """The light photo-check worker (queue "check": the face checks after submit, no swap engine)."""
        return self._spawn(
            "check-worker", [sys.executable, "manage.py", "gpu_worker", "--queues", "check", "--no-sweep"]
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def stack(transactional_db, settings, _private_media, tmp_path):
    from django.conf import settings as dj

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test",
        "REDIS_URL": dj.REDIS_URL,
        "LLS_VAR_DIR": str(dj.VAR_DIR),
        "LLS_PRIVATE_MEDIA_ROOT": str(_private_media),
        "PYTHONUNBUFFERED": "1",
    }
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    s = Stack(env, log_dir)
    s.start_web()
    s.start_check_worker()  # photo checks run off the request, as in `make run`
    yield s
    s.stop()
    for log in log_dir.glob("*.log"):
        sys.stdout.write(f"--- {log.name} (tail) ---\n{log.read_text(errors='replace')[-3000:]}\n")


class _TestBrowser:
    """Playwright's ``wait_for_function("...")`` evaluates its string in the page, which the site's
    strict CSP (no 'unsafe-eval') refuses: test contexts bypass the CSP unless a test asks for the real
    one with ``bypass_csp=False`` (tests/e2e/test_csp.py checks every page under the policy itself)."""

    def __init__(self, browser):
        self._browser = browser

    def new_context(self, **kwargs):
        kwargs.setdefault("bypass_csp", True)
        return self._browser.new_context(**kwargs)

    def __getattr__(self, name):
        return getattr(self._browser, name)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls are safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield _TestBrowser(b)
        b.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def phone(browser):
    """A phone-sized page (390 px wide), the size most couples arrive with."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    context.close()
