"""Start a real redis-server for the test session on a free port, before Django reads its settings.

Loaded with ``-p tests.plugins.redis_server`` (see pyproject.toml) so REDIS_URL is set before
pytest-django imports loveloveshot.settings.test."""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

_proc: subprocess.Popen | None = None
_dir: str | None = None
_port: int | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int, workdir: str, appendonly: bool = False) -> subprocess.Popen:
    exe = shutil.which("redis-server")
    if exe is None:
        raise pytest.UsageError("redis-server is not installed: apt-get install -y redis-server (see .ci/run)")
    args = [exe, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir, "--save", ""]
    args += ["--appendonly", "yes" if appendonly else "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("redis-server did not start")


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    global _proc, _dir
    if os.environ.get("LLS_TEST_REDIS_URL"):
        os.environ["REDIS_URL"] = os.environ["LLS_TEST_REDIS_URL"]
        return
    global _port
    _dir = tempfile.mkdtemp(prefix="lls-redis-")
    _port = _free_port()
    # appendonly like production, so tests can restart Redis and find the queue intact
    _proc = start_redis(_port, _dir, appendonly=True)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{_port}/0"
    os.environ.setdefault("LLS_VAR_DIR", tempfile.mkdtemp(prefix="lls-var-"))


def pytest_unconfigure(config):
    global _proc
    if _proc is not None:
        _proc.terminate()
        try:
            _proc.wait(5)
        except subprocess.TimeoutExpired:
            _proc.kill()
        _proc = None
    if _dir:
        shutil.rmtree(_dir, ignore_errors=True)


class SessionRedis:
    """Stop and start the test session's redis-server (same port, same data dir) for fault tests."""

    def stop(self) -> None:
        global _proc
        if _proc is None:
            raise RuntimeError("this session does not own its redis-server (LLS_TEST_REDIS_URL is set)")
        _proc.terminate()  # SIGTERM: redis flushes its append-only file before exiting
        _proc.wait(10)
        _proc = None

    def start(self) -> None:
        global _proc
        if _proc is None:
            _proc = start_redis(_port, _dir, appendonly=True)


@pytest.fixture
def session_redis():
    server = SessionRedis()
    yield server
    server.start()  # never leave the rest of the session without Redis
