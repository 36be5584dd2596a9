"""Labelling generated images as AI-made: visible mark, IPTC/XMP + EXIF metadata, an invisible
watermark carrying the result id, and an optional signed C2PA manifest. Django-free (numpy/cv2/PIL).

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

from __future__ import annotations

import binascii
import datetime as _dt
import io
import json
import os
import re
import struct
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
AI_NOTE = "AI-edited: faces composited into this photo by LoveLoveShot (trained algorithmic media)."
AI_NOTE_KO = "AI 합성 이미지: LoveLoveShot이 얼굴을 합성했습니다."
SOFTWARE = "LoveLoveShot"
VISIBLE_TEXT = {"ko": "AI 합성 · LoveLoveShot", "en": "AI-edited · LoveLoveShot"}

# --- visible mark ---------------------------------------------------------------------------------

FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf",
    "/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
)


def visible_text(language: str | None) -> str:
    return VISIBLE_TEXT["en"] if (language or "ko").startswith("en") else VISIBLE_TEXT["ko"]


def _font(size: int, text: str):
    from PIL import ImageFont

    paths = [os.environ.get("LLS_WATERMARK_FONT", "")] + list(FONT_CANDIDATES)
    for path in paths:
        if path and Path(path).is_file():
            try:
                return ImageFont.truetype(path, size=size, index=0), text
            except OSError:
                continue
    # No CJK font on this machine: Pillow's bundled font has Latin glyphs only.
    return ImageFont.load_default(size=size), text if text.isascii() else VISIBLE_TEXT["en"]


def add_visible_mark(img: np.ndarray, text: str) -> np.ndarray:
    """A small, soft label in the bottom-right corner: white text on a translucent dark pill."""
    from PIL import Image, ImageDraw

    h, w = img.shape[:2]
    size = max(12, round(min(h, w) * 0.026))
    font, text = _font(size, text)
    base = Image.fromarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)).convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    tw, th = right - left, bottom - top
    pad_x, pad_y, margin = round(size * 0.7), round(size * 0.4), round(size * 0.8)
    x1, y1 = w - margin, h - margin
    x0, y0 = x1 - tw - 2 * pad_x, y1 - th - 2 * pad_y
    draw.rounded_rectangle((x0, y0, x1, y1), radius=(y1 - y0) // 2, fill=(30, 20, 20, 92))
    draw.text((x0 + pad_x - left, y0 + pad_y - top), text, font=font, fill=(255, 255, 255, 215))
    out = Image.alpha_composite(base, overlay).convert("RGB")
    return cv2.cvtColor(np.asarray(out), cv2.COLOR_RGB2BGR)


# --- invisible mark -------------------------------------------------------------------------------

BLOCK = 32
TILE = 10
QIM_STEP = 40.0
COEFFS = ((0, 1), (1, 0), (1, 1), (0, 2))
PAYLOAD_BYTES = 8
SYNC_MIN = 0.5  # unmarked photos score ~0.25, marked ones > 0.9 even after JPEG q75
_N_CELLS = TILE * TILE
_N_DATA = PAYLOAD_BYTES * 8 + 16
_rng = np.random.default_rng(0x4C4C53)  # fixed: the layout is part of the format
_SYNC_CELLS = np.sort(_rng.choice(_N_CELLS, _N_CELLS - _N_DATA, replace=False))
_DATA_CELLS = np.setdiff1d(np.arange(_N_CELLS), _SYNC_CELLS)
_SYNC_BITS = _rng.integers(0, 2, _SYNC_CELLS.size)
_WHITEN = _rng.integers(0, 2, _N_DATA)
_SCALES = (1.0, 2.0, 1.5, 4 / 3, 1.25, 0.5, 0.8)


def _dct_basis(n: int) -> np.ndarray:
    k = np.arange(n)
    basis = np.cos(np.pi * (2 * k[None, :] + 1) * k[:, None] / (2 * n)) * np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return basis  # rows: frequencies (orthonormal DCT-II)


_D = _dct_basis(BLOCK)
_KERNELS = [np.outer(_D[u], _D[v]).astype(np.float32) for u, v in COEFFS]


def payload_for(result_id) -> bytes:
    """The 8 bytes carried for a result: the first 64 bits of its UUID."""
    return uuid.UUID(str(result_id)).bytes[:PAYLOAD_BYTES]


def payload_prefix(payload: bytes) -> str:
    """The hyphenated UUID prefix these bytes stand for (``xxxxxxxx-xxxx-xxxx``)."""
    h = payload.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}"


def _tile_bits(payload: bytes) -> np.ndarray:
    if len(payload) != PAYLOAD_BYTES:
        raise ValueError(f"payload must be {PAYLOAD_BYTES} bytes")
    crc = binascii.crc_hqx(payload, 0xFFFF).to_bytes(2, "big")
    data = np.unpackbits(np.frombuffer(payload + crc, np.uint8)) ^ _WHITEN
    bits = np.zeros(_N_CELLS, np.uint8)
    bits[_DATA_CELLS] = data
    bits[_SYNC_CELLS] = _SYNC_BITS
    return bits.reshape(TILE, TILE)


def embed_mark(img: np.ndarray, payload: bytes, *, step: float = QIM_STEP) -> np.ndarray:
    """Write ``payload`` (8 bytes) invisibly into the luma of a BGR uint8 image."""
    bits = _tile_bits(payload)
    ycc = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb).astype(np.float32)
    y = ycc[..., 0]
    nby, nbx = y.shape[0] // BLOCK, y.shape[1] // BLOCK
    if nby == 0 or nbx == 0:
        return img.copy()
    blocks = y[: nby * BLOCK, : nbx * BLOCK].reshape(nby, BLOCK, nbx, BLOCK).transpose(0, 2, 1, 3)
    coef = _D @ blocks @ _D.T  # (nby, nbx, B, B) orthonormal 2-D DCT per block
    cell_bits = bits[np.arange(nby)[:, None] % TILE, np.arange(nbx)[None, :] % TILE].astype(np.float32)
    offset = cell_bits * (step / 2)
    for u, v in COEFFS:
        c = coef[:, :, u, v]
        coef[:, :, u, v] = np.round((c - offset) / step) * step + offset
    blocks = _D.T @ coef @ _D
    y[: nby * BLOCK, : nbx * BLOCK] = blocks.transpose(0, 2, 1, 3).reshape(nby * BLOCK, nbx * BLOCK)
    ycc[..., 0] = y
    return cv2.cvtColor(np.clip(np.round(ycc), 0, 255).astype(np.uint8), cv2.COLOR_YCrCb2BGR)


@dataclass
class MarkReading:
    payload: bytes | None
    sync: float = 0.0  # mean agreement of the sync bits (1.0 = perfect, ~0 = noise)
    scale: float = 1.0
    phase: tuple[int, int] = (0, 0)

    @property
    def found(self) -> bool:
        return self.payload is not None

    @property
    def prefix(self) -> str | None:
        return payload_prefix(self.payload) if self.payload else None


def _soft_maps(y: np.ndarray, step: float) -> np.ndarray:
    """Soft bit per top-left pixel position: +1 ≈ bit 0, -1 ≈ bit 1 (mean over the coefficients)."""
    acc = np.zeros_like(y)
    for kernel in _KERNELS:
        resp = cv2.filter2D(y, cv2.CV_32F, kernel, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
        acc += np.cos(2 * np.pi * resp / step)
    return acc / len(_KERNELS)


def _read_at_scale(y: np.ndarray, step: float, phase_step: int) -> MarkReading:
    h, w = y.shape
    nby, nbx = (h - BLOCK) // BLOCK + 1, (w - BLOCK) // BLOCK + 1
    if nby < 2 or nbx < 2:
        return MarkReading(None)
    soft = _soft_maps(y, step)
    sync_t = np.zeros((TILE, TILE), np.float32)
    sync_t.flat[_SYNC_CELLS] = 1.0 - 2.0 * _SYNC_BITS  # expected soft sign of each sync cell
    sync_f = np.conj(np.fft.fft2(sync_t))
    cell_of = ((np.arange(nby) % TILE)[:, None] * TILE + (np.arange(nbx) % TILE)[None, :]).astype(np.intp)
    best = (-np.inf, None, None, None)
    for dy in range(0, BLOCK, phase_step):
        for dx in range(0, BLOCK, phase_step):
            grid = soft[dy : dy + (nby - 1) * BLOCK + 1 : BLOCK, dx : dx + (nbx - 1) * BLOCK + 1 : BLOCK]
            gy, gx = grid.shape
            if gy < 1 or gx < 1:
                continue
            cells = cell_of[:gy, :gx].ravel()
            sums = np.bincount(cells, weights=grid.ravel(), minlength=_N_CELLS)
            counts = np.bincount(cells, minlength=_N_CELLS)
            folded = (sums / np.maximum(counts, 1)).reshape(TILE, TILE)
            # corr[s] = sum_c folded[c + s] * sync[c]: visible cell c + s holds tile cell c
            corr = np.real(np.fft.ifft2(np.fft.fft2(folded) * sync_f))
            idx = np.unravel_index(int(np.argmax(corr)), corr.shape)
            score = float(corr[idx]) / _SYNC_CELLS.size
            if score > best[0]:
                best = (score, folded, idx, (dy, dx))
    score, folded, idx, phase = best
    if folded is None:
        return MarkReading(None)
    tile = np.roll(folded, shift=(-idx[0], -idx[1]), axis=(0, 1))
    # sanity: the sync cells read right in the aligned tile
    sync_score = float(np.mean(tile.flat[_SYNC_CELLS] * (1.0 - 2.0 * _SYNC_BITS)))
    data = (tile.flat[_DATA_CELLS] < 0).astype(np.uint8) ^ _WHITEN
    raw = np.packbits(data).tobytes()
    payload, crc = raw[:PAYLOAD_BYTES], raw[PAYLOAD_BYTES:]
    ok = binascii.crc_hqx(payload, 0xFFFF).to_bytes(2, "big") == crc and sync_score > SYNC_MIN
    return MarkReading(payload if ok else None, sync=max(score, sync_score), phase=phase)


def read_mark(img: np.ndarray, *, step: float = QIM_STEP, phase_step: int = 1) -> MarkReading:
    """Blind read of the invisible mark from a BGR image (any size, possibly cropped/rescaled)."""
    y0 = cv2.cvtColor(img, cv2.COLOR_BGR2YCrCb)[..., 0].astype(np.float32)
    best = MarkReading(None)
    for scale in _SCALES:
        if scale == 1.0:
            y = y0
        else:
            size = (round(y0.shape[1] * scale), round(y0.shape[0] * scale))
            y = cv2.resize(y0, size, interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
        reading = _read_at_scale(y, step, phase_step)
        reading.scale = scale
        if reading.found:
            return reading
        if reading.sync > best.sync:
            best = reading
    return best


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


# --- EXIF + XMP -----------------------------------------------------------------------------------

XMP_HEADER = b"http://ns.adobe.com/xap/1.0/\x00"
EXIF_HEADER = b"Exif\x00\x00"


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _with_code(note: str, code: str, label: str = "Photo code") -> str:
    """The note plus the short photo code (gallery.codes) a pictured person quotes to ask for removal."""
    return f"{note} {label}: {code}" if code else note


def xmp_packet(*, result_id: str, created: _dt.datetime | None = None, code: str = "") -> bytes:
    created = created or _dt.datetime.now(_dt.UTC)
    xmp = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    Iptc4xmpExt:DigitalSourceType="{DIGITAL_SOURCE_TYPE}"
    xmp:CreatorTool="{SOFTWARE}"
    xmp:CreateDate="{created.strftime("%Y-%m-%dT%H:%M:%SZ")}"
    xmpMM:DocumentID="urn:uuid:{_xml(result_id)}">
   <dc:description>
    <rdf:Alt>
     <rdf:li xml:lang="x-default">{_xml(_with_code(AI_NOTE, code))}</rdf:li>
     <rdf:li xml:lang="ko">{_xml(_with_code(AI_NOTE_KO, code, "사진 코드"))}</rdf:li>
    </rdf:Alt>
   </dc:description>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xmp.encode("utf-8")


def exif_block(code: str = "") -> bytes:
    from PIL import Image

    note = _with_code(AI_NOTE, code)
    exif = Image.Exif()
    exif[0x010E] = note  # ImageDescription
    exif[0x0131] = SOFTWARE  # Software
    exif.get_ifd(0x8769)[0x9286] = b"ASCII\x00\x00\x00" + note.encode("ascii")  # UserComment
    data = exif.tobytes()
    return data if data.startswith(EXIF_HEADER) else EXIF_HEADER + data


def _segment(marker: int, body: bytes) -> bytes:
    if len(body) + 2 > 0xFFFF:
        raise ValueError("JPEG segment too large")
    return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body


def _segments(jpeg: bytes):
    """(marker, start, end) of each header segment up to SOS."""
    if jpeg[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG")
    pos = 2
    while pos + 4 <= len(jpeg):
        if jpeg[pos] != 0xFF:
            break
        marker = jpeg[pos + 1]
        if marker == 0xDA:  # start of scan: pixel data follows
            break
        length = struct.unpack(">H", jpeg[pos + 2 : pos + 4])[0]
        yield marker, pos, pos + 2 + length
        pos += 2 + length


def add_metadata(jpeg: bytes, *, result_id: str, code: str = "") -> bytes:
    """Insert EXIF (ImageDescription/UserComment "AI-edited", with the photo code when given) and the
    XMP packet after SOI/APP0, replacing any EXIF/XMP already there."""
    keep, insert_at = [], 2
    for marker, start, end in _segments(jpeg):
        body = jpeg[start + 4 : end]
        if marker == 0xE1 and (body.startswith(EXIF_HEADER) or body.startswith(XMP_HEADER)):
            keep.append((start, end))
            continue
        if marker == 0xE0 and insert_at == start:
            insert_at = end
    out = bytearray(jpeg)
    for start, end in reversed(keep):
        del out[start:end]
        if start < insert_at:
            insert_at -= end - start
    new = _segment(0xE1, exif_block(code)) + _segment(
        0xE1, XMP_HEADER + xmp_packet(result_id=result_id, code=code)
    )
    return bytes(out[:insert_at]) + new + bytes(out[insert_at:])


@dataclass
class MetadataReading:
    digital_source_type: str | None = None
    xmp_description: str | None = None
    exif_description: str | None = None
    exif_user_comment: str | None = None
    exif_software: str | None = None

    @property
    def ai_labelled(self) -> bool:
        return self.digital_source_type == DIGITAL_SOURCE_TYPE

    @property
    def exif_note(self) -> str | None:
        for text in (self.exif_description, self.exif_user_comment):
            if text and "AI" in text:
                return text
        return None


def read_metadata(jpeg: bytes) -> MetadataReading:
    reading = MetadataReading()
    xmp = b""
    for marker, start, end in _segments(jpeg):
        body = jpeg[start + 4 : end]
        if marker == 0xE1 and body.startswith(XMP_HEADER):
            xmp += body[len(XMP_HEADER) :]
    if xmp:
        text = xmp.decode("utf-8", "replace")
        m = re.search(r'DigitalSourceType(?:="([^"]*)"|>\s*([^<\s]+)\s*<)', text)
        if m:
            reading.digital_source_type = m.group(1) or m.group(2)
        d = re.search(r'<dc:description>.*?<rdf:li xml:lang="x-default">(.*?)</rdf:li>', text, re.S)
        if d:
            reading.xmp_description = d.group(1)
    try:
        from PIL import Image

        with Image.open(io.BytesIO(jpeg)) as im:
            exif = im.getexif()
            reading.exif_description = exif.get(0x010E)
            reading.exif_software = exif.get(0x0131)
            comment = exif.get_ifd(0x8769).get(0x9286)
            if isinstance(comment, bytes):
                comment = comment[8:].decode("ascii", "replace") if len(comment) > 8 else None
            reading.exif_user_comment = comment
    except Exception:  # unreadable EXIF: report what the XMP says
        pass
    return reading


# --- C2PA -----------------------------------------------------------------------------------------


@dataclass
class C2paCredentials:
    cert_chain_pem: bytes
    key_pem: bytes


def c2pa_available() -> bool:
    try:
        import c2pa  # noqa: F401
    except Exception:
        return False
    return True


def generate_test_credentials(*, organisation: str = "LoveLoveShot (test)") -> C2paCredentials:
    """A local test CA and an ES256 signing certificate it issued (C2PA rejects self-signed leaf
    certificates). Readers report it as *untrusted*, which is right for a test certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} root"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    no_usage = dict(
        content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
        encipher_only=False, decipher_only=False,
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **no_usage), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} result signer"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **no_usage), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return C2paCredentials(
        cert_chain_pem=cert.public_bytes(pem) + ca.public_bytes(pem),
        key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def c2pa_manifest_definition(*, result_id: str, title: str = "loveloveshot.jpg") -> dict:
    return {
        "claim_generator_info": [{"name": SOFTWARE, "version": "1"}],
        "title": title,
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": DIGITAL_SOURCE_TYPE,
                            "softwareAgent": {"name": SOFTWARE},
                            "description": AI_NOTE,
                        }
                    ]
                },
            },
            {"label": "org.loveloveshot.result", "data": {"result_id": result_id}},
        ],
    }


def c2pa_sign(jpeg: bytes, *, credentials: C2paCredentials, result_id: str) -> bytes:
    """Embed a signed C2PA manifest (no embedded thumbnail: the result is the picture)."""
    import c2pa

    settings = c2pa.Settings.from_json(json.dumps({"builder": {"thumbnail": {"enabled": False}}}))
    context = c2pa.Context(settings=settings)
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, credentials.cert_chain_pem, credentials.key_pem, None)
    )
    with c2pa.Builder(c2pa_manifest_definition(result_id=result_id), context=context) as builder:
        dest = io.BytesIO()
        builder.sign(signer, "image/jpeg", io.BytesIO(jpeg), dest)
    return dest.getvalue()


@dataclass
class C2paReading:
    present: bool = False
    error: str | None = None
    digital_source_type: str | None = None
    result_id: str | None = None
    signer: str | None = None
    validation: list[str] = field(default_factory=list)
    raw: dict | None = None


def c2pa_read(jpeg: bytes) -> C2paReading:
    try:
        import c2pa
    except Exception as exc:  # pragma: no cover - c2pa-python is a base requirement
        return C2paReading(error=f"c2pa-python unavailable: {exc}")
    try:
        reader = c2pa.Reader("image/jpeg", io.BytesIO(jpeg))
        data = json.loads(reader.json())
    except Exception as exc:
        text = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "not found" in text.lower() or "JumbfNotFound" in text:
            return C2paReading()
        return C2paReading(error=text[:300])
    manifest = (data.get("manifests") or {}).get(data.get("active_manifest") or "", {})
    reading = C2paReading(present=bool(manifest), raw=data)
    for assertion in manifest.get("assertions", []):
        label = assertion.get("label", "")
        if label.startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                reading.digital_source_type = action.get("digitalSourceType") or reading.digital_source_type
        if label == "org.loveloveshot.result":
            reading.result_id = assertion.get("data", {}).get("result_id")
    sig = manifest.get("signature_info") or {}
    reading.signer = ", ".join(x for x in (sig.get("common_name"), sig.get("issuer")) if x) or None
    reading.validation = [s.get("code", "") for s in data.get("validation_status", [])]
    return reading
