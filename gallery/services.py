"""Writes for concepts, scenes and results."""

from django.core.files.base import ContentFile
from django.db import transaction

from gpu_worker.engine.io import encode_jpeg, resize_max

from .models import Result, Scene


def _thumb_jpeg(img, max_side: int) -> bytes:
    small, _ = resize_max(img, max_side)
    return encode_jpeg(small, quality=85)


@transaction.atomic
def result_create(*, job, scene: Scene, variant: int, image, max_side: int, thumb_side: int) -> Result:
    """Store one finished couple photo (BGR array) with its thumbnail for the job's owner."""
    full, _ = resize_max(image, max_side)
    result = Result(
        user=job.user, job=job, scene=scene, variant=variant, width=full.shape[1], height=full.shape[0]
    )
    result.image.save("result.jpg", ContentFile(encode_jpeg(full, quality=92)), save=False)
    result.thumbnail.save("thumb.jpg", ContentFile(_thumb_jpeg(full, thumb_side)), save=False)
    result.save()
    return result


def result_delete(*, result: Result) -> None:
    result.image.delete(save=False)
    result.thumbnail.delete(save=False)
    result.delete()


@transaction.atomic
def scene_create(*, concept, image, title: str, slots: list, order: int = 0, published: bool = False) -> Scene:
    """Create a scene from a BGR array with face slots [[x,y,w,h] A, [x,y,w,h] B] (normalised)."""
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
