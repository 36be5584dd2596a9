"""Issue 13 items 1-2: a burst of submissions never gets a 500. The quota check and the job insert are
one atomic step on SQLite too (WAL + busy timeout + BEGIN IMMEDIATE), and a quota refusal is a 429
with Retry-After and a sentence on the form."""

import threading

import pytest
from django.db import connection, connections
from django.urls import reverse

from accounts.services import consent_record_create
from studio import services
from studio.models import Job
from tests.builders import build_concept, upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL locks the account row instead (select_for_update)")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0].lower() == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] >= 10_000
    assert connection.transaction_mode == "IMMEDIATE"


def _widen_the_race_window(monkeypatch, n: int) -> None:
    """Hold every submit that got inside job_create's transaction at the quota re-check until all n are
    there (or 3 s passed): without BEGIN IMMEDIATE they all read, then all try to write, and SQLite
    answers "database is locked"; with it only one is inside at a time and the barrier just times out."""
    real_check = services.job_quota_check
    barrier = threading.Barrier(n)

    def check(*, user):
        real_check(user=user)
        if connection.in_atomic_block:
            try:
                barrier.wait(timeout=3)
            except threading.BrokenBarrierError:
                pass

    monkeypatch.setattr(services, "job_quota_check", check)


def _submit_concurrently(user, concept, n: int) -> tuple[list, list, list]:
    consents = [consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1") for _ in range(n)]
    files = [(upload("obama.jpg"), upload("biden.jpg")) for _ in range(n)]
    created, refused, crashed = [], [], []
    start = threading.Barrier(n)

    def submit(i: int) -> None:
        try:
            start.wait(timeout=60)
            job = services.job_create(
                user=user, concept=concept, photos_a=[files[i][0]], photos_b=[files[i][1]], consent=consents[i]
            )
            created.append(job.pk)
        except services.JobQuotaExceeded as exc:
            refused.append(exc)
        except Exception as exc:  # noqa: BLE001 - "database is locked" and anything else is a failure
            crashed.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)
    return created, refused, crashed


def test_concurrent_submits_from_one_account_never_pass_the_quota_nor_lock_the_database(user, monkeypatch):
    concept = build_concept()
    _widen_the_race_window(monkeypatch, 6)
    active = services.settings.JOB_QUOTAS["standard"]["active"]
    created, refused, crashed = _submit_concurrently(user, concept, 6)
    assert crashed == []  # no OperationalError("database is locked"), no 500
    assert len(created) == active  # the quota re-check and the insert are one atomic step
    assert len(refused) == 6 - active and all(r.retry_after > 0 for r in refused)
    assert Job.objects.filter(user=user).count() == active


def test_concurrent_submits_from_a_partner_all_land(django_user_model, monkeypatch):
    partner = django_user_model.objects.create_user(email="partner@example.com", password="x", is_partner=True)
    concept = build_concept()
    _widen_the_race_window(monkeypatch, 8)
    created, refused, crashed = _submit_concurrently(partner, concept, 8)
    assert crashed == [] and refused == []
    assert len(created) == 8 == Job.objects.filter(user=partner).count()


def test_the_form_answers_429_with_retry_after_when_it_loses_the_quota_race(user, client, monkeypatch):
    """Another submit wins between the view's early quota check and job_create's locked re-check: the
    form used to answer 500 (AttributeError: 'JobQuotaExceeded' object has no attribute 'error_dict')."""
    concept = build_concept()
    for _ in range(services.settings.JOB_QUOTAS["standard"]["active"]):
        Job.objects.create(user=user, concept=concept, plan="standard", status=Job.Status.QUEUED)
    monkeypatch.setattr("studio.views.job_quota_check", lambda **kw: None)  # the early check saw room
    client.force_login(user)
    response = client.post(
        reverse("studio:job-new"),
        {
            "concept": concept.slug,
            "photos_a": upload("obama.jpg"),
            "photos_b": upload("biden.jpg"),
            "consent": "on",
            "partner_consent": "on",
        },
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "기다려 주세요" in response.content.decode()


def test_the_form_answers_429_with_retry_after_when_over_the_hourly_quota(user, client):
    concept = build_concept()
    for _ in range(services.settings.JOB_QUOTAS["standard"]["per_hour"]):
        Job.objects.create(user=user, concept=concept, plan="standard", status=Job.Status.DONE)
    client.force_login(user)
    response = client.post(reverse("studio:job-new"), {"concept": concept.slug})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 60

