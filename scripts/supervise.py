"""`make run`'s supervisor (started by scripts/run_local.sh with the venv's Python; stdlib only).

1. Redis: uses the one answering on REDIS_PORT, or starts a private redis-server (data in var/redis,
   appendonly) and stops it again on the way out.
2. migrate + seed_demo (demo accounts and the in-repo demo scenes).
3. Starts the workers (worker_commands() below; the gpu_workers at `nice` LLS_WORKER_NICE, default 10, so the
   web wins the CPU on this one machine) and the web server (LLS_WEB_PROCESSES daphne processes, default 2,
   sharing one listening socket on 127.0.0.1:PORT), prints the URL
   and the demo login once the home page answers, and restarts any of them that exits, with backoff
   (1, 2, 4 ... 30 s; back to 1 s after a run of a minute or more).
4. Ctrl-C / SIGTERM (also SIGTERM to `make` alone, through PR_SET_PDEATHSIG): stops the web server and
   the workers (SIGTERM, then SIGKILL of their whole process group after STOP_GRACE seconds), then the
   redis-server it started. Nothing it started is left running.

Logs in var/log/: one per worker (worker.log, check-worker.log, webhooks-worker.log), web.log (also on
this terminal, where the local settings print mail), access.log, redis.log, seed.log. Known native noise
from MediaPipe / TensorFlow Lite (INFO/WARNING lines its C++ code writes straight to stderr) is dropped.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.chdir(REPO)
sys.path.insert(0, str(REPO))

PY = sys.executable
# Each child gets SIGTERM if this supervisor dies, even by SIGKILL (util-linux's setpriv, Debian essential).
DIE_WITH_US = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
PORT = int(os.environ.get("PORT", "8000"))
REDIS_PORT = int(os.environ.get("REDIS_PORT", "6379"))
VAR = REPO / "var"
LOG = VAR / "log"
STOP_GRACE = float(os.environ.get("LLS_STOP_GRACE_SECONDS", "20"))
SWAP_WORKERS = int(os.environ.get("LLS_SWAP_WORKERS", "1"))
# Web processes sharing one listening socket (the kernel hands each connection to one of them); the
# channel layer, cache, sessions and throttles live in Redis/the DB, so any process serves any request.
WEB_PROCESSES = max(1, int(os.environ.get("LLS_WEB_PROCESSES", "2")))


def worker_nice() -> str:
    """The workers' CPU priority (gpu_worker reads LLS_WORKER_NICE): 10 unless set, so on this one machine
    a swap or a photo check does not slow pages and submits down. LLS_WORKER_NICE=0 to compare."""
    return os.environ.get("LLS_WORKER_NICE", "").strip() or "10"


# Native lines (MediaPipe / TensorFlow Lite / absl) that ignore TF_CPP_MIN_LOG_LEVEL and GLOG_minloglevel.
# Native ERROR/FATAL lines ("E1201 ...", "F1201 ...") always pass.
NOISE = re.compile(
    r"^(INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:. ]+\d+ [\w./-]+\.cc:\d+\] .*"
    r"|Matplotlib is building the font cache; this may take a moment\."
    r"|HTTP/2 support not enabled \(install the http2 and tls Twisted extras\)"
    r"|generated new fontManager)\s*$"
)


def manage(*args: str) -> list[str]:
    return [PY, str(REPO / "manage.py"), *args]  # absolute: `pgrep -f <clone folder>` finds every process


def worker_commands() -> list[tuple[str, list[str]]]:
    """(name, command) of every worker process `make run` keeps alive. Add workers here."""
    workers = [
        (f"worker{i + 1}" if SWAP_WORKERS > 1 else "worker", manage("gpu_worker", "--queues", "swap"))
        for i in range(SWAP_WORKERS)
    ]
    # The light photo-check queue (gpu_worker/checks.py), when the settings define it: its own worker,
    # so checks never wait behind swaps. The swap worker already sweeps abandoned jobs.
    queues = rq_queues()
    if "check" in queues:
        workers.append(("check-worker", manage("gpu_worker", "--queues", "check", "--no-sweep")))
    # Partner webhooks (partners/): django-rq's worker; their retries need rq's scheduler.
    if "webhooks" in queues:
        workers.append(("webhooks-worker", manage("rqworker", "webhooks", "--with-scheduler")))
    return workers


def rq_queues() -> set[str]:
    code = "from django.conf import settings; print(' '.join(settings.RQ_QUEUES))"
    out = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True, env=os.environ)
    return set(out.stdout.split())


def say(msg: str) -> None:
    print(f"[make run] {msg}", flush=True)


# --- processes ---------------------------------------------------------------------------------


@dataclass
class Child:
    name: str
    cmd: list[str]
    log: Path
    echo: bool = False  # also copy its output to this terminal
    proc: subprocess.Popen | None = None
    started: float = 0.0
    restarts: int = 0
    backoff: float = 0.5
    restart_at: float | None = None
    threads: list[threading.Thread] = field(default_factory=list)
    old_groups: list[int] = field(default_factory=list)  # groups of earlier runs (leftover job processes)
    pass_fds: tuple[int, ...] = ()  # descriptors it inherits (the web processes' listening socket)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*DIE_WITH_US, *self.cmd],
            pass_fds=self.pass_fds,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: Ctrl-C reaches it only through us
            env=os.environ,
        )
        self.started = time.monotonic()
        t = threading.Thread(target=pump, args=(self.proc.stdout, self.log, self.echo), daemon=True)
        t.start()
        self.threads.append(t)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, sig: int) -> None:
        for pgid in [*self.old_groups, *([self.proc.pid] if self.proc is not None else [])]:
            try:
                os.killpg(pgid, sig)
            except (ProcessLookupError, PermissionError):
                pass

    def exited(self) -> None:
        """It exited: what it started may still run (e.g. a worker's job process); ask it to finish."""
        self.signal_group(signal.SIGTERM)
        self.old_groups.append(self.proc.pid)

    def stop(self, deadline: float) -> None:
        """SIGTERM to its group; SIGKILL to the group after the deadline; reap."""
        if self.proc is None:
            return
        self.signal_group(signal.SIGTERM)
        while self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        # Also whatever it started (rq job process, ...) and may have left behind.
        self.signal_group(signal.SIGKILL)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for t in self.threads:
            t.join(timeout=2)


def pump(stream, log_path: Path, echo: bool) -> None:
    with open(log_path, "a", encoding="utf-8", errors="replace") as log:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace")
            if NOISE.match(line):
                continue
            log.write(line)
            log.flush()
            if echo:
                sys.stdout.write(line)
                sys.stdout.flush()


def run_step(name: str, cmd: list[str], log_path: Path, echo: bool = True) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=os.environ)
    pump(proc.stdout, log_path, echo)
    if proc.wait() != 0:
        raise SystemExit(f"[make run] {name} failed (exit {proc.returncode}); see {log_path.relative_to(REPO)}")


# --- redis ---------------------------------------------------------------------------------------


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def web_socket() -> socket.socket:
    """The listening socket on 127.0.0.1:PORT that every web process inherits (daphne --fd)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", PORT))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def start_redis() -> Child | None:
    if redis_answers(REDIS_PORT):
        say(f"Using the Redis already running on 127.0.0.1:{REDIS_PORT}")
        return None
    if not port_free(REDIS_PORT):
        raise SystemExit(f"[make run] Port {REDIS_PORT} is taken by something that is not Redis: "
                         f"set REDIS_PORT to a free port.")
    (VAR / "redis").mkdir(parents=True, exist_ok=True)
    say(f"Starting redis-server on 127.0.0.1:{REDIS_PORT} (appendonly, data in var/redis)")
    redis = Child("redis", ["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1",
                            "--dir", str(VAR / "redis"), "--appendonly", "yes", "--save", ""],
                  LOG / "redis.log")
    redis.start()
    deadline = time.monotonic() + 30
    while not redis_answers(REDIS_PORT):
        if not redis.alive() or time.monotonic() > deadline:
            redis.stop(time.monotonic() + 5)
            raise SystemExit("[make run] redis-server did not start; see var/log/redis.log")
        time.sleep(0.1)
    return redis


# --- main ----------------------------------------------------------------------------------------


def tend(child: Child, now: float) -> None:
    """Restart ``child`` if it exited: after 1 s, then 2, 4 ... 30 s while it keeps exiting within a minute."""
    if child.alive():
        return
    if child.restart_at is None:  # it just exited: schedule the restart
        child.exited()
        ran = now - child.started
        child.backoff = 1.0 if ran >= 60 else min(child.backoff * 2, 30.0)
        child.restart_at = now + child.backoff
        say(f"{child.name} exited (code {child.proc.returncode}) after {ran:.0f} s; "
            f"restarting in {child.backoff:.0f} s (log: {child.log.relative_to(REPO)})")
    elif now >= child.restart_at:
        child.restart_at = None
        child.restarts += 1
        child.start()


def home_answers() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


BANNER = """
  LoveLoveShot is running:  http://127.0.0.1:{port}/
  Demo login:               demo@loveloveshot.kr / lovelove-demo-2026   (Standard plan)
  Premium / admin logins:   premium@loveloveshot.kr, admin@loveloveshot.kr (same password)
  Admin:                    http://127.0.0.1:{port}/admin/      API docs: http://127.0.0.1:{port}/api/docs/
  Logs:                     var/log/ (worker.log, web.log); mail is printed here.   Stop with Ctrl-C.
"""


def die_with_parent() -> None:
    """SIGTERM when our parent (make's shell) dies, e.g. `kill <make pid>`: then we stop everything too."""
    parent = os.getppid()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux/glibc: Ctrl-C and SIGTERM still work
        return
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)


def main() -> int:
    LOG.mkdir(parents=True, exist_ok=True)
    os.environ["LLS_WORKER_NICE"] = worker_nice()  # every child gets it (only the workers read it)
    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    die_with_parent()

    if not port_free(PORT):
        say(f"Port {PORT} is in use: run with PORT=<free port> (and REDIS_PORT if 6379 is taken too).")
        return 1

    redis = None
    children: list[Child] = []
    try:
        redis = start_redis()
        run_step("migrate", manage("migrate", "--noinput", "-v", "1"), LOG / "migrate.log", echo=False)
        say("Database ready (var/db.sqlite3); loading demo data ...")
        run_step("seed_demo", manage("seed_demo"), LOG / "seed.log")
        if stop.is_set():  # Ctrl-C while preparing
            return 130
        for name, cmd in worker_commands():
            children.append(Child(name, cmd, LOG / f"{name}.log"))
        listener = web_socket()
        for i in range(WEB_PROCESSES):
            children.append(Child("web" if i == 0 else f"web{i + 1}",
                                  [PY, "-m", "daphne", "--fd", str(listener.fileno()),
                                   "--access-log", str(LOG / "access.log"), "loveloveshot.asgi:application"],
                                  LOG / "web.log", echo=True, pass_fds=(listener.fileno(),)))
        for child in children:
            say(f"Starting {child.name}: {' '.join(child.cmd[1:])}  (log: {child.log.relative_to(REPO)})")
            child.start()

        announced = False
        while not stop.is_set():
            now = time.monotonic()
            if not announced and home_answers():
                print(BANNER.format(port=PORT), flush=True)
                announced = True
            for child in [*children, *([redis] if redis is not None else [])]:
                tend(child, now)
            stop.wait(0.5)
        say("Stopping ...")
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        deadline = time.monotonic() + STOP_GRACE
        for child in reversed(children):  # web first, then the workers
            if child.alive():
                child.signal_group(signal.SIGTERM)
        for child in reversed(children):
            child.stop(deadline)
        if redis is not None:
            redis.stop(time.monotonic() + 15)
            say(f"Stopped redis-server on port {REDIS_PORT}")
        if children:
            say("Everything make run started is stopped.")


if __name__ == "__main__":
    raise SystemExit(main())
