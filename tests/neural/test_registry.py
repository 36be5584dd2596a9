"""Model registry: checksums, licences, missing files, engine choice, `manage.py models check`."""

import io

import pytest
from django.core.management import CommandError, call_command

from engine import registry as reg
from engine.registry import check, choose_engine, licence_refusal, load_registry

from . import tiny


def test_shipped_registry_parses_and_refuses_nothing_by_default():
    specs, required = load_registry()
    kinds = {s.kind for s in specs}
    assert {"swapper", "embedder", "restorer", "diffusion"} <= kinds
    assert required == ["swapper", "embedder"]
    assert all(licence_refusal(s) is None for s in specs)
    assert all(s.input_size > 0 and s.vram_mb > 0 for s in specs)


def test_verified_models_make_neural_ready(tiny_models, registry):
    report = check(tiny_models, registry)
    assert {n: s.state for n, s in report.statuses.items()} == {
        "swapper": "ok", "embedder": "ok", "restorer": "ok"}
    assert report.neural_ready
    assert choose_engine("auto", report)[0] == "neural"
    assert choose_engine("classical", report)[0] == "classical"


def test_checksum_mismatch_is_reported_and_not_used(tiny_models, tmp_path):
    entries = tiny.neural_models(tmp_path, restorer=False)
    entries["swapper"]["sha256"] = "0" * 64
    r = tiny.write_registry(tmp_path / "r.toml", tmp_path, entries)
    report = check(tmp_path, r)
    st = report.statuses["swapper"]
    assert st.state == "checksum" and not st.ok and st.sha256 != "0" * 64
    assert not report.neural_ready
    name, reason = choose_engine("neural", report)
    assert name == "classical" and "swapper: checksum" in reason


def test_missing_and_unpinned(tmp_path):
    entries = tiny.neural_models(tmp_path, restorer=False)
    r = tiny.write_registry(tmp_path / "r.toml", tmp_path, entries, pin=False)
    (tmp_path / "embedder" / "tiny_arcface.onnx").unlink()
    report = check(tmp_path, r)
    assert report.statuses["swapper"].state == "unpinned"
    assert report.statuses["embedder"].state == "missing"
    assert choose_engine("auto", report)[0] == "classical"


@pytest.mark.parametrize("field,value", [
    ("path", "swapper/inswapper_128.onnx"),
    ("path", "SimSwap/simswap_512.onnx"),
    ("licence", "CC-BY-NC-4.0"),
    ("licence", "research-only, non-commercial"),
])
def test_non_commercial_models_are_refused(tmp_path, field, value):
    entries = tiny.neural_models(tmp_path, restorer=False)
    src = tmp_path / entries["swapper"]["path"]
    if field == "path":
        dst = tmp_path / value
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
    entries["swapper"][field] = value
    r = tiny.write_registry(tmp_path / "r.toml", tmp_path, entries)
    report = check(tmp_path, r)
    assert report.statuses["swapper"].state == "licence"
    assert report.statuses["swapper"].sha256 is None  # refused before hashing
    assert choose_engine("neural", report)[0] == "classical"


def test_folder_hash_is_stable_and_content_sensitive(tmp_path):
    (tmp_path / "m" / "unet").mkdir(parents=True)
    (tmp_path / "m" / "unet" / "w.bin").write_bytes(b"abc")
    (tmp_path / "m" / "model_index.json").write_text("{}")
    h1 = reg.sha256_path(tmp_path / "m")
    assert h1 == reg.sha256_path(tmp_path / "m")
    (tmp_path / "m" / "unet" / "w.bin").write_bytes(b"abd")
    assert reg.sha256_path(tmp_path / "m") != h1


def test_unknown_engine_setting_falls_back():
    assert choose_engine("gpu-please", None)[0] == "classical"


def test_models_check_command_prints_missing_and_engine(settings, tmp_path):
    settings.MODELS_DIR = str(tmp_path)
    settings.ENGINE = "auto"
    out = io.StringIO()
    call_command("models", "check", stdout=out)
    text = out.getvalue()
    assert "[MISSING ] swapper" in text and "Missing: swapper" in text
    assert "Engine: classical" in text
    with pytest.raises(CommandError):
        call_command("models", "check", "--strict", stdout=io.StringIO())


def test_models_check_command_neural_and_sha(settings, tiny_models, registry):
    settings.MODELS_DIR = str(tiny_models)
    settings.ENGINE = "auto"
    out = io.StringIO()
    call_command("models", "check", "--registry", str(registry), "--print-sha256", "--strict", stdout=out)
    text = out.getvalue()
    assert "Engine: neural" in text and "[OK      ] restorer" in text and 'sha256 = "' in text
