"""Shared builders for the UX tests: a finished result without running the engine (a real labelled
JPEG made by gallery.services.result_create from a real test portrait)."""

import cv2
import numpy as np

from gallery.models import Concept
from gallery.services import result_create
from studio.models import Job
from tests.builders import portrait_bytes


def concept(slug: str = "film-date", published: bool = True) -> Concept:
    return Concept.objects.get_or_create(
        slug=slug, defaults={"name_ko": "필름 데이트", "name_en": "Film Date", "is_published": published}
    )[0]


def finished_result(user, *, slug: str = "film-date", plan: str = "standard", language: str = "ko"):
    job = Job.objects.create(user=user, concept=concept(slug), plan=plan, status=Job.Status.DONE, language=language)
    image = cv2.imdecode(np.frombuffer(portrait_bytes("obama.jpg"), np.uint8), cv2.IMREAD_COLOR)
    return result_create(job=job, scene=None, variant=0, image=image, max_side=800, thumb_side=320)
