"""seed_demo: demo concepts built from the scene pack inside the repository (never ../shared), slots
found by the engine's detector, idempotent; refuses production settings (issue 13 item 9)."""

import builtins
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from gallery.management.commands import seed_demo
from gallery.models import Concept, Scene

# the production environment fixture of tests/prod (kept up to date with what production requires)
from tests.prod.test_production_settings import manage, prod_env  # noqa: F401

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_demo_concepts_come_from_the_shipped_scene_pack_and_reseeding_changes_nothing(monkeypatch):
    opened: list[Path] = []
    real_open = builtins.open

    def spy_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)):
            opened.append(Path(file).resolve())
        return real_open(file, *args, **kwargs)

    devnull = open(os.devnull, "w")  # noqa: SIM115
    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)  # pathlib's read_bytes
    call_command("seed_demo", stdout=devnull)
    monkeypatch.undo()

    # nothing next to the repository (../shared/testdata) was read; the scene pack was
    outside = [p for p in opened if REPO.parent in p.parents and REPO not in p.parents and p != REPO]
    assert outside == []
    pack = REPO / "gallery" / "demo_scenes"
    assert {p.name for p in opened if p.parent == pack} == {
        "xverse_couple_mw_studio.jpg", "uniportrait_two_women_studio.png", "xverse_couple_mw_outdoor.jpg",
        "xverse_couple_mw_cheek.jpg",
    }
    assert (pack / "LICENSE-Apache-2.0.txt").is_file() and "Apache" in (pack / "SOURCES.md").read_text()

    slugs = list(Concept.objects.filter(is_published=True).values_list("slug", flat=True))
    assert slugs == ["studio-portrait", "sunlit-outdoors", "cheek-to-cheek"]
    scenes = list(Scene.objects.select_related("concept"))
    assert len(scenes) == 4 and all(s.is_published and s.image and s.thumbnail for s in scenes)
    for s in scenes:
        # A is the left face, B the right one, each a plausible face box found by the detector
        assert s.slot_a[0] + s.slot_a[2] / 2 < 0.5 < s.slot_b[0] + s.slot_b[2] / 2
        assert all(0.2 < box[2] < 0.4 and 0.25 < box[3] < 0.5 for box in (s.slot_a, s.slot_b))
    for c in Concept.objects.all():
        assert c.name_ko and c.name_en and c.description_ko and c.description_en

    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert Scene.objects.count() == 4 and Concept.objects.count() == 3
    assert User.objects.filter(email__endswith="@loveloveshot.kr").count() == 4


@pytest.mark.django_db
def test_old_collage_concepts_are_unpublished_on_reseed():
    Concept.objects.create(slug="film-date", name_ko="필름 데이트", name_en="Film Date", is_published=True)
    call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert not Concept.objects.get(slug="film-date").is_published


@pytest.mark.django_db
def test_debug_off_outside_the_test_settings_counts_as_production(settings, monkeypatch):
    settings.SETTINGS_MODULE = "loveloveshot.settings.local"
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "loveloveshot.settings.local")
    settings.DEBUG = False
    with pytest.raises(CommandError, match="refuses to run with production settings"):
        call_command("seed_demo")
    assert not User.objects.exists() and not Concept.objects.exists()
    settings.DEBUG = True
    assert seed_demo.production_refusal(allow_production=False) is None


# -- the real production settings module, in a fresh manage.py process -----------------------------


def _users(env) -> str:
    proc = manage(env, "shell", "-v", "0", "-c",
                  "from accounts.models import User; print(User.objects.count())")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _migrate(env) -> None:
    proc = manage(env, "migrate", "-v", "0")
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_production_settings_are_refused_even_with_the_flag_on_a_public_host(prod_env):  # noqa: F811
    _migrate(prod_env)
    for args in ((), ("--allow-production",)):
        proc = manage(prod_env, "seed_demo", *args)
        assert proc.returncode == 1
        assert "seed_demo refuses to run with production settings" in proc.stderr
        assert "loveloveshot.settings.production" in proc.stderr
    assert "loopback only" in proc.stderr  # the flag was refused: the site has a public name
    assert _users(prod_env) == "0"


def test_a_loopback_only_production_stack_may_seed_with_the_flag(prod_env):  # noqa: F811
    prod_env["DJANGO_ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    _migrate(prod_env)
    assert manage(prod_env, "seed_demo").returncode == 1  # still not without the flag
    proc = manage(prod_env, "seed_demo", "--allow-production")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "concept cheek-to-cheek: 1 scene(s)" in proc.stdout
    assert _users(prod_env) == "4"
