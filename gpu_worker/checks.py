"""The photo check task (rq queue ``check``): the engine's quality gate on each uploaded photo, off the
web request.

``studio.services.job_create`` stores the photos (cheap checks only), creates the Job in ``checking``
and enqueues :func:`check_job`. This task checks every photo still ``pending`` (one at a time, each
verdict pushed live to the job page), then, for a person with several photos (Premium), that they show
one person; when every photo is ok ``studio.services.job_checks_complete`` queues the swap. A rejected
photo is replaced on the job page (``job_photo_replace``), which enqueues this task again: only the new
photo is checked. Idempotent: running it twice for one job checks nothing twice that matters and
queues the swap once (conditional UPDATE).

Run by a light worker that loads only the gate's models (YuNet, SFace, MediaPipe mesh), never the swap
engine, and does not fork per job (the models stay warm in the process):

    python manage.py rqworker check --worker-class rq.worker.SimpleWorker
"""

from __future__ import annotations

import logging

from django.conf import settings

from engine import EngineError, decode_image, get_engine
from engine.gate import check_photo, same_person_check
from studio import services
from studio.models import Job, JobPhoto
from studio.screening import screen_upload

logger = logging.getLogger(__name__)


def gate_engine():
    """The process-wide gate engine (detector, mesh, identity) from ``settings.MODELS_DIR`` — the same
    model files the swap worker uses (the bundled ones where the operator put none)."""
    return get_engine(settings.MODELS_DIR, diagnostics=False)


def _decode(photo: JobPhoto):
    with photo.file.open("rb") as fh:
        return decode_image(fh.read(), max_pixels=settings.UPLOAD_MAX_PIXELS)


def photo_verdict(engine, img) -> tuple[str | None, object]:
    """(rejection code or None, gate result) for one decoded photo: the gate, then the screening hook."""
    gate = check_photo(engine, img, min_eye_distance=float(settings.UPLOAD_MIN_EYE_DISTANCE))
    if not gate.ok:
        return gate.code, gate
    screened = screen_upload(img)
    if not screened.allowed:
        logger.info("Upload refused by the screener: %s", screened.code or "no code")
        return "screened", gate
    return None, gate


def _notes(gate) -> list[str]:
    """The gate's non-blocking notes as stored on the photo ("code" or "code:position")."""
    if gate is None:
        return []
    return [f"{n}:{gate.position}" if n == "multiple_faces_used" and gate.position else n for n in gate.notes]


def check_job(job_public_id: str) -> str:
    job = Job.objects.filter(public_id=job_public_id).first()
    if job is None or job.status != Job.Status.CHECKING:
        return "skipped"
    try:
        try:
            engine = gate_engine()
        except EngineError as exc:  # broken or missing weights: tell the user, keep the photos for a retry
            services.job_fail(job=job, code=exc.code, detail=f"photo check: {exc}")
            return "failed"
        faces: dict[int, object] = {}
        while True:
            job.refresh_from_db(fields=["status"])
            if job.status != Job.Status.CHECKING:  # cancelled or deleted meanwhile
                return "skipped"
            photo = job.photos.filter(verdict=JobPhoto.Verdict.PENDING).order_by("person", "index").first()
            if photo is None:
                break
            try:
                img = _decode(photo)
            except (EngineError, FileNotFoundError, OSError):
                code, gate = "decode", None
            else:
                code, gate = photo_verdict(engine, img)
            if gate is not None and gate.face is not None:
                faces[photo.pk] = gate.face
            services.job_photo_verdict_set(photo=photo, code=code, notes=_notes(gate))
        _same_person(job, engine, faces)
        services.job_checks_complete(job=job)
        return job.status
    except Job.DoesNotExist:
        return "skipped"


def _same_person(job: Job, engine, faces: dict) -> None:
    """Premium: one person's photos must show one person; the odd ones out are rejected."""
    for person in ("a", "b"):
        photos = list(job.photos.filter(person=person).order_by("index"))
        if len(photos) < 2 or any(p.verdict != JobPhoto.Verdict.OK for p in photos):
            continue
        images = [_decode(p) for p in photos]
        known = [faces.get(p.pk) for p in photos]
        outliers = same_person_check(engine, images, known if all(f is not None for f in known) else None)
        for i in outliers:
            services.job_photo_verdict_set(photo=photos[i], code="not_same_person")


def warm() -> None:
    """Build the gate's models now (called by the worker's job process at start), so the first check
    after a start answers as fast as the next ones: detector, identity and face mesh on a blank photo."""
    import numpy as np

    engine = gate_engine()
    blank = np.full((256, 256, 3), 200, np.uint8)
    check_photo(engine, blank)
    logger.info("photo check models ready")
