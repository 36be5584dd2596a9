"""Every stored result is labelled as AI-made: visible corner label on Standard only (in the job's
language), XMP DigitalSourceType + EXIF note, a signed C2PA manifest, and an invisible watermark that
``manage.py verify_provenance`` reads back to the Result row."""

import io
import json

import cv2
import numpy as np
import pytest
from django.core.management import call_command

from accounts.services import consent_record_create
from engine import provenance
from gallery.services import result_create
from studio import services
from tests.builders import build_concept, upload

pytestmark = pytest.mark.django_db


def _result(user, plan: str, language: str = "ko"):
    concept = build_concept(slug=f"labels-{plan}-{language}")
    job = services.job_create(
        user=user, concept=concept, photos_a=[upload("obama.jpg")], photos_b=[upload("grace_hopper.jpg")],
        consent=consent_record_create(user=user, partner_confirmed=True, ip_address="127.0.0.1"),
    )
    job.plan, job.language = plan, language  # what the job was made with decides the labels
    scene = concept.scenes.get()
    img = cv2.imread(scene.image.path)
    return result_create(job=job, scene=scene, variant=0, image=img, max_side=1600, thumb_side=480), img


def _corner_psnr(stored: np.ndarray, original: np.ndarray) -> float:
    h, w = stored.shape[:2]
    return provenance.psnr(stored[int(h * 0.85) :, int(w * 0.6) :], original[int(h * 0.85) :, int(w * 0.6) :])


@pytest.mark.parametrize("plan", ["standard", "premium"])
def test_every_result_carries_all_labels(user, plan):
    result, original = _result(user, plan)
    data = result.image.read()
    meta = provenance.read_metadata(data)
    assert meta.digital_source_type == provenance.DIGITAL_SOURCE_TYPE
    assert "AI-edited" in meta.exif_note
    c2pa = provenance.c2pa_read(data)
    assert c2pa.present and c2pa.result_id == str(result.public_id)
    assert c2pa.digital_source_type == provenance.DIGITAL_SOURCE_TYPE
    stored = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    mark = provenance.read_mark(stored)
    assert mark.found and str(result.public_id).startswith(mark.prefix)
    assert provenance.psnr(stored, original) > 30  # still the same photo
    thumb = result.thumbnail.read()
    assert provenance.read_metadata(thumb).ai_labelled
    if plan == "standard":
        assert _corner_psnr(stored, original) < 30  # a visible label in the corner
    else:
        assert _corner_psnr(stored, original) > 38  # no visible label on Premium


def test_visible_label_follows_the_job_language(user):
    ko, _ = _result(user, "standard", "ko")
    en, _ = _result(user, "standard", "en")
    a = cv2.imdecode(np.frombuffer(ko.image.read(), np.uint8), cv2.IMREAD_COLOR)
    b = cv2.imdecode(np.frombuffer(en.image.read(), np.uint8), cv2.IMREAD_COLOR)
    h, w = a.shape[:2]
    assert provenance.psnr(a[int(h * 0.85) :, int(w * 0.6) :], b[int(h * 0.85) :, int(w * 0.6) :]) < 30


def test_verify_provenance_reports_every_label_and_the_matching_result(user, tmp_path):
    result, _ = _result(user, "standard")
    path = tmp_path / "download.jpg"
    path.write_bytes(result.image.read())
    out = io.StringIO()
    call_command("verify_provenance", str(path), "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["xmp_digital_source_type"] == provenance.DIGITAL_SOURCE_TYPE
    assert "AI-edited" in report["exif_note"]
    assert report["c2pa"]["present"] and report["c2pa"]["result_id"] == str(result.public_id)
    assert report["watermark"]["found"] and report["watermark"]["result"] == str(result.public_id)
    assert report["watermark"]["matches_result"] is True

    # a screenshot-like copy (metadata stripped, downscaled, re-encoded) is still traced by the mark
    img = cv2.imread(str(path))
    small = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    stripped = tmp_path / "screenshot.jpg"
    cv2.imwrite(str(stripped), small, [cv2.IMWRITE_JPEG_QUALITY, 75])
    out = io.StringIO()
    call_command("verify_provenance", str(stripped), stdout=out)
    text = out.getvalue()
    assert "XMP DigitalSourceType: none" in text and "C2PA manifest:         no" in text
    assert f"matches result {result.public_id}" in text
