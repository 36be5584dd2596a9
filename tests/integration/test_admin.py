"""Django admin: every changelist opens, scene slot preview, private previews, retry action, rq link."""

import django_rq
import numpy as np
import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from accounts.models import ConsentRecord, User
from accounts.services import consent_record_create
from gallery.models import Result
from gallery.services import result_create
from studio import services
from studio.models import Job
from tests.builders import build_concept, run_checks, upload


@pytest.fixture
def staff(django_user_model, password):
    return django_user_model.objects.create_superuser(email="admin@loveloveshot.example", password=password)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # assertions below read English messages
    return client


def _job(user, concept) -> Job:
    consent = consent_record_create(user=user, partner_confirmed=True, ip_address="10.0.0.1")
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("grace_hopper.jpg")],
        consent=consent,
    )
    run_checks()  # the photo checks (queue "check") put it in line for the swap
    job.refresh_from_db()
    return job


def _failed_job(user, concept) -> Job:
    """A job the worker picked up (so it left the rq queue) and failed."""
    job = _job(user, concept)
    django_rq.get_queue("swap").remove(job.rq_job_id)
    services.job_start(job=job)
    services.job_fail(job=job, code="internal", detail="test")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.can_retry
    return job


@pytest.fixture
def data(user):
    concept = build_concept()
    scene = concept.scenes.get()
    job = _job(user, concept)
    result = result_create(
        job=job, scene=scene, variant=0, image=np.full((300, 400, 3), 128, np.uint8), max_side=1600, thumb_side=480
    )
    return {"concept": concept, "scene": scene, "job": job, "result": result}


def _admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.django_db
def test_every_changelist_and_change_page_opens(staff_client, data, user):
    objects = {
        type(obj): obj
        for obj in (data["concept"], data["scene"], data["job"], data["result"], user, ConsentRecord.objects.first())
    }
    assert {User, ConsentRecord, Job, Result, type(data["scene"]), type(data["concept"])} <= set(admin.site._registry)
    for model in admin.site._registry:  # includes authtoken's Token and django-rq's Dashboard
        response = staff_client.get(_admin_url(model, "changelist"))
        assert response.status_code == 200, model
        if model in objects:
            response = staff_client.get(_admin_url(model, "change", objects[model].pk))
            assert response.status_code == 200, model
    # the Job change page lists uploads without linking to the private files
    page = staff_client.get(_admin_url(Job, "change", data["job"].pk)).content.decode()
    assert "uploads/" not in page and ".img" not in page
    page = staff_client.get(_admin_url(type(data["concept"]), "change", data["concept"].pk)).content.decode()
    assert settings.MEDIA_URL not in page and "scenes/" not in page


@pytest.mark.django_db
def test_scene_change_page_shows_slot_boxes_from_a_staff_only_preview(staff_client, client, data):
    scene = data["scene"]
    page = staff_client.get(_admin_url(type(scene), "change", scene.pk)).content.decode()
    assert 'class="lls-slot-preview"' in page
    assert 'class="lls-slot lls-slot-a"' in page and 'class="lls-slot lls-slot-b"' in page
    left_a = round(float(scene.slot_a[0]) * 100, 2)
    assert f'x="{left_a}%"' in page  # SVG geometry, no inline style (strict CSP)
    assert "style=" not in page.split('class="lls-slot-preview"')[1].split("</p>")[0]

    preview = reverse("admin:gallery_scene_preview", args=[scene.public_id, "thumb"])
    assert preview in page
    assert settings.MEDIA_URL not in page  # private files are never linked by storage URL

    # the change form saves without re-uploading the image
    response = staff_client.post(
        _admin_url(type(scene), "change", scene.pk),
        {
            "concept": scene.concept_id, "title": "Edited", "order": 0, "is_published": "on",
            "slot_a": "[0.1, 0.2, 0.15, 0.3]", "slot_a_label": "A", "slot_b": "[0.6, 0.2, 0.15, 0.3]",
            "slot_b_label": "B",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    scene.refresh_from_db()
    assert scene.title == "Edited" and scene.slot_b == [0.6, 0.2, 0.15, 0.3] and scene.image
    page = staff_client.get(_admin_url(type(scene), "change", scene.pk)).content.decode()
    assert 'x="60.0%"' in page
    response = staff_client.get(preview)
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"\xff\xd8"

    # unpublished scenes are still previewable in the admin (gallery:scene-image would 404)
    scene.is_published = False
    scene.save()
    assert staff_client.get(reverse("admin:gallery_scene_preview", args=[scene.public_id, "image"])).status_code == 200
    assert staff_client.get(reverse("gallery:scene-image", args=[scene.public_id])).status_code == 404

    # not staff → the admin login page, never the file
    client.logout()
    response = client.get(preview)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_result_preview_and_hide_action(staff_client, client, user, data):
    result = data["result"]
    url = reverse("admin:gallery_result_preview", args=[result.public_id, "image"])
    assert url in staff_client.get(_admin_url(Result, "change", result.pk)).content.decode()
    response = staff_client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content)[:2] == b"\xff\xd8"

    response = staff_client.post(
        _admin_url(Result, "changelist"), {"action": "hide", "_selected_action": [result.pk]}, follow=True
    )
    assert response.status_code == 200
    result.refresh_from_db()
    assert result.is_hidden

    client.force_login(user)  # the owner is not staff
    assert client.get(url).status_code == 302


@pytest.mark.django_db
def test_scene_publish_actions(staff_client, data):
    scene = data["scene"]
    staff_client.post(_admin_url(type(scene), "changelist"), {"action": "unpublish", "_selected_action": [scene.pk]})
    scene.refresh_from_db()
    assert not scene.is_published
    staff_client.post(_admin_url(type(scene), "changelist"), {"action": "publish", "_selected_action": [scene.pk]})
    scene.refresh_from_db()
    assert scene.is_published


@pytest.mark.django_db(transaction=True)
def test_retry_action_requeues_failed_jobs_and_reports_refusals(staff_client, user):
    concept = build_concept()
    failed = _failed_job(user, concept)
    queued = _job(user, concept)
    queue = django_rq.get_queue("swap")
    assert queue.get_job_ids() == [queued.rq_job_id]

    response = staff_client.post(
        _admin_url(Job, "changelist"),
        {"action": "retry_failed", "_selected_action": [failed.pk, queued.pk]},
        follow=True,
    )
    assert response.status_code == 200
    failed.refresh_from_db()
    assert failed.status == Job.Status.QUEUED and failed.attempts == 1
    assert failed.rq_job_id in queue.get_job_ids()
    text = [str(m) for m in response.context["messages"]]
    assert any("1" in m and "queue" in m for m in text), text
    assert any(str(queued.public_id) in m for m in text), text


@pytest.mark.django_db
def test_admin_index_links_the_rq_dashboard(staff_client, client, django_user_model):
    page = staff_client.get(reverse("admin:index")).content.decode()
    assert 'href="/admin/rq/"' in page
    assert 'href="/admin/django_rq/dashboard/"' in page  # django-rq 4.x's own entry (superusers only)
    assert staff_client.get("/admin/rq/").status_code == 200

    # plain staff without django_rq permissions still get the Queue dashboard link
    member = django_user_model.objects.create_user(email="ops@loveloveshot.example", is_staff=True)
    client.force_login(member)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'href="/admin/rq/"' in page and "/admin/django_rq/dashboard/" not in page
    assert client.get("/admin/rq/").status_code == 200


@pytest.mark.django_db
def test_user_admin_add_and_edit_without_username(staff_client):
    response = staff_client.post(
        _admin_url(User, "add"),
        {
            "email": "New.Partner@Example.com",
            "plan": "premium",
            "is_partner": "on",
            "usable_password": "true",
            "password1": "Couple-photo-2026!",
            "password2": "Couple-photo-2026!",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    created = User.objects.get(email="new.partner@example.com")
    assert created.plan == "premium" and created.is_partner and created.check_password("Couple-photo-2026!")

    page = staff_client.get(_admin_url(User, "change", created.pk))
    assert page.status_code == 200
    form = page.context["adminform"].form
    payload = {k: v for k, v in form.initial.items() if k in form.fields and v is not None}
    payload.update(plan="standard", groups=[], user_permissions=[])
    payload.pop("password", None)
    response = staff_client.post(_admin_url(User, "change", created.pk), payload)
    assert response.status_code == 302, response.context["adminform"].form.errors
    created.refresh_from_db()
    assert created.plan == "standard"

    # list_editable plan on the changelist
    assert staff_client.get(_admin_url(User, "changelist"), {"q": "partner"}).status_code == 200


def test_settings_keep_rq_admin_link():
    assert settings.RQ_SHOW_ADMIN_LINK is True
