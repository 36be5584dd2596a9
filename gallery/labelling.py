"""Every result is labelled as AI-made in one place, when it is stored (gallery.services.result_create).

* Standard plan: a small visible "AI 합성 · 7KQ3M0ZD" / "AI-edited · 7KQ3M0ZD" corner label with the
  photo's short code (in the job's language). Premium: no visible label.
* The short code is also in the XMP/EXIF descriptions, for the public removal-request page.
* Every result: the invisible watermark carrying the result id, IPTC/XMP
  ``DigitalSourceType = compositeWithTrainedAlgorithmicMedia``, EXIF ImageDescription/UserComment
  "AI-edited", and a signed C2PA manifest (operator certificate, or a local test CA).

The pixel and metadata work lives in the Django-free ``engine.provenance``."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings

from engine import provenance
from engine.io import encode_jpeg, resize_max

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_credentials: provenance.C2paCredentials | None = None


@dataclass
class LabelledImage:
    jpeg: bytes
    thumb_jpeg: bytes
    width: int
    height: int
    visible_mark: bool
    c2pa: bool


def c2pa_credentials() -> provenance.C2paCredentials | None:
    """The operator's certificate chain + key (LLS_C2PA_CERT / LLS_C2PA_KEY), or a local test CA
    generated once and kept in VAR_DIR/c2pa/. None when signing is switched off or unavailable."""
    global _credentials
    if not settings.C2PA_SIGN or not provenance.c2pa_available():
        return None
    with _lock:
        if _credentials is not None:
            return _credentials
        if settings.C2PA_CERT_FILE and settings.C2PA_KEY_FILE:
            _credentials = provenance.C2paCredentials(
                Path(settings.C2PA_CERT_FILE).read_bytes(), Path(settings.C2PA_KEY_FILE).read_bytes()
            )
            return _credentials
        folder = Path(settings.VAR_DIR) / "c2pa"
        chain, key = folder / "test-chain.pem", folder / "test-key.pem"
        if chain.is_file() and key.is_file():
            _credentials = provenance.C2paCredentials(chain.read_bytes(), key.read_bytes())
        else:
            _credentials = provenance.generate_test_credentials()
            folder.mkdir(parents=True, exist_ok=True)
            chain.write_bytes(_credentials.cert_chain_pem)
            key.touch(mode=0o600)
            key.write_bytes(_credentials.key_pem)
            logger.info("Generated a local C2PA test certificate in %s", folder)
        return _credentials


# The visible label names the photo by its short code (gallery.codes), which anyone pictured can
# quote on the public removal page; the brand stays in the metadata. (Brand + code made the label so
# wide that the photo's PSNR guard in tests/integration/test_labelling.py failed.)
VISIBLE_LABEL = {"ko": "AI 합성 · {code}", "en": "AI-edited · {code}"}


def visible_label(language: str | None, code: str) -> str:
    return VISIBLE_LABEL["en" if (language or "ko").startswith("en") else "ko"].format(code=code)


def label_result(
    *, image: np.ndarray, result_id, plan: str, language: str, max_side: int, thumb_side: int
) -> LabelledImage:
    """The stored JPEG (and thumbnail) of one result, labelled as AI-made."""
    from .codes import result_code

    code = result_code(result_id)  # quoted on the public removal page (gallery:removal-request)
    full, _ = resize_max(image, max_side)
    visible = plan != "premium"
    if visible:
        full = provenance.add_visible_mark(full, visible_label(language, code))
    full = provenance.embed_mark(full, provenance.payload_for(result_id))
    jpeg = provenance.add_metadata(encode_jpeg(full, quality=92), result_id=str(result_id), code=code)
    signed = False
    credentials = c2pa_credentials()
    if credentials is not None:
        try:
            jpeg = provenance.c2pa_sign(jpeg, credentials=credentials, result_id=str(result_id))
            signed = True
        except Exception:  # the XMP/EXIF labels and the watermark are still there
            logger.exception("C2PA signing failed for result %s", result_id)
    small, _ = resize_max(full, thumb_side)
    thumb = provenance.add_metadata(encode_jpeg(small, quality=85), result_id=str(result_id), code=code)
    return LabelledImage(
        jpeg=jpeg, thumb_jpeg=thumb, width=full.shape[1], height=full.shape[0], visible_mark=visible, c2pa=signed
    )
