"""AI-made labels in the file's metadata: IPTC/XMP (DigitalSourceType) and EXIF."""

from __future__ import annotations

import datetime as _dt
import io
import re
import struct
from dataclasses import dataclass

DIGITAL_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
AI_NOTE = "AI-edited: faces composited into this photo by LoveLoveShot (trained algorithmic media)."
AI_NOTE_KO = "AI 합성 이미지: LoveLoveShot이 얼굴을 합성했습니다."
SOFTWARE = "LoveLoveShot"


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


