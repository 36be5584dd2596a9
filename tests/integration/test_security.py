"""CSRF, passwords, login throttling and per-account job quotas (web and partner API)."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.services import consent_record_create
from studio import services
from studio.models import Job
from tests.builders import build_concept, upload

pytestmark = pytest.mark.django_db


def _job_post(concept):
    return {"concept": concept.slug, "photos_a": upload("obama.jpg"), "photos_b": upload("biden.jpg"),
            "consent": "on", "partner_consent": "on"}


def test_forms_need_a_csrf_token(user, password):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 403
    csrf_client.force_login(user)
    concept = build_concept()
    response = csrf_client.post(reverse("studio:job-new"), _job_post(concept))
    assert response.status_code == 403
    assert Job.objects.count() == 0


def test_signup_refuses_weak_passwords(client):
    response = client.post(reverse("account_signup"), {"email": "weak@example.com", "password1": "12345678",
                                                       "password2": "12345678", "age_confirmed": "on",
                                                       "terms_accepted": "on"})
    assert response.status_code == 200  # form shown again with the errors
    from accounts.models import User

    assert not User.objects.filter(email="weak@example.com").exists()


def test_login_is_throttled_after_repeated_failures(client, user, password, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "throttle-test"}}
    for _ in range(6):
        client.post(reverse("account_login"), {"login": user.email, "password": "wrong-password"})
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session, "a throttled account could still log in"


def test_session_cookie_is_http_only(client, user, password):
    response = client.post(reverse("account_login"), {"login": user.email, "password": password})
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"]


def test_standard_user_cannot_queue_more_than_the_active_limit(client, user, settings):
    concept = build_concept()
    client.force_login(user)
    limit = settings.JOB_QUOTAS["standard"]["active"]
    for _ in range(limit):
        assert client.post(reverse("studio:job-new"), _job_post(concept)).status_code == 302
    response = client.post(reverse("studio:job-new"), _job_post(concept))
    assert response.status_code == 429
    assert "하나가 끝날 때까지 기다려 주세요" in response.content.decode()
    assert Job.objects.filter(user=user).count() == limit


def test_hourly_quota_counts_finished_jobs_too(user, settings):
    settings.JOB_QUOTAS = {**settings.JOB_QUOTAS, "standard": {"active": 100, "per_hour": 2}}
    concept = build_concept()
    for _ in range(2):
        consent = consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")
        job = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                                  photos_b=[upload("biden.jpg")], consent=consent)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE)
    with pytest.raises(services.JobQuotaExceeded) as exc:
        services.job_quota_check(user=user)
    assert exc.value.retry_after >= 60


def test_partner_token_quota_answers_429_with_retry_after(django_user_model, settings):
    settings.JOB_QUOTAS = {**settings.JOB_QUOTAS, "partner": {"active": 1, "per_hour": 100}}
    concept = build_concept()
    partner = django_user_model.objects.create_user(email="p@example.com", password="x-Partner-2026", is_partner=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=partner).key}")

    def post():
        return api.post("/api/v1/jobs/", {"concept": concept.slug, "photos_a": [upload("obama.jpg")],
                                          "photos_b": [upload("biden.jpg")], "consent": "true"}, format="multipart")

    assert post().status_code == 201
    response = post()
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["code"] == "job_quota_exceeded"  # problem+json (issue 15)
