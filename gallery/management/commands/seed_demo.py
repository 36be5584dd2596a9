"""Demo data: a demo couple account, an admin, a partner with an API token, and three concepts built
from the scene pack shipped in ``gallery/demo_scenes/`` (photoreal scenes of synthetic people,
Apache-2.0, see its SOURCES.md). Reads nothing outside the repository.

Refuses to run under production settings: it creates accounts whose password is printed in the
README. ``--allow-production`` lifts that only for a loopback-only stack (every ALLOWED_HOSTS entry is
127.0.0.1 / localhost / ::1), i.e. ``make prod-local``, never for a server with a public name.
"""

import os
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from gallery.models import Concept
from gallery.scene_intake import check_scene
from gallery.services import scene_create

DEMO_PASSWORD = "lovelove-demo-2026"
SCENES_DIR = Path(__file__).resolve().parents[2] / "demo_scenes"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Concepts of earlier versions of this command (scenes composed from portraits): unpublished on re-seed.
RETIRED_SLUGS = ("film-date", "han-river-picnic", "seoul-night")
CONCEPTS = [
    {
        "slug": "studio-portrait",
        "name_ko": "스튜디오 프로필",
        "name_en": "Studio Portrait",
        "description_ko": "밝은 회색 배경, 부드러운 조명의 스튜디오 커플 프로필.",
        "description_en": "A couple portrait on a light grey studio backdrop, soft light.",
        "scenes": [
            ("xverse_couple_mw_studio.jpg", "Studio, heads turned"),
            ("uniportrait_two_women_studio.png", "Studio, side by side"),
        ],
    },
    {
        "slug": "sunlit-outdoors",
        "name_ko": "햇살 야외",
        "name_en": "Sunlit Outdoors",
        "description_ko": "밝은 하늘을 등지고 햇살을 받으며 나란히.",
        "description_en": "Side by side outdoors, back-lit by a bright sky.",
        "scenes": [("xverse_couple_mw_outdoor.jpg", "Outdoors, back-lit")],
    },
    {
        "slug": "cheek-to-cheek",
        "name_ko": "볼 맞대고",
        "name_en": "Cheek to Cheek",
        "description_ko": "머리를 맞댄 다정한 커플 사진, 부드러운 스튜디오 조명.",
        "description_en": "Heads together, soft studio light.",
        "scenes": [("xverse_couple_mw_cheek.jpg", "Cheek to cheek")],
    },
]


def production_refusal(*, allow_production: bool) -> str | None:
    """Why seed_demo must not run with the current settings, or None. Production = the production
    settings module, or DEBUG off with any settings module other than the test settings."""
    # (override_settings hides SETTINGS_MODULE behind None: fall back to the environment)
    module = getattr(settings, "SETTINGS_MODULE", None) or os.environ.get("DJANGO_SETTINGS_MODULE", "")
    production = module.endswith(".production") or (not settings.DEBUG and not module.endswith(".test"))
    if not production:
        return None
    hosts = [h.strip().lower() for h in settings.ALLOWED_HOSTS]
    loopback_only = bool(hosts) and all(h in LOOPBACK_HOSTS for h in hosts)
    if allow_production and loopback_only:
        return None
    why = (f"seed_demo refuses to run with production settings ({module or 'unknown module'}, DEBUG off): it "
           f"creates an admin account whose password is published in the README.")
    if allow_production:
        return why + f" --allow-production only works when ALLOWED_HOSTS is loopback only; it is {hosts}."
    return why + " Use loveloveshot.settings.local, or --allow-production on a loopback-only stack (make prod-local)."


class Command(BaseCommand):
    help = "Create demo accounts and concepts from the shipped scene pack (idempotent). Not for production."

    def add_arguments(self, parser):
        parser.add_argument("--allow-production", action="store_true",
                            help="Allow production settings when ALLOWED_HOSTS is loopback only (make prod-local).")

    def handle(self, *args, **options):
        refusal = production_refusal(allow_production=options["allow_production"])
        if refusal:
            raise CommandError(refusal)
        from engine import decode_image, get_engine

        engine = get_engine(settings.MODELS_DIR, diagnostics=False)
        with transaction.atomic():
            demo = self._user("demo@loveloveshot.kr", plan=User.Plan.STANDARD)
            self._user("premium@loveloveshot.kr", plan=User.Plan.PREMIUM)
            self._user("admin@loveloveshot.kr", staff=True)
            partner = self._user("partner@loveloveshot.kr", partner=True)
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=partner)
            retired = Concept.objects.filter(slug__in=RETIRED_SLUGS, is_published=True).update(is_published=False)
            if retired:
                self.stdout.write(f"  unpublished {retired} concept(s) of the old collage demo")
            for order, spec in enumerate(CONCEPTS):
                concept, created = Concept.objects.get_or_create(
                    slug=spec["slug"],
                    defaults={k: spec[k] for k in ("name_ko", "name_en", "description_ko", "description_en")}
                    | {"order": order, "is_published": True},
                )
                if not created and concept.scenes.exists():
                    continue
                for i, (filename, title) in enumerate(spec["scenes"]):
                    path = SCENES_DIR / filename
                    if not path.is_file():
                        raise CommandError(f"Demo scene missing from the repository: {path}")
                    image = decode_image(path.read_bytes())
                    check = check_scene(image=image, engine=engine)
                    if not check.ok:
                        raise CommandError(f"Demo scene {filename} fails the scene intake: {' '.join(check.errors)}")
                    scene_create(concept=concept, image=image, title=title, slots=check.slots, order=i,
                                 published=True)
                self.stdout.write(f"  concept {concept.slug}: {concept.scenes.count()} scene(s)")
        self.stdout.write(self.style.SUCCESS(f"Demo login: {demo.email} / {DEMO_PASSWORD}"))
        self.stdout.write("Premium login: premium@loveloveshot.kr / " + DEMO_PASSWORD)
        self.stdout.write("Admin login: admin@loveloveshot.kr / " + DEMO_PASSWORD)
        self.stdout.write(f"Partner API token: {token.key}")

    def _user(self, email: str, *, plan: str = User.Plan.STANDARD, staff: bool = False, partner: bool = False):
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, plan=plan, is_partner=partner)
            if staff:
                user.is_staff = user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
        return user
