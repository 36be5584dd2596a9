"""SD 1.5 + LoRA scene generation on a tiny random pipeline, validation, and `manage.py generate_scenes`."""

import io
import logging

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from engine import get_engine
from engine.neural import scenegen
from gallery.models import Concept, Scene

from . import tiny


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory):
    d = tmp_path_factory.mktemp("sd")
    tiny.sd_pipeline(d / "sd15", d / "lora")
    return d / "sd15", d / "lora" / "pytorch_lora_weights.safetensors"


def test_pipeline_with_lora_generates_reproducible_images(tiny_sd):
    ckpt, lora = tiny_sd
    plain = scenegen.load_pipeline(ckpt)
    with_lora = scenegen.load_pipeline(ckpt, loras=[lora], lora_scale=1.0)
    assert with_lora.get_active_adapters() == ["lora0"]
    kw = {"prompt": "a couple at the beach, film photo", "seed": 7, "steps": 2, "width": 64, "height": 64}
    a = scenegen.generate(plain, **kw)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8 and a.max() > a.min()
    assert np.array_equal(a, scenegen.generate(plain, **kw))
    assert not np.array_equal(a, scenegen.generate(plain, **{**kw, "seed": 8}))
    assert not np.array_equal(a, scenegen.generate(with_lora, **kw))


def test_missing_checkpoint_is_a_model_error(tmp_path):
    from engine.types import ModelError

    with pytest.raises(ModelError):
        scenegen.load_pipeline(tmp_path / "nope")


def test_validate_scene(scene_and_people, faces):
    det = get_engine(diagnostics=False).detector
    scene = scene_and_people[0]
    v = scenegen.validate_scene(scene, det, min_face_px=40)
    assert v.ok and len(v.slots) == 2 and v.slots[0][0] < v.slots[1][0]
    assert all(0 <= x <= 1 for s in v.slots for x in s)
    assert not scenegen.validate_scene(scene, det, min_face_px=400).ok
    one = cv2.imread(str(faces / "obama.jpg"))
    assert scenegen.validate_scene(one, det).reason == "found 1 faces, need exactly 2"
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    assert "found 0 faces" in scenegen.validate_scene(noise, det).reason


def test_overlap():
    a = np.array([0, 0, 10, 10], np.float32)
    assert scenegen._overlap(a, np.array([5, 5, 10, 10], np.float32), 0.0)
    assert not scenegen._overlap(a, np.array([12, 0, 10, 10], np.float32), 0.0)
    assert scenegen._overlap(a, np.array([12, 0, 10, 10], np.float32), 0.2)


@pytest.fixture
def concept(db):
    return Concept.objects.create(slug="beach", name_ko="해변", name_en="Beach")


def test_generate_scenes_rejects_and_logs(concept, tiny_sd, caplog):
    ckpt, lora = tiny_sd
    out, err = io.StringIO(), io.StringIO()
    with caplog.at_level(logging.WARNING, logger="gallery.generate_scenes"):
        call_command("generate_scenes", "--concept", "beach", "--prompt", "a couple", "--lora", str(lora),
                     "--count", "2", "--seed", "3", "--steps", "2", "--width", "64", "--height", "64",
                     "--checkpoint", str(ckpt), stdout=out, stderr=err)
    assert Scene.objects.count() == 0
    assert "rejected seed 3: found 0 faces" in out.getvalue() and "0 scene(s) saved" in out.getvalue()
    assert "seed 4 rejected" in caplog.text
    assert "2/2" in err.getvalue()  # tqdm progress bar


def test_generate_scenes_saves_passing_scenes_unpublished(concept, tiny_sd, scene_and_people, monkeypatch):
    ckpt, _ = tiny_sd
    good = scene_and_people[0]
    seeds = []

    def fake_generate(pipe, *, seed, **kw):
        seeds.append(seed)
        return good if seed % 2 == 0 else np.zeros((64, 64, 3), np.uint8)

    monkeypatch.setattr(scenegen, "generate", fake_generate)
    out = io.StringIO()
    call_command("generate_scenes", "--concept", "beach", "--prompt", "a couple", "--count", "3", "--seed", "10",
                 "--checkpoint", str(ckpt), "--min-face", "40", stdout=out, stderr=io.StringIO())
    assert seeds == [10, 11, 12]
    scenes = list(Scene.objects.filter(concept=concept).order_by("order"))
    assert len(scenes) == 2 and not any(s.is_published for s in scenes)
    s = scenes[0]
    assert s.slot_a[0] < s.slot_b[0] and len(s.slot_a) == 4 and s.image and s.title == "beach seed 10"
    assert "2 scene(s) saved unpublished" in out.getvalue()


def test_generate_scenes_without_checkpoint_uses_registry(concept, settings, tmp_path):
    settings.MODELS_DIR = str(tmp_path)
    with pytest.raises(CommandError, match="sd15: missing"):
        call_command("generate_scenes", "--concept", "beach", "--prompt", "x", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no concept"):
        call_command("generate_scenes", "--concept", "nope", "--prompt", "x", stdout=io.StringIO())
