"""Writes for concepts, scenes and results."""

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

# The image work below (labelling results, encoding scenes) runs on the worker and in the staff admin;
# its engine imports are local to those functions so the web tier never loads cv2 (.importlinter).
from .models import Report, Result, Scene, ShareLink


def _thumb_jpeg(img, max_side: int) -> bytes:
    from engine.io import encode_jpeg, resize_max

    small, _ = resize_max(img, max_side)
    return encode_jpeg(small, quality=85)


class ResultJobGone(Exception):
    """The job was deleted (with its account) or cancelled, or another attempt took it over, while the
    worker made this photo: nothing was stored."""


def result_create(*, job, scene: Scene, variant: int, image, max_side: int, thumb_side: int) -> Result:
    """Store one finished couple photo (BGR array) with its thumbnail for the job's owner, labelled
    as AI-made (gallery.labelling: visible mark on Standard, XMP/EXIF, C2PA, invisible watermark).

    The (slow) labelling runs outside any transaction. The files are written only after the job row is
    locked and found still ours (not deleted, not cancelled; for a running job: the same attempt), and
    removed again if the row cannot be stored: a deleted account leaves nothing on disk (issue 13)."""
    from .labelling import label_result

    result = Result(user=job.user, job=job, scene=scene, variant=variant)
    labelled = label_result(
        image=image,
        result_id=result.public_id,
        plan=job.plan,
        language=job.language,
        max_side=max_side,
        thumb_side=thumb_side,
    )
    result.width, result.height = labelled.width, labelled.height
    written: list = []
    try:
        with transaction.atomic():
            still_ours = type(job).objects.select_for_update().filter(pk=job.pk).exclude(status="cancelled")
            if job.status == "running":
                still_ours = still_ours.filter(status="running", attempts=job.attempts)
            if not still_ours.exists():
                raise ResultJobGone(f"job {job.public_id} is gone or no longer ours")
            result.image.save("result.jpg", ContentFile(labelled.jpeg), save=False)
            written.append(result.image)
            result.thumbnail.save("thumb.jpg", ContentFile(labelled.thumb_jpeg), save=False)
            written.append(result.thumbnail)
            result.save()
    except BaseException:
        for field in written:
            field.storage.delete(field.name)
        raise
    return result


def result_delete(*, result: Result) -> None:
    result.image.delete(save=False)
    result.thumbnail.delete(save=False)
    result.delete()


def scene_slots_from_faces(*, boxes: list, hint: str = "") -> list[list[float]]:
    """Slots [A, B] from detected face boxes (normalised [x, y, w, h]), following the scene's hint."""
    if len(boxes) < 2:
        raise ValueError("a scene needs two faces")
    two = sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)[:2]  # the two main faces
    left, right = sorted(two, key=lambda b: b[0] + b[2] / 2)
    higher, lower = sorted(two, key=lambda b: b[1] + b[3] / 2)
    order = {
        Scene.SlotHint.RIGHT: (right, left),
        Scene.SlotHint.TALLER: (higher, lower),
        Scene.SlotHint.SHORTER: (lower, higher),
    }.get(hint, (left, right))
    return [[round(float(v), 4) for v in box] for box in order]


@transaction.atomic
def scene_redetect_slots(*, scene: Scene, engine) -> Scene:
    """Detect the scene's faces again and fill slots A/B following its hint (admin action). Raises
    ValueError with the scene intake's sentences when the picture no longer passes it."""
    from engine.io import decode_image

    from .scene_intake import check_scene

    with scene.image.open("rb") as fh:
        check = check_scene(image=decode_image(fh.read()), engine=engine, hint=scene.slot_hint)
    if not check.ok:
        raise ValueError(" ".join(check.errors))
    scene.slot_a, scene.slot_b = check.slots
    scene.save(update_fields=["slot_a", "slot_b", "updated_at"])
    return scene


@transaction.atomic
def scene_create(*, concept, image, title: str, slots: list, order: int = 0, published: bool = False) -> Scene:
    """Create a scene from a BGR array with face slots [[x,y,w,h] A, [x,y,w,h] B] (normalised)."""
    from engine.io import encode_jpeg

    scene = Scene(
        concept=concept,
        title=title,
        slot_a=[round(float(v), 4) for v in slots[0]],
        slot_b=[round(float(v), 4) for v in slots[1]],
        order=order,
        is_published=published,
    )
    scene.image.save("scene.jpg", ContentFile(encode_jpeg(image, quality=92)), save=False)
    scene.thumbnail.save("thumb.jpg", ContentFile(_thumb_jpeg(image, 480)), save=False)
    scene.save()
    return scene


@transaction.atomic
def scene_store_image(*, scene: Scene, image, slots: list) -> Scene:
    """Save a scene (new or existing) with a new picture (BGR array, already accepted by
    ``gallery.scene_intake.check_scene``) and its detected slots [A, B]: stored as a clean JPEG with a
    fresh thumbnail; the previous files of an existing scene are removed once this commits."""
    from engine.io import encode_jpeg

    old = []
    if scene.pk:
        old = [n for n in Scene.objects.filter(pk=scene.pk).values_list("image", "thumbnail").first() or () if n]
    scene.slot_a = [round(float(v), 4) for v in slots[0]]
    scene.slot_b = [round(float(v), 4) for v in slots[1]]
    scene.image.save("scene.jpg", ContentFile(encode_jpeg(image, quality=92)), save=False)
    scene.thumbnail.save("thumb.jpg", ContentFile(_thumb_jpeg(image, 480)), save=False)
    scene.save()
    stale = [n for n in old if n not in (scene.image.name, scene.thumbnail.name)]
    storage = scene.image.storage
    transaction.on_commit(lambda: [storage.delete(n) for n in stale])
    return scene


class DuplicateReport(Exception):
    """This reporter already reported this photo."""


def report_create(*, reporter, result: Result, reason: str, text: str) -> Report:
    """A user reports a result; it joins the open moderation queue in the admin. A second report by
    the same reporter about the same photo raises DuplicateReport (also a DB constraint)."""
    from django.db import IntegrityError

    if Report.objects.filter(reporter=reporter, result=result).exists():
        raise DuplicateReport
    try:
        with transaction.atomic():
            return Report.objects.create(reporter=reporter, result=result, reason=reason, text=text.strip()[:2000])
    except IntegrityError as exc:
        raise DuplicateReport from exc


@transaction.atomic
def removal_request_create(
    *, result: Result, reason: str, text: str, contact: str, ip_address: str | None = None
) -> Report:
    """Anyone (no account) asks for a photo they are in to be removed: an open report with no
    reporter, marked as a public request, with how to reach them."""
    return Report.objects.create(
        reporter=None, result=result, reason=reason, text=text.strip()[:2000], contact=contact.strip()[:200],
        source=Report.Source.PUBLIC, ip_address=ip_address,
    )


SHARE_DAYS_CHOICES = (1, 7, 30)
SHARE_DAYS_DEFAULT = 7


@transaction.atomic
def share_link_create(*, result: Result, days: int = SHARE_DAYS_DEFAULT) -> ShareLink:
    """Opt-in public link to the result's labelled image, expiring after ``days``."""
    if days not in SHARE_DAYS_CHOICES:
        raise ValueError(f"days must be one of {SHARE_DAYS_CHOICES}")
    return ShareLink.objects.create(result=result, expires_at=timezone.now() + timezone.timedelta(days=days))


@transaction.atomic
def share_link_revoke(*, link: ShareLink) -> ShareLink:
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    return link


@transaction.atomic
def report_resolve(*, report: Report, staff) -> Report:
    report.status = Report.Status.RESOLVED
    report.handled_by = staff
    report.handled_at = timezone.now()
    report.save(update_fields=["status", "handled_by", "handled_at", "updated_at"])
    return report


@transaction.atomic
def result_hide(*, result: Result, hidden: bool = True) -> Result:
    """Hide (or show again) a result: hidden results disappear from the owner's album and URLs."""
    result.is_hidden = hidden
    result.save(update_fields=["is_hidden", "updated_at"])
    return result
