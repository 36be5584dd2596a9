"""Demo data: a demo couple account, an admin, a partner with an API token, and two concepts whose
scenes are composed from the public-domain test portraits (no scraped photos of people)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User
from gallery.models import Concept
from gallery.services import scene_create

DEMO_PASSWORD = "lovelove-demo-2026"
CONCEPTS = [
    {
        "slug": "film-date",
        "name_ko": "필름 데이트",
        "name_en": "Film Date",
        "description_ko": "따뜻한 필름 톤으로 담은 둘만의 데이트 한 장.",
        "description_en": "A date-day portrait in warm film colours.",
        "style": "film",
        "pairs": [("obama.jpg", "biden.jpg"), ("grace_hopper.jpg", "astronaut.png")],
    },
    {
        "slug": "han-river-picnic",
        "name_ko": "한강 피크닉",
        "name_en": "Han River Picnic",
        "description_ko": "하늘과 잔디가 보이는 한강 피크닉 커플 사진.",
        "description_en": "Blue sky, green grass: a Han River picnic couple photo.",
        "style": "picnic",
        "pairs": [("biden.jpg", "grace_hopper.jpg")],
    },
    {
        "slug": "seoul-night",
        "name_ko": "서울의 밤",
        "name_en": "Seoul Night",
        "description_ko": "보케 조명이 반짝이는 서울의 밤.",
        "description_en": "Bokeh city lights on a Seoul night.",
        "style": "night",
        "pairs": [("astronaut.png", "obama3.jpg")],
    },
]


class Command(BaseCommand):
    help = "Create demo accounts, concepts and scenes (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--faces", default=settings.DEMO_FACES_DIR, help="Folder with the test portraits.")

    def handle(self, *args, **options):
        import cv2

        from engine import compose_scene, get_engine

        faces = Path(options["faces"])
        if not faces.is_dir():
            raise CommandError(f"Portraits folder not found: {faces}. Pass --faces or set LLS_DEMO_FACES_DIR.")
        engine = get_engine(settings.MODELS_DIR)
        with transaction.atomic():
            demo = self._user("demo@loveloveshot.kr", plan=User.Plan.STANDARD)
            self._user("premium@loveloveshot.kr", plan=User.Plan.PREMIUM)
            self._user("admin@loveloveshot.kr", staff=True)
            partner = self._user("partner@loveloveshot.kr", partner=True)
            from rest_framework.authtoken.models import Token

            token, _ = Token.objects.get_or_create(user=partner)
            for order, spec in enumerate(CONCEPTS):
                concept, created = Concept.objects.get_or_create(
                    slug=spec["slug"],
                    defaults={k: spec[k] for k in ("name_ko", "name_en", "description_ko", "description_en")}
                    | {"order": order, "is_published": True},
                )
                if not created and concept.scenes.exists():
                    continue
                for i, (left, right) in enumerate(spec["pairs"]):
                    imgs = [cv2.imread(str(faces / name), cv2.IMREAD_COLOR) for name in (left, right)]
                    if any(img is None for img in imgs):
                        raise CommandError(f"Could not read {left} or {right} in {faces}")
                    scene_img = compose_scene(imgs[0], imgs[1], style=spec["style"])
                    slots = engine.suggest_slots(scene_img)
                    if len(slots) < 2:
                        raise CommandError(f"Scene {left}+{right}: expected two faces, found {len(slots)}")
                    scene_create(
                        concept=concept,
                        image=scene_img,
                        title=f"{spec['name_en']} {i + 1}",
                        slots=slots[:2],
                        order=i,
                        published=True,
                    )
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
