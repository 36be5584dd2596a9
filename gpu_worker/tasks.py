"""The rq task the GPU/CPU worker runs: one couple-photo job, start to finish.

The engine is built once, lazily, in the process that runs the jobs (``manage.py gpu_worker`` runs
rq's SimpleWorker in a child process it supervises: no fork after CUDA is initialised) and stays warm
for the next job. Studio decides what a job renders (studio.planning); this module only moves data
between storage, the engine and studio.services."""

import logging
import os
import threading
import time

import numpy as np
from django.conf import settings
from django.db import connection

from engine import EngineError, decode_image
from engine.io import shrink_max
from gallery.services import ResultJobGone, result_create
from studio import planning, services
from studio.models import Job

logger = logging.getLogger(__name__)
_engines: dict[tuple, object] = {}
_engines_lock = threading.Lock()


class JobCancelled(Exception):
    """The owner cancelled the job while it was running."""


def engine():
    """The process-wide engine for jobs: settings.ENGINE ("auto" | "neural" | "classical") and the model
    registry decide (engine.neural.select); missing or unverified weights give the classical one.

    Built on first use in the calling process and kept for the next jobs; each build logs one line
    with the process id, so the worker log shows where the models live."""
    mode = str(getattr(settings, "ENGINE", "classical")).lower()
    registry = getattr(settings, "MODELS_REGISTRY", None)
    key = (mode, str(settings.MODELS_DIR), str(registry))
    with _engines_lock:
        eng = _engines.get(key)
        if eng is None:
            started = time.monotonic()
            if mode == "classical":
                from engine import get_engine

                eng = get_engine(settings.MODELS_DIR, diagnostics=False)
            else:
                from engine.neural.select import get_engine as select_engine

                eng = select_engine(mode, settings.MODELS_DIR, registry, diagnostics=False)
            _engines[key] = eng
            logger.info("engine built: %s pid=%d in %.1fs", type(eng).__name__, os.getpid(),
                        time.monotonic() - started)
        return eng


def _load_photos(job: Job) -> tuple[list, list]:
    people: dict[str, list] = {"a": [], "b": []}
    for photo in job.photos.order_by("person", "index"):
        with photo.file.open("rb") as fh:
            people[photo.person].append(decode_image(fh.read()))
    return people["a"], people["b"]


def run_swap(job_public_id: str) -> str:
    """The rq entry point. Logs exactly one line per job: id, outcome, duration, process id."""
    started = time.monotonic()
    status = "crashed"
    try:
        status = _run_swap(job_public_id)
        return status
    finally:
        logger.info("job %s %s in %.1fs pid=%d", job_public_id, status, time.monotonic() - started, os.getpid())


def _run_swap(job_public_id: str) -> str:
    job = Job.objects.select_related("concept", "user").filter(public_id=job_public_id).first()
    if job is None:
        return "missing"
    if job.status != Job.Status.QUEUED:
        return f"skipped ({job.status}, duplicate delivery)"
    if services.job_start(job=job) is None:
        return "skipped (claimed by another worker)"
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


def planning_stage(stage: str, i: int, n: int) -> str:
    """The job-wide stage for the engine's per-photo stage: "detect" only while the first photo is
    prepared, "finish" only for the last one, "swap" in between."""
    if stage == "detect" and i == 0:
        return "detect"
    if stage == "finish" and i == n - 1:
        return "finish"
    return "swap"


def _work_scene(img: np.ndarray, slots) -> np.ndarray:
    """The result is stored at ``RESULT_MAX_SIDE`` at most: a larger scene is swapped at about that size
    (slots are relative) instead of at full size and shrunk afterwards, but never so far that a slot's
    face box gets narrower than 120 px (the scene intake's minimum face, kept swappable)."""
    h, w = img.shape[:2]
    narrowest = min((float(s[2]) for s in slots), default=1.0) * w
    side = max(settings.RESULT_MAX_SIDE, int(max(h, w) * 120.0 / max(narrowest, 1.0)) + 1)
    return shrink_max(img, side)[0]  # integer box reduction first: fast on a 4096 px scene


def _run(job: Job) -> str:
    try:
        photos_a, photos_b = _load_photos(job)
        if not photos_a or not photos_b:
            services.job_fail(job=job, code="missing_photo", detail="uploads missing at start")
            return "failed"
        scenes = planning.job_scenes(job=job)
        if not scenes:
            services.job_fail(job=job, code="scene_faces", detail="concept has no published scenes")
            return "failed"
        work = planning.plan_work(job, scenes, len(photos_a), len(photos_b))
        eng = engine()
        services.job_discard_results(job=job)  # a retried job never keeps half a previous attempt
        services.job_report_progress(job=job, stage="detect", pct=5)  # photos + engine ready: no long 0 %
        last = {"pct": 5}
        for i, (scene, variant) in enumerate(work):
            with scene.image.open("rb") as fh:
                scene_img = decode_image(fh.read())
            scene_img = _work_scene(scene_img, scene.slots)

            def progress(stage: str, pct: int, i=i) -> None:
                # One detect → swap → finish for the whole job (issue 16), not one per output photo.
                stage = planning_stage(stage, i, len(work))
                overall = 5 + int((i + pct / 100.0) / len(work) * 90)
                if overall >= last["pct"] + 5 or stage != job.stage:
                    if services.job_is_cancelled(job=job):
                        raise JobCancelled
                    last["pct"] = overall
                    services.job_report_progress(job=job, stage=stage, pct=overall)

            identities = planning.identities_for(job, variant, photos_a, photos_b)
            out = eng.run(scene_img, scene.slots, identities, progress=progress)
            services.job_report_progress(
                job=job, stage=planning_stage("finish", i, len(work)), pct=5 + int((i + 1) / len(work) * 90)
            )
            result_create(
                job=job,
                scene=scene,
                variant=variant,
                image=out,
                max_side=settings.RESULT_MAX_SIDE,
                thumb_side=settings.THUMB_MAX_SIDE,
            )
    except JobCancelled:
        services.job_discard_results(job=job)
        services.job_purge_uploads(job=job)
        return "cancelled"
    except ResultJobGone:  # deleted with its account, cancelled, or taken over by a later attempt: not ours
        logger.info("Job %s gone while running; nothing stored", job.public_id)
        return "gone"
    except EngineError as exc:
        services.job_fail(job=job, code=exc.code, detail=str(exc))
        return "failed"
    except Exception as exc:  # never leave a job "running": tell the user, keep the uploads for a retry
        logger.exception("Job %s crashed", job.public_id)
        services.job_fail(job=job, code="internal", detail=f"{type(exc).__name__}: {exc}")
        return "failed"
    services.job_finish(job=job)
    return "done"
