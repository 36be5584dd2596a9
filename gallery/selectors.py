from django.db.models import Prefetch, QuerySet

from accounts.models import User

from .models import Concept, Result, Scene


def concept_list(*, published_only: bool = True) -> QuerySet[Concept]:
    qs = Concept.objects.all()
    if published_only:
        qs = qs.filter(is_published=True, scenes__is_published=True).distinct()
    return qs.prefetch_related(
        Prefetch(
            "scenes",
            queryset=Scene.objects.filter(is_published=True).order_by("order", "id"),
            to_attr="published_scenes",
        )
    )


def concept_get(*, slug: str) -> Concept | None:
    return concept_list().filter(slug=slug).first()


def scene_list(*, concept: Concept) -> QuerySet[Scene]:
    return concept.scenes.filter(is_published=True).order_by("order", "id")


def scene_get_published(*, public_id) -> Scene | None:
    try:
        return Scene.objects.filter(is_published=True, concept__is_published=True).get(public_id=public_id)
    except (Scene.DoesNotExist, ValueError):
        return None


def result_list(*, user: User) -> QuerySet[Result]:
    return Result.objects.filter(user=user, is_hidden=False).select_related("scene__concept", "job")


def result_get(*, user: User, public_id) -> Result | None:
    try:
        return result_list(user=user).get(public_id=public_id)
    except (Result.DoesNotExist, ValueError):
        return None


def result_find_by_id_prefix(*, prefix: str) -> Result | None:
    """The result whose UUID starts with ``prefix`` (hyphenated, e.g. the invisible watermark's
    64-bit ``xxxxxxxx-xxxx-xxxx``); None when there is no such result or more than one."""
    matches = list(Result.objects.filter(public_id__startswith=prefix).select_related("user", "job")[:2])
    return matches[0] if len(matches) == 1 else None
