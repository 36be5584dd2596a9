"""Nobody sees anyone else's photos: every URL that names an object (found by walking the URLconf,
so a new route cannot slip through untested) is tried as another user, anonymously, and with
another partner's token."""

import cv2
import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.services import consent_record_create
from gallery.services import result_create
from studio import services
from tests.builders import build_concept, upload

pytestmark = pytest.mark.django_db


def _routes(resolver=None, prefix="", ns=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            yield from _routes(p, prefix + str(p.pattern), ns + (p.namespace + ":" if p.namespace else ""))
        elif isinstance(p, URLPattern) and "<uuid:" in str(p.pattern):
            yield ns + (p.name or ""), prefix + str(p.pattern)


# which object each route names (a route missing here fails test_every_object_route_is_covered)
KIND = {
    "job": lambda name: "job" in name,
    "result": lambda name: "result" in name,
    "scene": lambda name: "scene" in name,
}


def _kind(name: str) -> str | None:
    for kind, match in KIND.items():
        if match(name.split(":")[-1]):
            return kind
    return None


def _fill(pattern: str, public_id) -> str:
    import re

    return "/" + re.sub(r"<uuid:\w+>", str(public_id), pattern).lstrip("^").rstrip("$")


@pytest.fixture
def owned(user, premium_user):
    concept = build_concept()
    consent = consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1")
    job = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                              photos_b=[upload("biden.jpg")], consent=consent)
    scene = concept.scenes.first()
    result = result_create(job=job, scene=scene, variant=0, image=cv2.imread(scene.image.path),
                           max_side=800, thumb_side=200)
    return {"job": job, "result": result, "scene": scene}


def _object_routes():
    return [(name, pattern) for name, pattern in _routes() if not name.startswith("admin:")]


def test_every_object_route_is_covered():
    routes = _object_routes()
    assert len(routes) >= 8
    uncovered = [name for name, _ in routes if _kind(name) is None]
    assert uncovered == [], f"routes naming objects without an ownership test: {uncovered}"


def test_strangers_get_404_everywhere(client, owned, other_user):
    client.force_login(other_user)
    checked = 0
    for name, pattern in _object_routes():
        kind = _kind(name)
        if kind == "scene":
            continue  # curated scenes are public once published (test_unpublished_scene_is_hidden)
        url = _fill(pattern, owned[kind].public_id)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (401, 403, 404, 405), (name, method, url, response.status_code)
            if method == "post":
                assert response.status_code in (401, 403, 404), (name, url, response.status_code)
            checked += 1
    assert checked >= 12
    # and nothing was changed by those POSTs (delete, retry, cancel, report...)
    owned["job"].refresh_from_db()
    owned["result"].refresh_from_db()
    assert owned["job"].status in ("checking", "queued") and not owned["result"].is_hidden


def test_anonymous_is_sent_to_login_or_refused(client, owned):
    for name, pattern in _object_routes():
        kind = _kind(name)
        if kind == "scene":
            continue
        response = client.get(_fill(pattern, owned[kind].public_id))
        assert response.status_code in (302, 401, 403, 404, 405), (name, response.status_code)
        if response.status_code == 302:
            assert "/accounts/login/" in response["Location"]


def test_owner_can_open_their_pages(client, owned, user):
    """The same routes work for the owner, so the 404s above are about ownership, not broken URLs."""
    client.force_login(user)
    for name in ("studio:job-detail", "studio:job-status", "gallery:result-detail", "gallery:result-image",
                 "gallery:result-thumb", "gallery:result-download"):
        pattern = dict(_object_routes())[name]
        kind = _kind(name)
        response = client.get(_fill(pattern, owned[kind].public_id))
        assert response.status_code == 200, (name, response.status_code)


def test_other_partner_token_gets_404(owned, django_user_model):
    job, result = owned["job"], owned["result"]
    mine = django_user_model.objects.create_user(email="p1@example.com", password="x-Partner-2026", is_partner=True)
    theirs = django_user_model.objects.create_user(email="p2@example.com", password="x-Partner-2026",
                                                   is_partner=True)
    job.user = mine
    job.save(update_fields=["user"])
    result.user = mine
    result.save(update_fields=["user"])
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=theirs).key}")
    api_routes = [(n, p) for n, p in _object_routes() if n.startswith("api:")]
    assert api_routes
    post_only = []
    for name, pattern in api_routes:
        url = _fill(pattern, owned[_kind(name)].public_id)
        response = api.get(url)
        if response.status_code == 405:  # an action (cancel, retry): POST as the other partner
            post_only.append(name)
            response = api.post(url)
        assert response.status_code == 404, (name, response.status_code)
        if name == "api:job-detail":
            assert api.delete(url).status_code == 404
    job.refresh_from_db()
    assert job.status not in ("cancelled",) and not job.attempts  # nothing was changed by those requests
    owner = APIClient()
    owner.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=mine).key}")
    for name, pattern in api_routes:
        if name in post_only:
            continue  # the owner's cancel/retry: tests/integration/test_api_v1.py
        response = owner.get(_fill(pattern, owned[_kind(name)].public_id))
        assert response.status_code == 200, (name, response.status_code)


def test_unpublished_scene_is_hidden(client, owned):
    scene = owned["scene"]
    scene.is_published = False
    scene.save(update_fields=["is_published"])
    for name, pattern in _object_routes():
        if _kind(name) == "scene":
            assert client.get(_fill(pattern, scene.public_id)).status_code == 404, name


def test_no_public_media_folder(client, owned):
    """Files are only reachable through the ownership-checking views, never by storage path."""
    for path in (owned["result"].image.name, owned["job"].photos.first().file.name):
        for prefix in ("/media/", "/media-not-public/", "/static/", "/"):
            assert client.get(prefix + path).status_code == 404
