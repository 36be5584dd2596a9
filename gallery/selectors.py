from django.db.models import Prefetch, QuerySet

from accounts.models import User

from .models import Concept, Report, Result, Scene, ShareLink


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


def result_find_by_code(*, code: str) -> Result | None:
    """The visible result a short code (gallery.codes, printed in the label) names, or None."""
    from .codes import uuid_prefix

    prefix = uuid_prefix(code)
    if prefix is None:
        return None
    result = result_find_by_id_prefix(prefix=prefix)
    return result if result is not None and not result.is_hidden else None


def report_exists(*, reporter: User, result: Result) -> bool:
    return Report.objects.filter(reporter=reporter, result=result).exists()


def share_links_active(*, result: Result) -> QuerySet[ShareLink]:
    from django.utils import timezone

    return result.share_links.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


def share_link_get_active(*, token: str) -> ShareLink | None:
    """The live link with this token whose photo is still visible, or None (unknown, expired, revoked)."""
    from django.utils import timezone

    return (
        ShareLink.objects.filter(
            token=token, revoked_at__isnull=True, expires_at__gt=timezone.now(), result__is_hidden=False,
            result__user__is_active=True,
        )
        .select_related("result__scene__concept")
        .first()
    )


def share_link_get_own(*, user: User, token: str) -> ShareLink | None:
    return ShareLink.objects.filter(token=token, result__user=user).select_related("result").first()
