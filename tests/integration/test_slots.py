"""Scene slots A/B: hints decide which detected face is A; couples can swap who goes where."""

import cv2
import numpy as np
import pytest
from django.urls import reverse

from accounts.services import consent_record_create
from engine import get_engine
from engine.identity import SFaceEmbedder, cosine
from gallery.models import Result, Scene
from gallery.services import scene_slots_from_faces
from studio import services
from tests.builders import build_concept, portrait_bytes, run_worker, upload

LEFT_LOW = [0.10, 0.40, 0.20, 0.25]
RIGHT_HIGH = [0.60, 0.10, 0.20, 0.25]
TINY = [0.45, 0.80, 0.02, 0.02]  # a background face: never a slot


@pytest.mark.parametrize(("hint", "a", "b"), [
    ("", LEFT_LOW, RIGHT_HIGH),
    ("left", LEFT_LOW, RIGHT_HIGH),
    ("right", RIGHT_HIGH, LEFT_LOW),
    ("taller", RIGHT_HIGH, LEFT_LOW),
    ("shorter", LEFT_LOW, RIGHT_HIGH),
])
def test_hint_decides_slot_a(hint, a, b):
    assert scene_slots_from_faces(boxes=[RIGHT_HIGH, TINY, LEFT_LOW], hint=hint) == [a, b]


def test_one_face_is_not_a_scene():
    with pytest.raises(ValueError):
        scene_slots_from_faces(boxes=[LEFT_LOW])


@pytest.mark.django_db
def test_admin_redetect_follows_the_hint(admin_client):
    concept = build_concept()
    scene = concept.scenes.get()
    left, right = scene.slot_a, scene.slot_b
    assert left[0] < right[0]
    Scene.objects.filter(pk=scene.pk).update(slot_hint="right")
    response = admin_client.post(reverse("admin:gallery_scene_changelist"),
                                 {"action": "redetect_slots", "_selected_action": [scene.pk]})
    assert response.status_code == 302
    scene.refresh_from_db()
    assert scene.slot_a[0] > scene.slot_b[0]  # A is now the right-hand face
    assert abs(scene.slot_a[0] - right[0]) < 0.02


@pytest.mark.django_db
def test_admin_redetect_refuses_a_picture_that_fails_the_scene_intake(admin_client):
    from gallery.services import scene_create

    concept = build_concept()
    portrait = cv2.imdecode(np.frombuffer(portrait_bytes("obama.jpg"), np.uint8), cv2.IMREAD_COLOR)
    scene = scene_create(concept=concept, image=portrait, title="one face", slots=[LEFT_LOW, RIGHT_HIGH])
    response = admin_client.post(reverse("admin:gallery_scene_changelist"),
                                 {"action": "redetect_slots", "_selected_action": [scene.pk]}, follow=True,
                                 HTTP_ACCEPT_LANGUAGE="en")
    text = " ".join(str(m) for m in response.context["messages"])
    assert "Slots unchanged, the picture fails the scene intake: one face: A scene needs exactly two people" in text
    scene.refresh_from_db()
    assert [scene.slot_a, scene.slot_b] == [LEFT_LOW, RIGHT_HIGH]


def _face_identity(img, box_slot, engine, embedder):
    face = engine.match_slots(img, [box_slot])[0]
    return embedder.embed(img, face)


@pytest.mark.django_db(transaction=True)
def test_couple_can_swap_who_goes_where(client, user):
    concept = build_concept(pairs=(("obama.jpg", "biden.jpg"),))
    client.force_login(user)
    response = client.post(reverse("studio:job-new"), {
        "concept": concept.slug, "photos_a": upload("grace_hopper.jpg"), "photos_b": upload("obama2.jpg"),
        "swap_slots": "on", "consent": "on", "partner_consent": "on",
    })
    assert response.status_code == 302
    run_worker()
    result = Result.objects.get()
    assert result.job.swap_slots is True
    out = cv2.imread(result.image.path)
    scene = result.scene
    engine, embedder = get_engine(), SFaceEmbedder()

    def user_vec(name):
        img = cv2.imdecode(np.frombuffer(portrait_bytes(name), np.uint8), cv2.IMREAD_COLOR)
        face = max(engine.inspect(img), key=lambda f: f.box[2] * f.box[3])
        return embedder.embed(img, face)

    in_a = _face_identity(out, scene.slot_a, engine, embedder)
    in_b = _face_identity(out, scene.slot_b, engine, embedder)
    hopper, obama = user_vec("grace_hopper.jpg"), user_vec("obama2.jpg")
    assert cosine(in_a, obama) > cosine(in_a, hopper)  # Person B went into slot A
    assert cosine(in_b, hopper) > cosine(in_b, obama)


@pytest.mark.django_db
def test_api_accepts_swap_slots(django_user_model):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    concept = build_concept()
    partner = django_user_model.objects.create_user(email="p@example.com", password="x-Partner-2026", is_partner=True)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=partner).key}")
    response = api.post("/api/v1/jobs/", {"concept": concept.slug, "photos_a": [upload("obama.jpg")],
                                          "photos_b": [upload("biden.jpg")], "consent": "true",
                                          "swap_slots": "true"}, format="multipart")
    assert response.status_code == 201
    assert partner.jobs.get().swap_slots is True


def test_services_default_keeps_slots(db, user):
    concept = build_concept()
    consent = consent_record_create(user=user, partner_confirmed=True, ip_address=None)
    job = services.job_create(user=user, concept=concept, photos_a=[upload("obama.jpg")],
                              photos_b=[upload("biden.jpg")], consent=consent)
    assert job.swap_slots is False
