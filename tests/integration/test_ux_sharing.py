"""Issue 16 item 3: opt-in share links (unguessable, expiring, revocable, never indexed, labelled
image only) and gallery-friendly downloads."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallery.models import ShareLink
from tests.integration.ux_fixtures import finished_result

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_c2pa(settings):
    settings.C2PA_SIGN = False  # signing is tested elsewhere; keeps these fast


def _make_link(client, result, days=7):
    response = client.post(reverse("gallery:result-share", args=[result.public_id]), {"days": days})
    assert response.status_code == 302
    return ShareLink.objects.filter(result=result, revoked_at__isnull=True).order_by("-pk").first()


def test_share_link_is_opt_in_unguessable_noindex_and_serves_the_labelled_image_only(logged_client, user):
    client = Client()
    result = finished_result(user)
    page = logged_client.get(reverse("gallery:result-detail", args=[result.public_id])).content.decode()
    assert not ShareLink.objects.exists(), "no link until the owner makes one"
    assert 'data-testid="make-share-link"' in page

    link = _make_link(logged_client, result)
    assert len(link.token) >= 30 and re.fullmatch(r"[A-Za-z0-9_-]+", link.token)
    assert timedelta(days=6, hours=23) < link.expires_at - timezone.now() <= timedelta(days=7)
    page = logged_client.get(reverse("gallery:result-detail", args=[result.public_id])).content.decode()
    assert link.token in page and 'data-testid="revoke-share-link"' in page

    public = client.get(f"/s/{link.token}/")
    assert public.status_code == 200
    assert public["X-Robots-Tag"].startswith("noindex")
    body = public.content.decode()
    assert '<meta name="robots" content="noindex' in body
    assert "AI" in body and result.code in body
    assert f"/s/{link.token}/image.jpg" in body
    assert str(result.public_id) not in body, "the public page never names the private result URLs"
    image = client.get(f"/s/{link.token}/image.jpg")
    assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
    assert image["X-Robots-Tag"].startswith("noindex")
    with result.image.open("rb") as fh:
        assert b"".join(image.streaming_content) == fh.read(), "serves the stored, labelled result"

    assert client.get("/s/" + "x" * 32 + "/").status_code == 404  # unknown token


def test_share_link_expires_and_can_be_revoked(logged_client, user, other_user):
    client = Client()
    result = finished_result(user)
    link = _make_link(logged_client, result, days=1)

    # a stranger cannot switch someone else's link off
    client.force_login(other_user)
    assert client.post(reverse("gallery:share-revoke", args=[link.token])).status_code == 404
    client = Client()
    assert client.get(f"/s/{link.token}/").status_code == 200

    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    gone = client.get(f"/s/{link.token}/")
    assert gone.status_code == 404 and gone["X-Robots-Tag"].startswith("noindex")
    assert client.get(f"/s/{link.token}/image.jpg").status_code == 404

    link2 = _make_link(logged_client, result, days=30)
    assert client.get(f"/s/{link2.token}/image.jpg").status_code == 200
    assert logged_client.post(reverse("gallery:share-revoke", args=[link2.token])).status_code == 302
    assert client.get(f"/s/{link2.token}/").status_code == 404
    assert client.get(f"/s/{link2.token}/image.jpg").status_code == 404


def test_share_link_stops_when_the_photo_is_hidden_and_only_the_owner_can_make_one(logged_client, user, other_user):
    client = Client()
    result = finished_result(user)
    link = _make_link(logged_client, result)
    client.force_login(other_user)
    assert client.post(reverse("gallery:result-share", args=[result.public_id]), {"days": 7}).status_code == 404
    assert logged_client.post(reverse("gallery:result-share", args=[result.public_id]), {"days": 99}).status_code == 400
    result.is_hidden = True
    result.save()
    assert client.get(f"/s/{link.token}/").status_code == 404


def test_download_is_gallery_friendly(logged_client, user):
    result = finished_result(user)
    response = logged_client.get(reverse("gallery:result-download", args=[result.public_id]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    date = timezone.localtime(result.created_at).strftime("%Y-%m-%d")
    assert response["Content-Disposition"] == f'attachment; filename="loveloveshot-{date}-{result.code}.jpg"'
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{8}", result.code)
