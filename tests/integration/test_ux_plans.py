"""Issue 16 item 4: a plans page read from the settings, and two honest upgrade paths (a staff grant
in the admin and a single-use, expiring code); no payment."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import UpgradeCode, User

pytestmark = pytest.mark.django_db


def test_plans_page_states_what_the_settings_enforce(settings, client):
    settings.PLAN_PHOTO_LIMITS = {"standard": (1, 1), "premium": (3, 7)}
    settings.PREMIUM_MAX_RESULTS = 12
    settings.JOB_QUOTAS = {**settings.JOB_QUOTAS, "standard": {"active": 2, "per_hour": 9}}
    body = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("plans")).content.decode()
    assert "3–7 photos of each person" in body and "1 photo of each person" in body
    assert "up to 12" in body and "9 per hour" in body
    assert "No visible label" in body and "visible “AI-edited” label" in body
    assert "Log in to redeem" in body


def test_redeem_code_single_use_and_expiry(logged_client, user, other_user):
    code = UpgradeCode.objects.create(note="wedding fair")
    url = reverse("plans")
    bad = logged_client.post(url, {"code": "NOPE-NOPE-NOPE"})
    assert bad.status_code == 400 and user.__class__.objects.get(pk=user.pk).plan == "standard"
    empty = logged_client.post(url, {"code": ""}).content.decode()
    assert "이 필드는 필수 항목입니다" not in empty and "This field is required" not in empty

    ok = logged_client.post(url, {"code": code.code.lower()}, follow=True)
    assert ok.status_code == 200
    user.refresh_from_db()
    assert user.plan == User.Plan.PREMIUM
    code.refresh_from_db()
    assert code.used_by == user and code.used_at is not None

    other = Client(HTTP_ACCEPT_LANGUAGE="en")
    other.force_login(other_user)
    reused = other.post(url, {"code": code.code})
    assert reused.status_code == 400 and "already been used" in reused.content.decode()
    expired = UpgradeCode.objects.create(expires_at=timezone.now() - timedelta(minutes=1))
    late = other.post(url, {"code": expired.code})
    assert late.status_code == 400 and "expired" in late.content.decode()
    other_user.refresh_from_db()
    assert other_user.plan == User.Plan.STANDARD


def test_anonymous_redeem_goes_to_login(client):
    response = client.post(reverse("plans"), {"code": "ABCD-EFGH-JKLM"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_grant_needs_change_permission(django_user_model, user):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user(email="v@loveloveshot.example", password="x", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_user"))
    c = Client()
    c.force_login(viewer)
    c.post(reverse("admin:accounts_user_changelist"), {"action": "grant_premium", "_selected_action": [user.pk]})
    user.refresh_from_db()
    assert user.plan == User.Plan.STANDARD
    admin = django_user_model.objects.create_superuser(email="boss@loveloveshot.example", password="x")
    c.force_login(admin)
    c.post(reverse("admin:accounts_user_changelist"), {"action": "grant_premium", "_selected_action": [user.pk]})
    user.refresh_from_db()
    assert user.plan == User.Plan.PREMIUM


def test_premium_renders_one_photo_per_scene_with_every_photo_offered(premium_user, user, settings):
    """Premium is worth it: every scene of the concept once (not three near-identical versions), the
    engine choosing per scene face among all of each person's photos (variant 0 hands it all of them)."""
    from studio.models import Job
    from studio.planning import identities_for, plan_work
    from tests.integration.ux_fixtures import concept

    settings.PREMIUM_MAX_RESULTS = 3
    scenes = ["s1", "s2", "s3", "s4"]  # plan_work only orders and caps them
    premium = Job(user=premium_user, concept=concept(), plan="premium")
    work = plan_work(premium, scenes, 5, 3)
    assert work == [("s1", 0), ("s2", 0), ("s3", 0)]
    photos_a, photos_b = ["a1", "a2", "a3", "a4", "a5"], ["b1", "b2", "b3"]
    assert identities_for(premium, 0, photos_a, photos_b) == [photos_a, photos_b]
    standard = Job(user=user, concept=concept(), plan="standard")
    assert plan_work(standard, scenes, 1, 1) == [(s, 0) for s in scenes]
