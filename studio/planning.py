"""What one couple-photo job renders: which scenes, which variants, which photos of each person.

Studio's rules (plans, Premium's cap, who goes into which slot); the worker's task only runs them."""

from django.conf import settings

from gallery.models import Scene

from .models import Job


def job_scenes(*, job: Job) -> list[Scene]:
    return list(job.concept.scenes.filter(is_published=True).order_by("order", "id"))


def plan_work(job: Job, scenes: list[Scene], n_a: int, n_b: int) -> list[tuple[Scene, int]]:
    """Which (scene, variant) pairs to render: one photo per scene of the concept (issue 16 item 4).

    Standard: every published scene, from the one photo of each person. Premium: every scene up to
    PREMIUM_MAX_RESULTS, each rendered once as variant 0, which hands the engine all 3-5 photos of each
    person so it picks, per scene face, the photo that fits best (not three near-identical versions)."""
    if job.plan != "premium":
        return [(scene, 0) for scene in scenes]
    return [(scene, 0) for scene in scenes[: settings.PREMIUM_MAX_RESULTS]]


def identities_for(job: Job, variant: int, photos_a: list, photos_b: list) -> list[list]:
    """The photos of each person, in slot order, for one variant.

    Variant 0 gives the engine every photo of each person (it picks, per scene face, the photo whose
    head pose is closest and leaves out one that is not the same person); Premium's further variants
    each use one specific photo, so the set shows different expressions. ``job.swap_slots``: the couple
    chose who goes where."""
    if variant == 0:
        identities = [photos_a, photos_b]
    else:
        identities = [[photos_a[variant % len(photos_a)]], [photos_b[variant % len(photos_b)]]]
    if job.swap_slots:
        identities.reverse()
    return identities
