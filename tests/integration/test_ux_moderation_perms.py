"""Issue 13 item 5 + issue 16 item 9: each moderation action needs its change permission, both as a
bulk action and as a button on the report's own page; a view-only moderator can look, not act."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from gallery.models import Report
from gallery.services import report_create
from tests.integration.ux_fixtures import finished_result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_c2pa(settings):
    settings.C2PA_SIGN = False


def _staff(django_user_model, email, codenames):
    user = django_user_model.objects.create_user(email=email, password="x-Strong-pass-2026", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return user, client


@pytest.fixture
def report(user, other_user):
    result = finished_result(user)
    return report_create(reporter=other_user, result=result, reason=Report.Reason.NO_CONSENT, text="not me")


VIEW_ONLY = ["view_report", "view_result", "view_user"]
MODERATOR = VIEW_ONLY + ["change_report", "change_result", "change_user"]


def test_view_only_staff_cannot_hide_ban_or_resolve(django_user_model, report):
    _, client = _staff(django_user_model, "viewer@loveloveshot.example", VIEW_ONLY)
    change_url = reverse("admin:gallery_report_change", args=[report.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'data-testid="moderate-hide"' not in body and 'data-testid="moderate-ban"' not in body
    assert 'data-testid="moderation-none"' in body

    changelist = client.get(reverse("admin:gallery_report_changelist")).content.decode()
    for action in ("hide_result", "ban_user", "mark_resolved"):
        assert f'value="{action}"' not in changelist
        client.post(reverse("admin:gallery_report_changelist"),
                    {"action": action, "_selected_action": [report.pk]})
    for what in ("hide", "ban", "resolve"):
        response = client.post(reverse("admin:gallery_report_moderate", args=[report.pk, what]))
        assert response.status_code == 403
    report.refresh_from_db()
    report.result.refresh_from_db()
    report.result.user.refresh_from_db()
    assert report.status == Report.Status.OPEN
    assert report.result.is_hidden is False
    assert report.result.user.is_active is True


def test_each_button_needs_its_own_change_permission(django_user_model, report):
    _, client = _staff(django_user_model, "hider@loveloveshot.example", VIEW_ONLY + ["change_result"])
    body = client.get(reverse("admin:gallery_report_change", args=[report.pk])).content.decode()
    assert 'data-testid="moderate-hide"' in body and 'data-testid="moderate-ban"' not in body
    assert client.post(reverse("admin:gallery_report_moderate", args=[report.pk, "ban"])).status_code == 403
    assert client.post(reverse("admin:gallery_report_moderate", args=[report.pk, "hide"])).status_code == 302
    report.result.refresh_from_db()
    assert report.result.is_hidden is True
    report.result.user.refresh_from_db()
    assert report.result.user.is_active is True


def test_a_moderator_works_a_report_from_its_own_page(django_user_model, report):
    mod, client = _staff(django_user_model, "mod2@loveloveshot.example", MODERATOR)
    url = reverse("admin:gallery_report_change", args=[report.pk])
    body = client.get(url).content.decode()
    for testid in ("moderate-hide", "moderate-ban", "moderate-resolve"):
        assert f'data-testid="{testid}"' in body
    assert report.result.code in body
    assert client.get(reverse("admin:gallery_report_moderate", args=[report.pk, "hide"])).status_code == 405
    for what in ("hide", "ban", "resolve"):
        response = client.post(reverse("admin:gallery_report_moderate", args=[report.pk, what]))
        assert response.status_code == 302 and response["Location"] == url
    report.refresh_from_db()
    assert report.status == Report.Status.RESOLVED and report.handled_by == mod
    report.result.refresh_from_db()
    assert report.result.is_hidden
    report.result.user.refresh_from_db()
    assert not report.result.user.is_active


def test_bulk_actions_work_with_change_permissions(django_user_model, report):
    _, client = _staff(django_user_model, "mod3@loveloveshot.example", MODERATOR)
    changelist = reverse("admin:gallery_report_changelist")
    assert 'value="hide_result"' in client.get(changelist).content.decode()
    client.post(changelist, {"action": "mark_resolved", "_selected_action": [report.pk]})
    report.refresh_from_db()
    assert report.status == Report.Status.RESOLVED


def test_job_admin_shows_seconds_results_and_consent_in_kst(django_user_model, user):
    from accounts.services import consent_record_create

    result = finished_result(user)
    job = result.job
    job.consent = consent_record_create(user=user, partner_confirmed=True, ip_address="10.0.0.1")
    job.save()
    admin = django_user_model.objects.create_superuser(email="root@loveloveshot.example", password="x")
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(admin)
    body = c.get(reverse("admin:studio_job_change", args=[job.pk])).content.decode()
    import re

    from django.utils import timezone

    created = timezone.localtime(job.created_at)
    assert f"{created:%Y-%m-%d %H:%M:%S} KST" in body, "job times to the second, in KST"
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d KST", body)
    consent_local = timezone.localtime(job.consent.created_at)
    assert f"{consent_local:%Y-%m-%d %H:%M:%S} KST" in body, "consent time in KST like the rest"
    assert reverse("admin:gallery_result_preview", args=[result.public_id, "thumb"]) in body
    assert c.get(reverse("admin:gallery_result_preview", args=[result.public_id, "thumb"])).status_code == 200
    changelist = c.get(reverse("admin:gallery_report_changelist")).content.decode()
    assert "css/admin.css" in changelist
