"""``Idempotency-Key`` for POST requests of the partner API, kept in the shared Redis for 24 h.

The key (per account) stores the request's fingerprint and, once created, the object id. ``SET NX``
makes two concurrent requests with one key create one object: the second waits for the first's
result (a few seconds) and answers it, or gets ``idempotency_in_progress``."""

import hashlib
import time

TTL_SECONDS = 24 * 3600
IN_PROGRESS_TTL = 120  # a claimed key whose request died is free again after this


class IdempotencyConflict(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code  # idempotency_key_reused | idempotency_in_progress


def fingerprint(*, fields: dict, files: dict) -> str:
    """sha256 over the form fields and the bytes of every file in order (not their names)."""
    h = hashlib.sha256()
    for name in sorted(fields):
        h.update(f"{name}={fields[name]}\n".encode())
    for name in sorted(files):
        for upload in files[name]:
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            h.update(f"{name}:{digest.hexdigest()}\n".encode())
    return h.hexdigest()


def _conn():
    import django_rq

    return django_rq.get_connection("swap")


def _key(scope: str, user_id: int, key: str) -> str:
    return f"lls:idem:{scope}:{user_id}:{hashlib.sha256(key.encode()).hexdigest()}"


def claim(*, scope: str, user_id: int, key: str, fp: str, wait_seconds: float = 20.0) -> str | None:
    """None: this request owns the key and must create the object (then call ``attach`` or
    ``release``). A string: the id of the object an earlier identical request created.
    Raises IdempotencyConflict; RedisError when Redis is down."""
    conn = _conn()
    rkey = _key(scope, user_id, key)
    deadline = time.monotonic() + wait_seconds
    while True:
        if conn.set(rkey, f"{fp}|", nx=True, ex=IN_PROGRESS_TTL):
            return None
        value = conn.get(rkey)
        if value is None:
            continue  # expired or released in between: try to take it
        stored_fp, _sep, object_id = value.decode().partition("|")
        if stored_fp != fp:
            raise IdempotencyConflict("idempotency_key_reused")
        if object_id:
            return object_id
        if time.monotonic() >= deadline:
            raise IdempotencyConflict("idempotency_in_progress")
        time.sleep(0.1)


def attach(*, scope: str, user_id: int, key: str, fp: str, object_id: str) -> None:
    _conn().set(_key(scope, user_id, key), f"{fp}|{object_id}", ex=TTL_SECONDS)


def release(*, scope: str, user_id: int, key: str) -> None:
    """The request failed (invalid input, quota): the same key may be sent again."""
    _conn().delete(_key(scope, user_id, key))
