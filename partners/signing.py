"""The webhook signature (pure functions, also what a partner's receiver does).

Header: ``LoveLoveShot-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`` where each ``v1`` is
``HMAC-SHA256(secret, f"{t}.{raw_body}")`` with one of the endpoint's valid secrets (two during a
rotation). A receiver accepts when any ``v1`` matches its secret and ``t`` is recent."""

import hashlib
import hmac
import time

HEADER = "LoveLoveShot-Signature"


def sign(body: bytes, secrets: list[str], timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else int(timestamp)
    message = f"{t}.".encode() + body
    parts = [f"t={t}"] + [f"v1={hmac.new(s.encode(), message, hashlib.sha256).hexdigest()}" for s in secrets]
    return ",".join(parts)


def verify(body: bytes, header: str, secret: str, tolerance: int = 300, now: float | None = None) -> bool:
    items = [p.split("=", 1) for p in header.split(",") if "=" in p]
    ts = [v for k, v in items if k.strip() == "t"]
    sigs = [v.strip() for k, v in items if k.strip() == "v1"]
    if len(ts) != 1 or not ts[0].strip().isdigit() or not sigs:
        return False
    t = int(ts[0])
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in sigs)
