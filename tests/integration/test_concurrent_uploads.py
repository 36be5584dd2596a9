"""Daphne runs each request's sync view in its own thread: several couples uploading at the same
moment must not share the (thread-unsafe) OpenCV/MediaPipe engine at once — that crashed the web
process with SIGSEGV before studio.uploads.ENGINE_LOCK."""

from concurrent.futures import ThreadPoolExecutor

from studio.uploads import photo_check
from tests.builders import upload

NAMES = ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "obama2.jpg", "obama3.jpg", "astronaut.png"] * 2


def test_parallel_upload_checks_all_succeed():
    with ThreadPoolExecutor(max_workers=6) as pool:
        checked = list(pool.map(lambda name: photo_check(upload(name)), NAMES))
    assert [c.faces >= 1 for c in checked] == [True] * len(NAMES)
    assert all(c.jpeg[:2] == b"\xff\xd8" for c in checked)
