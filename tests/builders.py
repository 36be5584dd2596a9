"""Test data builders: real images from ../shared/testdata/faces, composed scenes, uploads."""

from pathlib import Path

import django_rq
from django.core.files.uploadedfile import SimpleUploadedFile
from rq import SimpleWorker
from rq.timeouts import TimerDeathPenalty

from tests.conftest import faces_dir


def portrait_bytes(name: str) -> bytes:
    return (faces_dir() / name).read_bytes()


def upload(name: str, as_name: str | None = None, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(as_name or Path(name).name, portrait_bytes(name), content_type=content_type)


def build_concept(*, slug: str = "film-date", pairs=(("obama.jpg", "biden.jpg"),), style: str = "film"):
    """A published concept whose scenes are two test portraits composed side by side."""
    import cv2
    import numpy as np

    from engine import compose_scene, get_engine
    from gallery.models import Concept
    from gallery.services import scene_create

    concept, _ = Concept.objects.get_or_create(
        slug=slug,
        defaults={"name_ko": "필름 데이트", "name_en": "Film Date", "is_published": True},
    )
    engine = get_engine()
    for order, (left, right) in enumerate(pairs):
        imgs = [cv2.imdecode(np.frombuffer(portrait_bytes(n), np.uint8), cv2.IMREAD_COLOR) for n in (left, right)]
        scene_img = compose_scene(imgs[0], imgs[1], style=style)
        slots = engine.suggest_slots(scene_img)
        scene_create(concept=concept, image=scene_img, title=f"{left}+{right}", slots=slots[:2], order=order,
                     published=True)
    return concept


class ThreadSafeWorker(SimpleWorker):
    """The real rq worker loop, runnable off the main thread (signal handlers are main-thread only)."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self):
        pass


def run_worker() -> None:
    """Process everything on the "check" (photo checks) and "swap" queues with a real rq worker in burst
    mode, in this process: a job's photo check runs first and queues its swap, which runs next."""
    queues = [django_rq.get_queue("check"), django_rq.get_queue("swap")]
    ThreadSafeWorker(queues, connection=queues[0].connection).work(burst=True)


def run_checks() -> None:
    """Process only the "check" queue (photo checks) with a real rq worker in burst mode."""
    q = django_rq.get_queue("check")
    ThreadSafeWorker([q], connection=q.connection).work(burst=True)


def children_of(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (from /proc)."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids
