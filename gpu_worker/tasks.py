"""The rq task the GPU/CPU worker runs: one couple-photo job, start to finish.

The engine is loaded once per worker process (``manage.py gpu_worker`` preloads it before forking
work horses); this module only moves data between storage, the engine and studio.services."""

import logging
import threading

from django.conf import settings
from django.db import connection

from gallery.models import Scene
from gallery.services import result_create
from engine import EngineError, decode_image, get_engine
from studio import services
from studio.models import Job

logger = logging.getLogger(__name__)


class JobCancelled(Exception):
    """The owner cancelled the job while it was running."""


def engine():
    """The process-wide engine for jobs: settings.ENGINE ("auto" | "neural" | "classical") and the model
    registry decide (engine.neural.select); missing or unverified weights give the classical one."""
    mode = getattr(settings, "ENGINE", "classical")
    if str(mode).lower() == "classical":
        return get_engine(settings.MODELS_DIR, diagnostics=False)
    from engine.neural.select import get_engine as select_engine

    return select_engine(mode, settings.MODELS_DIR, getattr(settings, "MODELS_REGISTRY", None), diagnostics=False)


def _load_photos(job: Job) -> tuple[list, list]:
    people: dict[str, list] = {"a": [], "b": []}
    for photo in job.photos.order_by("person", "index"):
        with photo.file.open("rb") as fh:
            people[photo.person].append(decode_image(fh.read()))
    return people["a"], people["b"]


def plan_work(job: Job, scenes: list[Scene], n_a: int, n_b: int) -> list[tuple[Scene, int]]:
    """Which (scene, variant) pairs to render: Standard one per scene, Premium up to the cap."""
    if job.plan != "premium":
        return [(scene, 0) for scene in scenes]
    variants = max(n_a, n_b, 1)
    work = [(scene, v) for v in range(variants) for scene in scenes]
    return work[: settings.PREMIUM_MAX_RESULTS]


def _identities_for(variant: int, photos_a: list, photos_b: list) -> list[list]:
    """Variant 0 gives the engine every photo of each person (it picks, per scene face, the photo
    whose head pose is closest and leaves out one that is not the same person); Premium's further
    variants each use one specific photo, so the set shows different expressions."""
    if variant == 0:
        return [photos_a, photos_b]
    return [[photos_a[variant % len(photos_a)]], [photos_b[variant % len(photos_b)]]]


def run_swap(job_public_id: str) -> str:
    job = Job.objects.select_related("concept", "user").filter(public_id=job_public_id).first()
    if job is None:
        logger.warning("Job %s vanished before it ran", job_public_id)
        return "missing"
    if job.status != Job.Status.QUEUED:
        logger.info("Job %s is %s, not queued: skipping duplicate delivery", job.public_id, job.status)
        return job.status
    if services.job_start(job=job) is None:
        logger.info("Job %s was claimed by another worker", job.public_id)
        return "skipped"
    with Heartbeat(job):
        return _run(job)


class Heartbeat:
    """Touches Job.heartbeat_at from a side thread while the job runs, so a killed worker is noticed
    (studio.services.jobs_recover) even while one long engine stage is busy."""

    def __init__(self, job: Job):
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat-{job.public_id}", daemon=True)

    def _beat(self) -> None:
        try:
            while not self._stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                services.job_heartbeat(job=self.job)
        finally:
            connection.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)
        return False


def _run(job: Job) -> str:
    try:
        photos_a, photos_b = _load_photos(job)
        if not photos_a or not photos_b:
            services.job_fail(job=job, code="missing_photo", detail="uploads missing at start")
            return "failed"
        scenes = list(job.concept.scenes.filter(is_published=True).order_by("order", "id"))
        if not scenes:
            services.job_fail(job=job, code="scene_faces", detail="concept has no published scenes")
            return "failed"
        work = plan_work(job, scenes, len(photos_a), len(photos_b))
        eng = engine()
        services.job_discard_results(job=job)  # a retried job never keeps half a previous attempt
        last = {"pct": -1}
        for i, (scene, variant) in enumerate(work):
            with scene.image.open("rb") as fh:
                scene_img = decode_image(fh.read())

            def progress(stage: str, pct: int, i=i) -> None:
                overall = int((i + pct / 100.0) / len(work) * 95)
                if overall >= last["pct"] + 5 or stage != job.stage:
                    if services.job_is_cancelled(job=job):
                        raise JobCancelled
                    last["pct"] = overall
                    services.job_report_progress(job=job, stage=stage, pct=overall)

            identities = _identities_for(variant, photos_a, photos_b)
            if job.swap_slots:  # the couple chose who goes where
                identities.reverse()
            out = eng.run(scene_img, scene.slots, identities, progress=progress)
            services.job_report_progress(job=job, stage="finish", pct=int((i + 1) / len(work) * 95))
            result_create(
                job=job,
                scene=scene,
                variant=variant,
                image=out,
                max_side=settings.RESULT_MAX_SIDE,
                thumb_side=settings.THUMB_MAX_SIDE,
            )
    except JobCancelled:
        logger.info("Job %s was cancelled while running; its work is thrown away", job.public_id)
        services.job_discard_results(job=job)
        services.job_purge_uploads(job=job)
        return "cancelled"
    except EngineError as exc:
        services.job_fail(job=job, code=exc.code, detail=str(exc))
        return "failed"
    except Exception as exc:  # never leave a job "running": tell the user, keep the uploads for a retry
        logger.exception("Job %s crashed", job.public_id)
        services.job_fail(job=job, code="internal", detail=f"{type(exc).__name__}: {exc}")
        return "failed"
    services.job_finish(job=job)
    return "done"
