"""Reports → the admin moderation queue (hide result, ban user, mark resolved), every staff action in
the admin log, and the per-user history on the User admin page."""

import django_rq
import numpy as np
import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse

from accounts.models import ConsentRecord, User
from accounts.services import consent_record_create
from gallery.models import Report, Result
from gallery.services import result_create
from studio import services
from studio.models import Job
from tests.builders import build_concept, run_checks, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(django_user_model, password):
    return django_user_model.objects.create_superuser(email="mod@loveloveshot.example", password=password)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _job(user, concept) -> Job:
    consent = consent_record_create(user=user, partner_confirmed=True, ip_address="10.0.0.9")
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("grace_hopper.jpg")],
        consent=consent,
    )
    run_checks()  # the photo checks (queue "check") put it in line for the swap
    job.refresh_from_db()
    return job


@pytest.fixture
def reported(user):
    client = Client()
    concept = build_concept()
    job = _job(user, concept)
    result = result_create(
        job=job, scene=concept.scenes.get(), variant=0, image=np.full((300, 400, 3), 128, np.uint8),
        max_side=1600, thumb_side=480,
    )
    client.force_login(user)
    page = client.get(reverse("gallery:result-detail", args=[result.public_id])).content.decode()
    assert 'data-testid="report-result"' in page
    bad = client.post(reverse("gallery:result-report", args=[result.public_id]), {"reason": "nonsense"})
    assert bad.status_code == 400 and not Report.objects.exists()
    response = client.post(
        reverse("gallery:result-report", args=[result.public_id]),
        {"reason": Report.Reason.NO_CONSENT, "text": "My ex never agreed to this."},
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.reporter == user and report.result == result and report.status == Report.Status.OPEN
    assert report.text == "My ex never agreed to this."
    return {"report": report, "result": result, "job": job, "user": user, "concept": concept}


def _logged(obj, message_part: str, staff) -> bool:
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(obj)), object_id=str(obj.pk), action_flag=CHANGE,
        user=staff, change_message__contains=message_part,
    ).exists()


def test_report_queue_lists_open_reports_with_the_photo(staff_client, reported):
    page = staff_client.get(reverse("admin:gallery_report_changelist")).content.decode()
    assert reported["user"].email in page
    assert reverse("admin:gallery_result_preview", args=[reported["result"].public_id, "thumb"]) in page
    detail = staff_client.get(reverse("admin:gallery_report_change", args=[reported["report"].pk]))
    assert detail.status_code == 200 and "My ex never agreed" in detail.content.decode()


def test_hide_result_action_hides_it_from_the_owner_and_is_logged(staff_client, client, staff, reported):
    result = reported["result"]
    response = staff_client.post(
        reverse("admin:gallery_report_changelist"),
        {"action": "hide_result", "_selected_action": [reported["report"].pk]},
        follow=True,
    )
    assert response.status_code == 200
    result.refresh_from_db()
    assert result.is_hidden
    assert _logged(result, "Hidden", staff) and _logged(reported["report"], "hidden", staff)
    client.force_login(reported["user"])
    assert client.get(reverse("gallery:result-detail", args=[result.public_id])).status_code == 404
    assert client.get(reverse("gallery:result-image", args=[result.public_id])).status_code == 404


def test_ban_user_action_deactivates_and_purges_queued_jobs_and_is_logged(staff_client, client, staff, reported,
                                                                          _private_media, password):
    user = reported["user"]
    queued = _job(user, reported["concept"])
    assert django_rq.get_queue("swap").get_job_ids()
    response = staff_client.post(
        reverse("admin:gallery_report_changelist"),
        {"action": "ban_user", "_selected_action": [reported["report"].pk]},
        follow=True,
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.is_active is False
    queued.refresh_from_db()
    assert queued.status == Job.Status.CANCELLED and not queued.photos.exists()
    assert django_rq.get_queue("swap").get_job_ids() == []
    uploads = _private_media / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))
    assert _logged(user, "Banned", staff) and _logged(reported["report"], "banned", staff)
    assert not client.login(email=user.email, password=password)


def test_mark_resolved_action_records_who_and_is_logged(staff_client, staff, reported):
    report = reported["report"]
    staff_client.post(
        reverse("admin:gallery_report_changelist"), {"action": "mark_resolved", "_selected_action": [report.pk]}
    )
    report.refresh_from_db()
    assert report.status == Report.Status.RESOLVED and report.handled_by == staff and report.handled_at
    assert _logged(report, "resolved", staff)
    # the staff log is browsable (read-only) in the admin
    page = staff_client.get(reverse("admin:admin_logentry_changelist")).content.decode()
    assert "Marked resolved." in page


def test_result_admin_actions_are_logged(staff_client, staff, reported):
    result = reported["result"]
    staff_client.post(reverse("admin:gallery_result_changelist"), {"action": "hide", "_selected_action": [result.pk]})
    assert _logged(result, "Hidden.", staff)


def test_user_admin_shows_a_per_user_history_with_working_links(staff_client, reported):
    user = reported["user"]
    page = staff_client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    import re

    links = set(re.findall(r'href="(/admin/[a-z_]+/[a-z]+/\?[^"]+)"', page))
    assert any("/admin/studio/job/?user__id__exact=" in link for link in links)
    assert any("/admin/gallery/result/?user__id__exact=" in link for link in links)
    assert any("/admin/gallery/report/?result__user__id__exact=" in link for link in links)
    assert any("/admin/accounts/consentrecord/?user__id__exact=" in link for link in links)
    for link in links:
        response = staff_client.get(link.replace("&amp;", "&"))
        assert response.status_code == 200, link
    assert str(reported["job"].public_id)[:8] in page
    consent = ConsentRecord.objects.filter(user=user).first()
    assert consent.ip_address in page and consent.terms_version in page


def test_admin_sees_jobs_results_reports_consents(staff_client, reported):
    for model in (Job, Result, Report, ConsentRecord, User, LogEntry):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert staff_client.get(url).status_code == 200, model
