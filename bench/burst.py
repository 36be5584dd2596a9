"""Burst: 50 submissions within 5 s against the `make run` stack, from many accounts (the web form) and
one partner token (the REST API), on 127.0.0.1 only.

    .venv/bin/python bench/burst.py                  # starts its own throwaway stack (like `make run`)
    .venv/bin/python bench/burst.py --url http://127.0.0.1:8000 --partner-token KEY --password PW \
        --emails a@x,b@x                             # or aims at a running one

Its own stack: redis-server, migrate, seed_demo, N accounts, daphne with local settings (SQLite in a
temp folder, WAL), no swap worker (the burst is about the submit path; jobs stay queued). It reports
the status-code counts, every 5xx, and whether every refusal was a 429 with Retry-After and a sentence;
it also samples the web process's memory (RSS) before, during and after the burst (issue 13 item 17).
Exit status 1 when any 5xx or any refusal without Retry-After was seen. Writes the "burst" section of
BENCHMARKS.md (with --write).
"""

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACES = Path(os.environ.get("LLS_DEMO_FACES_DIR", ROOT.parent / "shared" / "testdata" / "faces"))
PASSWORD = "Burst-test-couple-2026"
PAIRS = [("obama.jpg", "biden.jpg"), ("grace_hopper.jpg", "biden.jpg"), ("biden.jpg", "obama2.jpg")]
CONCEPT = ""  # the first published concept, read from /api/v1/concepts/ at start


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _manage(env, *args, capture=False):
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                          capture_output=capture, text=True)


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    return match.group(1) if match else ""


class Outcome:
    def __init__(self):
        self.lock = threading.Lock()
        self.rows: list[dict] = []

    def add(self, **row) -> None:
        with self.lock:
            self.rows.append(row)


def _sentence(response) -> str:
    if response.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
        try:
            data = response.json()
        except ValueError:
            return ""
        return str(data.get("detail") or data.get("title") or "")
    text = re.sub(r"<[^>]+>", " ", response.text)
    for needle in ("기다려", "분 뒤", "try again", "wait"):
        if needle in text:
            return needle
    return ""


def _photos(i: int):
    a, b = PAIRS[i % len(PAIRS)]
    return (FACES / a).read_bytes(), (FACES / b).read_bytes(), a, b


def form_submit(session: requests.Session, base: str, i: int, out: Outcome, at: float) -> None:
    a_bytes, b_bytes, a, b = _photos(i)
    token = session.cookies.get("csrftoken", "")
    time.sleep(max(0.0, at - time.time()))
    t = time.time()
    try:
        r = session.post(
            f"{base}/studio/new/",
            data={"concept": CONCEPT, "consent": "on", "partner_consent": "on", "csrfmiddlewaretoken": token},
            files={"photos_a": (a, a_bytes, "image/jpeg"), "photos_b": (b, b_bytes, "image/jpeg")},
            headers={"Referer": f"{base}/studio/new/"},
            allow_redirects=False,
            timeout=120,
        )
        out.add(kind="form", status=r.status_code, retry_after=r.headers.get("Retry-After"), sentence=_sentence(r),
                ms=(time.time() - t) * 1000, body=r.text[:300] if r.status_code == 400 else "")
    except requests.RequestException as exc:
        out.add(kind="form", status=f"error {type(exc).__name__}", retry_after=None, sentence="", ms=0)


def api_submit(base: str, token: str, i: int, out: Outcome, at: float) -> None:
    a_bytes, b_bytes, a, b = _photos(i)
    time.sleep(max(0.0, at - time.time()))
    t = time.time()
    try:
        r = requests.post(
            f"{base}/api/v1/jobs/",
            data={"concept": CONCEPT, "consent": "true"},
            files={"photos_a": (a, a_bytes, "image/jpeg"), "photos_b": (b, b_bytes, "image/jpeg")},
            headers={"Authorization": f"Token {token}"},
            timeout=120,
        )
        out.add(kind="api", status=r.status_code, retry_after=r.headers.get("Retry-After"), sentence=_sentence(r),
                ms=(time.time() - t) * 1000, body=r.text[:300] if r.status_code == 400 else "")
    except requests.RequestException as exc:
        out.add(kind="api", status=f"error {type(exc).__name__}", retry_after=None, sentence="", ms=0)


def login(base: str, email: str, password: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/accounts/login/", timeout=30)
    r = s.post(f"{base}/accounts/login/", data={"login": email, "password": password,
                                                "csrfmiddlewaretoken": _csrf(page.text)},
               headers={"Referer": f"{base}/accounts/login/"}, allow_redirects=False, timeout=30)
    if r.status_code != 302:
        raise SystemExit(f"login failed for {email}: {r.status_code}")
    s.get(f"{base}/studio/new/", timeout=30)  # csrftoken cookie for the form
    return s


class RssSampler(threading.Thread):
    def __init__(self, pid: int | None):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()

    def rss(self) -> float:
        if not self.pid:
            return float("nan")
        import psutil

        try:
            return psutil.Process(self.pid).memory_info().rss / 2**20
        except psutil.Error:
            return float("nan")

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.samples.append(self.rss())


def burst(base: str, sessions: list[requests.Session], token: str, n_form: int, n_api: int, seconds: float,
          out: Outcome) -> float:
    total = n_form + n_api
    t0 = time.time() + 1.0
    kinds = ["form"] * n_form + ["api"] * n_api
    # interleave form and API submissions evenly over the window
    order = sorted(range(total), key=lambda k: (k * 7919) % total)
    threads = []
    for slot, k in enumerate(order):
        at = t0 + slot * seconds / total
        if kinds[k] == "form":
            session = sessions[k % len(sessions)]
            threads.append(threading.Thread(target=form_submit, args=(session, base, k, out, at)))
        else:
            threads.append(threading.Thread(target=api_submit, args=(base, token, k, out, at)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.time() - t0


def report(out: Outcome, wall: float, rss: dict, args) -> tuple[str, bool]:
    counts = Counter((r["kind"], r["status"]) for r in out.rows)
    five = [r for r in out.rows if not isinstance(r["status"], int) or r["status"] >= 500]
    refusals = [r for r in out.rows if isinstance(r["status"], int) and r["status"] in (400, 403, 409, 413, 429, 503)]
    quota = [r for r in out.rows if r["status"] == 429]
    bad_refusals = [r for r in quota if not r["retry_after"] or not r["sentence"]]
    ok = not five and not bad_refusals and all(r["status"] in (201, 202, 302, 429) for r in out.rows)
    lines = "\n".join(f"| {kind} | {status} | {n} |" for (kind, status), n in sorted(counts.items(), key=str))
    ms = sorted(r["ms"] for r in out.rows if r["ms"])
    p50 = ms[len(ms) // 2] if ms else float("nan")
    p95 = ms[int(len(ms) * 0.95)] if ms else float("nan")
    body = f"""## Burst: {args.form + args.api} submissions in {args.seconds:.0f} s (issue 13)

Command: `.venv/bin/python bench/burst.py --write` ({args.form} through the web form from {args.accounts} Standard
accounts, {args.api} through the partner API with one token, spread evenly over {args.seconds:.0f} s; daphne + local
settings, SQLite in WAL mode, on this 2-core machine shared with other work). All requests ended
{wall:.1f} s after the first was sent; response time p50 {p50:.0f} ms, p95 {p95:.0f} ms.

| path | status | count |
|---|---|---|
{lines}

- 5xx or connection errors: **{len(five)}**
- refusals: {len(refusals)}, of which 429 (quota): {len(quota)}
- 429 without `Retry-After` or without a sentence: **{len(bad_refusals)}**
- web process memory (RSS): {rss['before']:.0f} MB before, {rss['peak']:.0f} MB peak, {rss['after']:.0f} MB after the
  burst, {rss['settled']:.0f} MB after a second burst (a bounded process returns to the same level rather than growing).

Standard accounts may have {args.active} jobs in progress, so each account's 3rd and 4th submissions are
refused with 429, `Retry-After` and a sentence; the partner token's limits (50 in progress) take all of its jobs.
"""
    return body, ok


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="aim at a running stack instead of starting one")
    ap.add_argument("--partner-token", default="")
    ap.add_argument("--emails", default="", help="comma-separated Standard accounts (with --url)")
    ap.add_argument("--password", default=PASSWORD)
    ap.add_argument("--web-pid", type=int, default=0, help="with --url: the daphne pid to sample RSS from")
    ap.add_argument("--accounts", type=int, default=5)
    ap.add_argument("--form", type=int, default=20)
    ap.add_argument("--api", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--write", action="store_true", help="write the burst section of BENCHMARKS.md")
    ap.add_argument("--web-env", action="append", default=[], help="KEY=VALUE for the web process (experiments)")
    args = ap.parse_args()
    args.active = 2

    procs, redis, env = [], None, None
    try:
        if args.url:
            base, token, web_pid = args.url.rstrip("/"), args.partner_token, args.web_pid or None
            emails = [e for e in args.emails.split(",") if e]
        else:
            from tests.plugins.redis_server import start_redis

            work = Path(tempfile.mkdtemp(prefix="lls-burst-"))
            redis_port, web_port = _free_port(), _free_port()
            redis = start_redis(redis_port, str(work), appendonly=True)
            env = {**os.environ, "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "LLS_VAR_DIR": str(work),
                   "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.local", "PYTHONUNBUFFERED": "1"}
            _manage(env, "migrate", "-v0")
            seed = _manage(env, "seed_demo", capture=True).stdout
            token = re.search(r"Partner API token: (\w+)", seed).group(1)
            emails = [f"burst{i}@burst.test" for i in range(args.accounts)]
            _manage(env, "shell", "-c", (
                "from accounts.models import User\n"
                f"[User.objects.create_user(email=e, password={args.password!r}) for e in {emails!r}]"))
            logs = work / "logs"
            logs.mkdir()
            web_env = {**env, **dict(kv.split("=", 1) for kv in args.web_env)}
            web = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(web_port),
                                    "loveloveshot.asgi:application"], cwd=ROOT, env=web_env,
                                   stdout=open(logs / "daphne.log", "wb"), stderr=subprocess.STDOUT)
            procs.append(web)
            base, web_pid = f"http://127.0.0.1:{web_port}", web.pid
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    requests.get(base + "/", timeout=5)
                    break
                except requests.RequestException:
                    time.sleep(0.3)
            print("stack up:", base, "logs:", logs)
        args.accounts = len(emails)
        global CONCEPT
        concepts = requests.get(f"{base}/api/v1/concepts/", headers={"Authorization": f"Token {token}"}, timeout=30)
        listed = concepts.json()
        listed = listed.get("results", listed) if isinstance(listed, dict) else listed
        CONCEPT = listed[0]["slug"]
        sessions = [login(base, e, args.password) for e in emails]
        for s in sessions:  # warm the web process (templates, gate models) before "before" is measured
            s.get(f"{base}/studio/new/", timeout=30)
        sampler = RssSampler(web_pid)
        before = sampler.rss()
        sampler.start()
        out = Outcome()
        wall = burst(base, sessions, token, args.form, args.api, args.seconds, out)
        time.sleep(3)
        after = sampler.rss()
        if env is not None:  # a second, identical burst on fresh accounts' quota: does memory keep growing?
            _manage(env, "shell", "-c", "from studio.models import Job; Job.objects.all().delete()")
            burst(base, sessions, token, args.form, args.api, args.seconds, Outcome())
            time.sleep(3)
        settled = sampler.rss()
        sampler.stop.set()
        rss = {"before": before, "peak": max([before, *sampler.samples]), "after": after, "settled": settled}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if redis is not None:
            redis.terminate()

    body, ok = report(out, wall, rss, args)
    print(body)
    for r in out.rows:
        if not isinstance(r["status"], int) or r["status"] >= 500 or r["status"] == 400:
            print("unexpected:", r)
    if args.write:
        from bench._markdown import write_section

        write_section("burst", body)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
