"""Load test: 50 couples at once against the `make run` stack (daphne + one swap worker), on 127.0.0.1.

    .venv/bin/pip install -r requirements/bench.txt
    .venv/bin/python bench/load.py [--profile human|stress] [--users 50] [--duration 150] [--spawn-rate N]

Starts its own throwaway stack exactly like `make run` does (redis-server, migrate, seed_demo, daphne,
one swap `manage.py gpu_worker` + the photo-check worker at nice LLS_WORKER_NICE (10), local settings)
in a temp folder, creates the accounts, waits until both workers have built their models, then runs
locust headless. Each couple signs in, browses, submits one Standard job (two portraits), follows it
over the websocket until the photo is done, and opens the album; a few partner clients poll the REST
API. Profiles (PROFILES below): ``human`` (default) — people arrive over 50 s and read each page for
3-8 s; ``stress`` — the old profile, 5-10x that pace, everyone signs in and submits in the first
seconds. The run is bounded by --duration and stops early once every job has ended. Reports the CPU
each process used (and what other work on the machine used meanwhile) and the submit time split by
whether sign-ins (PBKDF2) were still running. Writes the "load" (human) or "load-stress" section of
BENCHMARKS.md. Only ever talks to 127.0.0.1.
"""

from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import socket  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, events, task  # noqa: E402
from locust import __version__ as locust_version  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACES = Path(os.environ.get("LLS_DEMO_FACES_DIR", ROOT.parent / "shared" / "testdata" / "faces"))
PASSWORD = "Load-test-couple-2026"
PAIRS = [("obama.jpg", "biden.jpg"), ("grace_hopper.jpg", "biden.jpg"), ("biden.jpg", "obama2.jpg")]

WS_EVENTS: list[dict] = []  # {"job": id, "frame": type/status, "t": unix seconds}
SUBMITTED: list[str] = []
SUBMITS: list[tuple[float, float]] = []  # (unix seconds sent, response ms) of every POST /studio/new/
LOGINS: list[float] = []  # unix seconds each sign-in answered
STATE = {"port": 0, "partner_token": "", "next_user": 0}
# name: (people arriving per second, think time after each page in seconds or None, pause between
# rounds, pause between two polls of a partner client)
PROFILES = {
    # People: they arrive over 50 s (not all in the same second), read each page for 3-8 s and take as
    # long to fill in the form; ~0.2 requests/s per person, the pace of someone using the site. The
    # partner clients (one token) poll within their plan's 300 requests/minute.
    "human": (1.0, (3.0, 8.0), (3.0, 8.0), (3.0, 6.0)),
    # The old stress profile: 10 arrivals/s, the pages of a round back to back, 1-3 s between rounds:
    # ~1 request/s per person, 5-10x what people do; every sign-in and submit within the first seconds.
    # The partner clients poll every 1-2 s, over their token's limit (some 429 answers are expected).
    "stress": (10.0, None, (1.0, 3.0), (1.0, 2.0)),
}
PROFILE = {"think": None, "pause": (1.0, 3.0), "poll": (1.0, 2.0)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Couple(HttpUser):
    weight = 9

    def wait_time(self):
        return random.uniform(*PROFILE["pause"])

    def think(self):
        """A person reads the page (human profile); the stress profile goes on at once."""
        if PROFILE["think"]:
            gevent.sleep(random.uniform(*PROFILE["think"]))

    def on_start(self):
        n = STATE["next_user"]
        STATE["next_user"] += 1
        self.email = f"couple{n}@load.test"
        self.pair = PAIRS[n % len(PAIRS)]
        self.submitted = False
        page = self.client.get("/accounts/login/", name="GET /accounts/login/")
        token = self.client.cookies.get("csrftoken") or _csrf(page.text)
        self.client.post("/accounts/login/", {"login": self.email, "password": PASSWORD,
                                              "csrfmiddlewaretoken": token}, name="POST /accounts/login/")
        LOGINS.append(time.time())

    @task
    def visit(self):
        self.client.get("/", name="GET /")
        self.think()
        self.client.get("/concepts/", name="GET /concepts/")
        self.think()
        self.client.get("/concepts/studio-portrait/", name="GET /concepts/<slug>/")
        self.think()
        if not self.submitted:
            self.submitted = True
            self.create_and_follow()
            self.think()
        self.client.get("/album/", name="GET /album/")
        self.think()
        self.client.get("/studio/jobs/", name="GET /studio/jobs/")

    def create_and_follow(self):
        page = self.client.get("/studio/new/?concept=studio-portrait", name="GET /studio/new/")
        token = self.client.cookies.get("csrftoken") or _csrf(page.text)
        files = [("photos_a", (self.pair[0], (FACES / self.pair[0]).read_bytes(), "image/jpeg")),
                 ("photos_b", (self.pair[1], (FACES / self.pair[1]).read_bytes(), "image/jpeg"))]
        self.think()  # choosing two photos and ticking the consent boxes
        sent = time.time()
        response = self.client.post(
            "/studio/new/", data={"concept": "studio-portrait", "consent": "on", "partner_consent": "on",
                                  "csrfmiddlewaretoken": token},
            files=files, allow_redirects=False, name="POST /studio/new/ (2 photos)",
        )
        SUBMITS.append((sent, (time.time() - sent) * 1000))
        match = re.search(r"/studio/jobs/([0-9a-f-]{36})/", response.headers.get("Location", ""))
        if response.status_code != 302 or not match:
            events.request.fire(request_type="JOB", name="submit", response_time=0, response_length=0,
                                exception=RuntimeError(f"submit answered {response.status_code} "
                                                                 f"{response.headers.get('Location', '')}"), context={})
            return
        job_id = match.group(1)
        SUBMITTED.append(job_id)
        self.client.get(f"/studio/jobs/{job_id}/", name="GET /studio/jobs/<id>/")
        self.follow(job_id)

    def follow(self, job_id: str):
        port = STATE["port"]
        cookie = "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())
        started = time.time()
        for attempt in range(4):  # like the job page: reconnect when the socket drops
            if self._follow_once(job_id, port, cookie, started, attempt):
                return

    def _follow_once(self, job_id, port, cookie, started, attempt) -> bool:
        from websockets.sync.client import connect

        try:
            with connect(f"ws://127.0.0.1:{port}/ws/jobs/{job_id}/", open_timeout=10,
                         additional_headers={"Cookie": cookie, "Origin": f"http://127.0.0.1:{port}"}) as ws:
                while time.time() - started < 600:
                    frame = json.loads(ws.recv(timeout=600))
                    now = time.time()
                    kind = frame["type"] if frame["type"] != "status" else f"status:{frame.get('status')}"
                    WS_EVENTS.append({"job": job_id, "frame": kind, "t": now})
                    if frame["type"] == "state" and frame.get("status") in ("done", "failed"):
                        return True
                    if frame["type"] in ("done", "failed"):
                        return True
        except Exception as exc:  # recorded, never hidden; the client reconnects like the browser does
            events.request.fire(request_type="WS", name="/ws/jobs/<id>/ (dropped, reconnecting)",
                                response_time=0, response_length=0, exception=exc, context={})
            gevent.sleep(1 + attempt)
        return False


class Partner(HttpUser):
    weight = 1

    def wait_time(self):
        return random.uniform(*PROFILE["poll"])

    @task
    def poll(self):
        headers = {"Authorization": f"Token {STATE['partner_token']}"}
        self.client.get("/api/v1/concepts/", headers=headers, name="API GET /api/v1/concepts/")
        self.client.get("/api/v1/jobs/", headers=headers, name="API GET /api/v1/jobs/")


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""


def _manage(env, *args, capture=False):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=capture, text=True)


def _db_rows(db: Path) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT public_id, status, queued_at, started_at, finished_at, attempts "
                           "FROM studio_job").fetchall()
    finally:
        con.close()


def _ts(value) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC).timestamp()


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (a worker's job process), from /proc."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for thread in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo += [int(c) for c in (thread / "children").read_text().split()]
            except OSError:
                pass
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and its descendants (Linux /proc)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for p in _descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (everything on the machine, /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--profile", choices=sorted(PROFILES), default="human",
                    help="human: people's pace (writes the 'load' section); stress: the old 5-10x profile "
                         "(writes 'load-stress')")
    ap.add_argument("--spawn-rate", type=float, default=None, help="arrivals per second (default: the profile's)")
    ap.add_argument("--web-processes", type=int, default=2, help="daphne processes (make run: LLS_WEB_PROCESSES, 2)")
    ap.add_argument("--duration", type=int, default=150, help="hard stop, seconds")
    args = ap.parse_args()
    spawn_rate, PROFILE["think"], PROFILE["pause"], PROFILE["poll"] = PROFILES[args.profile]
    spawn_rate = args.spawn_rate or spawn_rate

    from tests.plugins.redis_server import start_redis

    work = Path(tempfile.mkdtemp(prefix="lls-load-"))
    redis_port, web_port = _free_port(), _free_port()
    STATE["port"] = web_port
    redis = start_redis(redis_port, str(work), appendonly=True)
    # like `make run` (scripts/supervise.py): the workers at nice 10 unless LLS_WORKER_NICE says otherwise
    env = {**os.environ, "LLS_WORKER_NICE": os.environ.get("LLS_WORKER_NICE", "").strip() or "10",
           "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "LLS_VAR_DIR": str(work),
           "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.local", "PYTHONUNBUFFERED": "1"}
    procs = []
    try:
        _manage(env, "migrate", "-v0")
        seed = _manage(env, "seed_demo", capture=True).stdout
        STATE["partner_token"] = re.search(r"Partner API token: (\w+)", seed).group(1)
        _manage(env, "shell", "-c", (
            "from accounts.models import User\n"
            f"[User.objects.create_user(email=f'couple{{i}}@load.test', password='{PASSWORD}') "
            f"for i in range({args.users})]"))
        logs = work / "logs"
        logs.mkdir()
        # like `make run`: --web-processes daphne processes sharing one listening socket
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", web_port))
        listener.listen(1024)
        listener.set_inheritable(True)
        names = [f"web (daphne {i + 1} of {args.web_processes})" for i in range(args.web_processes)]
        for i in range(args.web_processes):
            procs.append(subprocess.Popen([sys.executable, "-m", "daphne", "--fd", str(listener.fileno()),
                                           "loveloveshot.asgi:application"], cwd=ROOT, env=env,
                                          pass_fds=(listener.fileno(),),
                                          stdout=open(logs / f"daphne{i + 1}.log", "wb"), stderr=subprocess.STDOUT))
        names += ["swap worker", "photo-check worker"]
        # like `make run` (scripts/supervise.py): one swap worker and the light photo-check worker
        procs.append(subprocess.Popen([sys.executable, "manage.py", "gpu_worker", "--queues", "swap"], cwd=ROOT,
                                      env=env, stdout=open(logs / "worker.log", "wb"), stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen([sys.executable, "manage.py", "gpu_worker", "--queues", "check", "--no-sweep"],
                                      cwd=ROOT, env=env, stdout=open(logs / "check.log", "wb"),
                                      stderr=subprocess.STDOUT))
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", web_port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        # Both workers build their models before they register with rq: start the users only then, so
        # the model warm-up (CPU-heavy, seconds) does not overlap the measured run.
        import redis as redis_client

        rq_redis = redis_client.Redis(port=redis_port)
        while time.time() < deadline + 240 and rq_redis.scard("rq:workers") < 2:
            time.sleep(0.5)
        workers_ready = rq_redis.scard("rq:workers")
        # A running site has served pages before: the web process's first requests (URL conf, templates,
        # translations loaded lazily) are not part of the measurement.
        import urllib.request

        for path in ("/", "/accounts/login/", "/concepts/"):
            urllib.request.urlopen(f"http://127.0.0.1:{web_port}{path}", timeout=60).read()

        environment = Environment(user_classes=[Couple, Partner], events=events, host=f"http://127.0.0.1:{web_port}")
        runner = environment.create_local_runner()
        load_avg = os.getloadavg()
        cpu0 = [_cpu_seconds(p.pid) for p in procs] + [sum(os.times()[:2])]
        busy0 = _machine_busy_seconds()
        print(f"users starting: {workers_ready} workers ready, load average {load_avg[0]:.2f}", flush=True)
        t0 = time.time()
        runner.start(args.users, spawn_rate=spawn_rate)
        db = work / "db.sqlite3"
        while time.time() - t0 < args.duration:
            gevent.sleep(2)
            couples = round(args.users * Couple.weight / (Couple.weight + Partner.weight))
            rows = _db_rows(db)
            if len(SUBMITTED) >= couples and rows and all(r[1] in ("done", "failed") for r in rows):
                break
        wall = time.time() - t0
        cpu1 = [_cpu_seconds(p.pid) for p in procs] + [sum(os.times()[:2])]
        busy1 = _machine_busy_seconds()
        runner.quit()
        rows = _db_rows(db)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        redis.terminate()

    stats = environment.stats
    for err in list(stats.errors.values())[:8]:
        print("ERROR", err.method, err.name, err.occurrences, str(err.error)[:300])
    page_rows, api_rows = [], []
    for (name, _method), entry in sorted(stats.entries.items()):
        if entry.num_requests == 0:
            continue
        row = (f"| {name} | {entry.num_requests} | {entry.num_failures} | "
               f"{entry.get_response_time_percentile(0.5):.0f} | {entry.get_response_time_percentile(0.95):.0f} |")
        (api_rows if name.startswith("API") else page_rows).append(row)
    total = stats.total
    by_id = {str(r[0]).replace("-", ""): r for r in rows}
    enqueue_to_start = [(_ts(r[3]) - _ts(r[2])) for r in rows if r[3] and r[2] and r[1] == "done"]
    run_times = [(_ts(r[4]) - _ts(r[3])) for r in rows if r[4] and r[3] and r[1] == "done"]
    frame_lat = []
    for ev in WS_EVENTS:
        row = by_id.get(ev["job"].replace("-", ""))
        if not row:
            continue
        ref = {"status:running": _ts(row[3]), "done": _ts(row[4])}.get(ev["frame"])
        if ref:
            frame_lat.append((ev["t"] - ref) * 1000)
    done = sum(1 for r in rows if r[1] == "done")
    failed = sum(1 for r in rows if r[1] == "failed")
    starts = [_ts(r[3]) for r in rows if r[3]]
    ends = [_ts(r[4]) for r in rows if r[4]]
    busy = sum(run_times)
    span = (max(ends) - min(starts)) if starts and ends else 0.0
    nan = float("nan")
    utilisation = 100 * busy / span if span else nan
    per_job = statistics.median(run_times) if run_times else nan
    e2s = (_pct(enqueue_to_start, 50), _pct(enqueue_to_start, 95), max(enqueue_to_start or [nan]))
    drops = sum(e.num_failures for e in stats.entries.values() if e.method == "WS")
    submit_errors = sum(e.num_failures for e in stats.entries.values() if e.method == "JOB")
    all_http = (f"| **all HTTP** | {total.num_requests} | {total.num_failures} | "
                f"{total.get_response_time_percentile(0.5):.0f} | {total.get_response_time_percentile(0.95):.0f} |")
    frames = f"{_pct(frame_lat, 50):.0f} / {_pct(frame_lat, 95):.0f} ms (n={len(frame_lat)})"
    command = (f"`.venv/bin/python bench/load.py --profile {args.profile} --users {args.users} "
               f"--duration {args.duration} --web-processes {args.web_processes}`")
    cores = os.cpu_count() or 1
    ours = sum(b - a for a, b in zip(cpu0, cpu1, strict=True))
    cpu_rows = "\n".join(
        f"| {name} | {b - a:.0f} s | {100 * (b - a) / wall / cores:.0f} % |"
        for name, a, b in [*zip([*names, "locust (the users, same machine)"], cpu0, cpu1, strict=True),
                           ("everything else on the machine (other work)", 0.0, max(0.0, busy1 - busy0 - ours))])
    nice = env["LLS_WORKER_NICE"]
    submit_ms = [ms for _, ms in SUBMITS]
    submit_p95 = _pct(submit_ms, 95)
    think = PROFILE["think"]
    pace = (f"{spawn_rate:g} arrivals/s, {think[0]:g}-{think[1]:g} s reading each page and filling in the form, "
            f"{PROFILE['pause'][0]:g}-{PROFILE['pause'][1]:g} s between rounds" if think else
            f"{spawn_rate:g} arrivals/s, pages of a round back to back, "
            f"{PROFILE['pause'][0]:g}-{PROFILE['pause'][1]:g} s between rounds")
    poll = f"{PROFILE['poll'][0]:g}-{PROFILE['poll'][1]:g} s"
    verdict = ("**met**" if submit_p95 < 300 else "**not met**") + f" (p95 {submit_p95:.0f} ms of {len(submit_ms)})"
    last_login = max(LOGINS) if LOGINS else 0.0
    during = [ms for sent, ms in SUBMITS if sent <= last_login]
    after = [ms for sent, ms in SUBMITS if sent > last_login]

    def _split(values):
        return f"{len(values)} | {_pct(values, 50):.0f} | {_pct(values, 95):.0f}" if values else "0 | – | –"
    title = "people at their own pace" if args.profile == "human" else "users, stress profile (5-10x people's pace)"
    body = f"""## Load: {args.users} {title}, one worker (`make run` stack, CPU)

Command: {command} (locust {locust_version}, headless, 127.0.0.1 only; {Couple.weight}:{Partner.weight}
couples to partner API clients (one token) polling every {poll}; {pace}). The `make run` stack on this
{cores}-core machine: {args.web_processes} daphne process(es) on one socket, one swap `manage.py gpu_worker`
and the photo-check worker (workers at nice {nice}), local
settings, SQLite; locust runs on the same cores. Wall time {wall:.0f} s. Load average when the users
started: {load_avg[0]:.2f} (1 min) / {load_avg[1]:.2f} (5 min); both workers had built their models
({workers_ready} registered) first.

Issue 14's target, `POST /studio/new/` p95 < 300 ms: {verdict}.

| requests | count | failures | p50 ms | p95 ms |
|---|---|---|---|---|
{chr(10).join(page_rows)}
{chr(10).join(api_rows)}
{all_http}

| job pipeline | value |
|---|---|
| jobs submitted / completed / failed | {len(SUBMITTED)} / {done} / {failed} |
| submit errors | {submit_errors} |
| enqueue → start, p50 / p95 / max | {e2s[0]:.1f} / {e2s[1]:.1f} / {e2s[2]:.1f} s |
| worker time per job, median | {per_job:.2f} s |
| state change → websocket frame at the client, p50 / p95 | {frames} |
| websocket drops (client reconnected, as the job page does) | {drops} |
| worker utilisation (busy / first start → last end) | {busy:.0f} s / {span:.0f} s = {utilisation:.0f} % |

| `POST /studio/new/` (2 photos), by when it was sent | count | p50 ms | p95 ms |
|---|---|---|---|
| while others were still signing in (PBKDF2) | {_split(during)} |
| after the last sign-in | {_split(after)} |
| all | {_split([ms for _, ms in SUBMITS])} |

| CPU used during the run | CPU time | share of {cores} cores |
|---|---|---|
{cpu_rows}

One CPU worker drains about {60 / per_job:.0f} jobs/min, so the last couples wait for everyone who
submitted before them (enqueue → start above).
"""
    from bench._markdown import write_section

    write_section("load" if args.profile == "human" else "load-stress", body)
    print(body)
    return 0 if total.num_failures == 0 and done == len(SUBMITTED) else 1


if __name__ == "__main__":
    raise SystemExit(main())
