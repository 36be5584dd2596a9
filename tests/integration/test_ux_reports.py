"""Issue 16 item 6: the report reason has no default, duplicates are refused, every photo carries a
short code, and anyone (no account) can ask for a photo's removal by that code."""

import pytest
from django.test import Client
from django.urls import reverse

from gallery.codes import normalise, result_code, uuid_prefix
from gallery.models import Report
from tests.integration.ux_fixtures import finished_result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_c2pa(settings):
    settings.C2PA_SIGN = False


def test_report_reason_has_no_default_and_a_friendly_message(logged_client, user):
    result = finished_result(user)
    page = logged_client.get(reverse("gallery:result-detail", args=[result.public_id])).content.decode()
    assert '<option value="" selected>' in page, "the placeholder is selected, not a reason"
    response = logged_client.post(reverse("gallery:result-report", args=[result.public_id]), {"text": "x"})
    assert response.status_code == 400 and not Report.objects.exists()
    body = response.content.decode()
    assert "이 필드는 필수 항목입니다" not in body and "This field is required" not in body
    assert "무엇이 문제인지 골라 주세요" in body or "Please choose what is wrong" in body


def test_duplicate_report_is_refused_with_a_message(logged_client, user):
    result = finished_result(user)
    url = reverse("gallery:result-report", args=[result.public_id])
    assert logged_client.post(url, {"reason": Report.Reason.NO_CONSENT}).status_code == 302
    second = logged_client.post(url, {"reason": Report.Reason.OTHER, "text": "again"}, follow=True)
    assert Report.objects.count() == 1
    messages = [str(m) for m in second.context["messages"]]
    assert any("이미 신고" in m or "already reported" in m for m in messages), messages
    assert 'data-testid="already-reported"' in second.content.decode()


def test_result_code_round_trips_to_the_uuid_prefix():
    import uuid

    for _ in range(200):
        u = uuid.uuid4()
        code = result_code(u)
        assert len(code) == 8 and str(u).startswith(uuid_prefix(code))
        assert normalise(code.lower().replace("0", "o")) == code
    assert normalise("short") is None and normalise("UUUUUUUU") is None


def test_public_removal_request_needs_no_account_and_lands_in_the_queue(user, settings):
    result = finished_result(user)
    anon = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = anon.get(reverse("gallery:removal-request") + f"?code={result.code}")
    assert page.status_code == 200 and result.code in page.content.decode()
    empty = anon.post(reverse("gallery:removal-request"), {})
    assert empty.status_code == 400
    assert "This field is required" not in empty.content.decode()
    assert "Please enter the photo code" in empty.content.decode()
    wrong = anon.post(reverse("gallery:removal-request"), {
        "code": "ZZZZZZZZ", "reason": "no_consent", "contact": "me@example.com"})
    assert wrong.status_code == 400 and "find a photo with that code" in wrong.content.decode()
    ok = anon.post(reverse("gallery:removal-request"), {
        "code": result.code.lower(), "reason": "no_consent", "text": "That is me, I never agreed.",
        "contact": "me@example.com"})
    assert ok.status_code == 302
    report = Report.objects.get()
    assert report.reporter is None and report.source == Report.Source.PUBLIC
    assert report.result == result and report.contact == "me@example.com" and report.status == Report.Status.OPEN


def test_removal_requests_are_rate_limited(user, settings):
    settings.REMOVAL_REQUESTS_PER_HOUR = 2
    result = finished_result(user)
    anon = Client()
    data = {"code": result.code, "reason": "other", "contact": "x@example.com"}
    for _ in range(2):
        assert anon.post(reverse("gallery:removal-request"), data).status_code == 302
    limited = anon.post(reverse("gallery:removal-request"), data)
    assert limited.status_code == 429 and limited["Retry-After"] == "3600"
    assert Report.objects.count() == 2


def test_the_code_is_in_the_metadata_and_the_visible_label(user):
    from engine import provenance

    result = finished_result(user)  # Standard: visible label
    with result.image.open("rb") as fh:
        reading = provenance.read_metadata(fh.read())
    assert result.code in reading.xmp_description
    assert result.code in reading.exif_description and result.code in reading.exif_user_comment
    assert reading.ai_labelled
