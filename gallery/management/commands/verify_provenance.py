"""``manage.py verify_provenance FILE [FILE ...]``: which AI labels does an image carry?

Reports the IPTC/XMP DigitalSourceType, the EXIF "AI-edited" note, the C2PA manifest (and its
validation codes), and the invisible watermark's payload with the Result row it points to."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from engine import decode_image, provenance
from gallery.selectors import result_find_by_id_prefix


def inspect_file(path: Path) -> dict:
    data = path.read_bytes()
    report: dict = {"file": str(path)}
    is_jpeg = data[:2] == b"\xff\xd8"
    meta = provenance.read_metadata(data) if is_jpeg else provenance.MetadataReading()
    report["xmp_digital_source_type"] = meta.digital_source_type
    report["xmp_ai_labelled"] = meta.ai_labelled
    report["exif_note"] = meta.exif_note
    c2pa = provenance.c2pa_read(data) if is_jpeg else provenance.C2paReading()
    report["c2pa"] = {
        "present": c2pa.present,
        "digital_source_type": c2pa.digital_source_type,
        "result_id": c2pa.result_id,
        "signer": c2pa.signer,
        "validation": c2pa.validation,
        "error": c2pa.error,
    }
    mark = provenance.read_mark(decode_image(data))
    report["watermark"] = {"found": mark.found, "payload": mark.prefix, "sync": round(mark.sync, 3)}
    result = result_find_by_id_prefix(prefix=mark.prefix) if mark.found else None
    report["watermark"]["result"] = str(result.public_id) if result else None
    report["watermark"]["matches_result"] = result is not None
    return report


def _yes(value) -> str:
    return "yes" if value else "no"


class Command(BaseCommand):
    help = "Report the AI-provenance labels (XMP/IPTC, EXIF, C2PA, invisible watermark) of image files."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--json", action="store_true", help="Print one JSON object per file.")

    def handle(self, *args, files, **options):
        for path in files:
            if not path.is_file():
                raise CommandError(f"No such file: {path}")
            report = inspect_file(path)
            if options["json"]:
                self.stdout.write(json.dumps(report, ensure_ascii=False))
                continue
            c2pa, mark = report["c2pa"], report["watermark"]
            self.stdout.write(self.style.MIGRATE_HEADING(str(path)))
            self.stdout.write(f"  XMP DigitalSourceType: {report['xmp_digital_source_type'] or 'none'}")
            self.stdout.write(f"  EXIF AI note:          {report['exif_note'] or 'none'}")
            if c2pa["present"]:
                codes = ", ".join(c2pa["validation"]) or "valid"
                self.stdout.write(
                    f"  C2PA manifest:         yes (signed by {c2pa['signer']}; {codes}); "
                    f"digitalSourceType {c2pa['digital_source_type']}"
                )
            else:
                self.stdout.write(f"  C2PA manifest:         no{' (' + c2pa['error'] + ')' if c2pa['error'] else ''}")
            if mark["found"]:
                match = f"matches result {mark['result']}" if mark["matches_result"] else "no matching result"
                self.stdout.write(f"  Invisible watermark:   {mark['payload']} ({match})")
            else:
                self.stdout.write(f"  Invisible watermark:   not found (sync {mark['sync']})")
            labelled = report["xmp_ai_labelled"] or c2pa["present"] or mark["found"]
            self.stdout.write(f"  Labelled as AI-made:   {_yes(labelled)}")
