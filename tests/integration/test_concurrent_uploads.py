"""Daphne runs each request's sync view in its own thread: several couples uploading at the same
moment all get their photos checked and stored. The request's checks are Pillow only (the face models
run on the worker side since issue 14), so nothing is shared between the threads."""

from concurrent.futures import ThreadPoolExecutor

from studio.uploads import photo_check
from tests.builders import upload

NAMES = ["obama.jpg", "biden.jpg", "grace_hopper.jpg", "obama2.jpg", "obama3.jpg", "astronaut.png"] * 2


def test_parallel_upload_checks_all_succeed():
    with ThreadPoolExecutor(max_workers=6) as pool:
        checked = list(pool.map(lambda name: photo_check(upload(name)), NAMES))
    assert [c.name for c in checked] == NAMES
    assert all(c.jpeg[:2] == b"\xff\xd8" and min(c.width, c.height) >= 128 for c in checked)
