"""Scene intake (issue 11 item 2): a scene is accepted only with exactly two usable faces, enough
pixels between the eyes, not in profile; the admin form refuses anything else with a clear error and
saves nothing; accepted scenes get slots A/B from the detector; pages show which figure is A and B.
Real pictures throughout: the shipped demo scenes and the public-domain test portraits."""

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engine import decode_image, encode_jpeg, get_engine
from engine.landmarks import Landmarks
from gallery.models import Concept, Scene
from gallery.scene_intake import SCENE_MAX_YAW, check_scene, face_problem
from tests.builders import portrait_bytes

PACK = Path(__file__).resolve().parents[2] / "gallery" / "demo_scenes"


def _scene(name: str) -> np.ndarray:
    return decode_image((PACK / name).read_bytes())


def _jpeg_upload(img: np.ndarray, name: str = "scene.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, encode_jpeg(img, quality=92), content_type="image/jpeg")


def _turned(lm: Landmarks, degrees: float) -> Landmarks:
    """The same face mesh rotated about the vertical axis through its centre (a head turned sideways)."""
    p = lm.pts.astype(np.float64).copy()
    c = p[:468].mean(0)
    t = math.radians(degrees)
    x, z = p[:, 0] - c[0], p[:, 2] - c[2]
    p[:, 0] = c[0] + x * math.cos(t) + z * math.sin(t)
    p[:, 2] = c[2] - x * math.sin(t) + z * math.cos(t)
    return Landmarks(p.astype(np.float32))


@pytest.fixture(autouse=True)
def _english():
    """The messages below are asserted in English (the site's default language is Korean)."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def engine():
    return get_engine(diagnostics=False)


# -- the rule ------------------------------------------------------------------------------------------


def test_the_rule_on_real_landmarks_turned_into_profile(engine):
    img = _scene("uniportrait_two_women_studio.png")
    face = max(engine.inspect(img), key=lambda f: f.area)
    lm = engine.landmarks(img, face)
    assert lm is not None
    yaw = lm.pose()[0]
    assert abs(yaw) < 20 and face_problem(eye_distance=face.eye_distance, pose=lm.pose(), min_eye=60) is None
    turned = _turned(lm, 60 if yaw >= 0 else -60).pose()
    assert abs(turned[0]) > SCENE_MAX_YAW
    assert face_problem(eye_distance=face.eye_distance, pose=turned, min_eye=60) == "profile"
    assert face_problem(eye_distance=40, pose=lm.pose(), min_eye=60) == "too_small"
    assert face_problem(eye_distance=face.eye_distance, pose=None, min_eye=60) == "no_mesh"


@pytest.mark.parametrize("name", sorted(p.name for p in PACK.iterdir() if p.suffix in (".jpg", ".png")))
def test_every_shipped_scene_is_accepted_with_a_left_and_a_right_slot(engine, name):
    check = check_scene(image=_scene(name), engine=engine, min_eye=60)
    assert check.ok, check.errors
    a, b = check.slots
    assert a[0] + a[2] / 2 < b[0] + b[2] / 2  # no hint: A is the left face
    assert all(sf.eye_distance >= 60 and abs(sf.yaw) <= SCENE_MAX_YAW for sf in check.faces)


def test_the_hint_decides_which_face_is_a(engine):
    check = check_scene(image=_scene("xverse_couple_mw_cheek.jpg"), engine=engine, hint="right", min_eye=60)
    assert check.ok and check.slots[0][0] > check.slots[1][0]


def test_a_one_person_portrait_is_refused(engine):
    check = check_scene(image=decode_image(portrait_bytes("obama.jpg")), engine=engine, min_eye=60)
    assert not check.ok and check.slots == []
    assert "exactly two people; 1 faces" in " ".join(check.errors)
    from django.utils import translation

    with translation.override("ko"):
        check = check_scene(image=decode_image(portrait_bytes("obama.jpg")), engine=engine, min_eye=60)
    assert "장면에는 정확히 두 사람이 있어야 해요" in check.errors[0]


def test_tiny_faces_are_refused_with_the_measured_distance(engine):
    small = cv2.resize(_scene("xverse_couple_mw_cheek.jpg"), (320, 320), interpolation=cv2.INTER_AREA)
    check = check_scene(image=small, engine=engine, min_eye=60)
    assert len(check.faces) == 2 and not check.ok
    assert all(sf.problem == "too_small" for sf in check.faces)
    assert "at least 60 px are needed" in check.errors[0] and "The left face is too small" in check.errors[0]


def test_a_face_in_profile_is_refused(engine):
    class TurnedRight:
        """The real engine, except that the right-hand face's mesh is turned 65 degrees."""

        def inspect(self, img):
            return engine.inspect(img)

        def landmarks(self, img, face):
            lm = engine.landmarks(img, face)
            return _turned(lm, 65) if face.center[0] > img.shape[1] / 2 else lm

    check = check_scene(image=_scene("xverse_couple_mw_cheek.jpg"), engine=TurnedRight(), min_eye=60)
    assert not check.ok
    assert [sf.problem for sf in check.faces] == [None, "profile"]
    assert "The right face is turned too far" in check.errors[0]


# -- the admin -----------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, django_user_model, password):
    client.force_login(django_user_model.objects.create_superuser(email="curator@example.com", password=password))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def concept(db):
    return Concept.objects.create(slug="studio", name_ko="스튜디오", name_en="Studio", is_published=True)


def _add(staff_client, concept, upload, **extra):
    return staff_client.post(reverse("admin:gallery_scene_add"), {
        "concept": concept.pk, "title": "New scene", "order": 0, "is_published": "on", "image": upload,
        "slot_hint": "", "slot_a": "", "slot_a_label": "A", "slot_b": "", "slot_b_label": "B", **extra,
    })


def _stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.django_db
def test_admin_refuses_a_one_face_portrait_and_saves_nothing(staff_client, concept, _private_media):
    upload = SimpleUploadedFile("obama.jpg", portrait_bytes("obama.jpg"), content_type="image/jpeg")
    response = _add(staff_client, concept, upload)
    assert response.status_code == 200
    assert "A scene needs exactly two people; 1 faces of similar size were found." in response.content.decode()
    assert not Scene.objects.exists() and _stored_files(_private_media) == []


@pytest.mark.django_db
def test_admin_refuses_tiny_faces(staff_client, concept, _private_media):
    small = cv2.resize(_scene("xverse_couple_mw_outdoor.jpg"), (320, 320), interpolation=cv2.INTER_AREA)
    response = _add(staff_client, concept, _jpeg_upload(small))
    page = response.content.decode()
    assert response.status_code == 200 and "too small" in page and "at least 60 px are needed" in page
    assert not Scene.objects.exists() and _stored_files(_private_media) == []


@pytest.mark.django_db
def test_admin_accepts_a_two_person_scene_with_detected_slots_and_shows_them(staff_client, concept, engine):
    img = _scene("xverse_couple_mw_outdoor.jpg")
    # the slots typed into the form are ignored: a new picture always gets the detector's slots
    response = _add(staff_client, concept, _jpeg_upload(img), slot_a="[0, 0, 0.1, 0.1]", slot_hint="right")
    assert response.status_code == 302, response.content.decode()[-3000:]
    scene = Scene.objects.get()
    expected = check_scene(image=img, engine=engine, hint="right").slots  # (the upload was JPEG re-encoded)
    assert scene.slot_a == pytest.approx(expected[0], abs=0.01) and scene.slot_b == pytest.approx(expected[1], abs=0.01)
    assert scene.slot_a[0] > scene.slot_b[0]  # the hint: A is the right-hand face
    with scene.image.open("rb") as fh:
        assert fh.read(2) == b"\xff\xd8"
    assert scene.thumbnail

    page = staff_client.get(reverse("admin:gallery_scene_change", args=[scene.pk])).content.decode()
    assert 'class="lls-slot-preview"' in page
    assert "Faces the detector finds in this picture now:" in page
    assert page.count("px between the eyes") >= 2 and "<b>A</b>" in page and "<b>B</b>" in page

    # replacing the picture with a one-face portrait is refused: the scene keeps its picture and slots
    before = (scene.image.name, scene.slot_a)
    response = staff_client.post(reverse("admin:gallery_scene_change", args=[scene.pk]), {
        "concept": concept.pk, "title": "New scene", "order": 0, "is_published": "on", "slot_hint": "right",
        "image": SimpleUploadedFile("obama.jpg", portrait_bytes("obama.jpg"), content_type="image/jpeg"),
        "slot_a": str(scene.slot_a).replace("'", '"'), "slot_a_label": "A",
        "slot_b": str(scene.slot_b).replace("'", '"'), "slot_b_label": "B",
    })
    assert response.status_code == 200 and "exactly two people" in response.content.decode()
    scene.refresh_from_db()
    assert (scene.image.name, scene.slot_a) == before and scene.image.storage.exists(before[0])


@pytest.mark.django_db
def test_concept_inline_cannot_add_unchecked_scenes(staff_client, concept):
    page = staff_client.get(reverse("admin:gallery_concept_change", args=[concept.pk])).content.decode()
    assert 'name="scenes-0-image"' not in page and 'name="scenes-__prefix__-image"' not in page


# -- which figure is A and which is B, on the pages --------------------------------------------------


@pytest.mark.django_db
def test_concept_cards_and_the_upload_form_mark_figures_a_and_b(client, user, engine):
    import re

    from gallery.services import scene_create

    img = _scene("xverse_couple_mw_cheek.jpg")
    concept = Concept.objects.create(slug="cheek", name_ko="볼 맞대고", name_en="Cheek", is_published=True)
    check = check_scene(image=img, engine=engine, hint="right")
    scene = scene_create(concept=concept, image=img, title="Cheek", slots=check.slots, published=True)
    thumb_w = scene.thumbnail.width
    client.force_login(user)
    for url in (reverse("home"), reverse("gallery:concepts"), reverse("studio:job-new")):
        page = client.get(url).content.decode()
        block = page[page.index('data-testid="scene-slots"'):]
        block = block[:block.index("</span>\n</span>") if "</span>\n</span>" in block else 4000]
        assert f'viewBox="0 0 {thumb_w} ' in block, url
        assert 'preserveAspectRatio="xMidYMid slice"' in block
        cx = {m[1]: float(m[0]) for m in re.findall(r'cx="([\d.]+)" cy="[\d.]+" r="[\d.]+" data-slot="([AB])"', block)}
        # the hint made the right-hand face slot A: its badge is drawn right of B's, over the face box
        assert set(cx) == {"A", "B"} and cx["A"] > cx["B"], url
        assert abs(cx["A"] - (scene.slot_a[0] + scene.slot_a[2] / 2) * thumb_w) < 1.0
        assert ">A</text>" in block and ">B</text>" in block
        assert "style=" not in block and "<script" not in block  # strict CSP: no inline style or script
    assert client.get("/static/css/slots.css").status_code == 200
