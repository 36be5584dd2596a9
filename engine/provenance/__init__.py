"""Labelling generated images as AI-made: visible mark, IPTC/XMP + EXIF metadata, an invisible
watermark carrying the result id, and an optional signed C2PA manifest. Django-free (numpy/cv2/PIL).

Modules: ``visible`` (the visible label), ``watermark`` (DCT-QIM invisible mark), ``metadata``
(XMP/EXIF), ``c2pa`` (manifest signing and reading). This package re-exports what callers use.

Order when a result is stored (``gallery.labelling.label_result``):
pixels → visible mark (Standard only) → invisible mark → JPEG → EXIF + XMP → C2PA (signs the file).

Invisible mark: we do not use the ``invisible-watermark`` package: its wheel depends on ``torch``
and ``opencv-python`` (which clashes with the ``opencv-python-headless`` pin), i.e. a multi-GB
install on the web tier for three small numpy routines. Instead: DCT-QIM in 32×32 luma blocks.

* Payload: 64 bits (the first 8 bytes of the result UUID) + CRC-16 = 80 data bits, whitened, plus
  20 sync bits at fixed places of a 10×10 tile of blocks. The tile repeats over the whole image, so
  every bit is written ~10× on a 1280 px result.
* Each block stores its tile cell's bit by quantisation-index modulation of four low-frequency DCT
  coefficients (step ``QIM_STEP``): low frequencies survive JPEG re-encoding and downscaling, and
  QIM does not suffer from the image's own content (no host interference).
* Reading is blind: for every block-grid phase (crops move the grid) and a few rescale factors
  (downscaled copies), coefficients are soft-decoded, folded onto the tile, the tile's cyclic shift
  is found from the sync bits, and the payload is accepted only if its CRC matches.
"""

from .c2pa import (
    C2paCredentials,
    C2paReading,
    c2pa_available,
    c2pa_manifest_definition,
    c2pa_read,
    c2pa_sign,
    generate_test_credentials,
)
from .metadata import (
    AI_NOTE,
    AI_NOTE_KO,
    DIGITAL_SOURCE_TYPE,
    SOFTWARE,
    MetadataReading,
    add_metadata,
    exif_block,
    read_metadata,
    xmp_packet,
)
from .visible import VISIBLE_TEXT, add_visible_mark, visible_text
from .watermark import QIM_STEP, MarkReading, embed_mark, payload_for, payload_prefix, psnr, read_mark

__all__ = [
    "AI_NOTE",
    "AI_NOTE_KO",
    "DIGITAL_SOURCE_TYPE",
    "QIM_STEP",
    "SOFTWARE",
    "VISIBLE_TEXT",
    "C2paCredentials",
    "C2paReading",
    "MarkReading",
    "MetadataReading",
    "add_metadata",
    "add_visible_mark",
    "c2pa_available",
    "c2pa_manifest_definition",
    "c2pa_read",
    "c2pa_sign",
    "embed_mark",
    "exif_block",
    "generate_test_credentials",
    "payload_for",
    "payload_prefix",
    "psnr",
    "read_mark",
    "read_metadata",
    "visible_text",
    "xmp_packet",
]
