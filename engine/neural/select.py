"""Which engine a worker gets: ``ENGINE`` ("classical" | "neural" | "auto") and the model registry.

"neural" and "auto" both fall back to the classical engine (with a warning saying why) when a required
neural model is missing, unpinned, has the wrong checksum or a refused licence, or fails to load: a
worker never starts broken and never crashes mid-job for want of weights."""

from __future__ import annotations

import logging
import os
import threading

from engine import get_engine as classical_engine
from engine.registry import RegistryError, check, choose_engine, load_registry

log = logging.getLogger(__name__)

ENGINE_KINDS = ("swapper", "embedder", "restorer")  # what a swap worker verifies (not the SD checkpoint)

_CACHE: dict[tuple, object] = {}
_LOCK = threading.Lock()
last_choice: dict = {}


def worker_report(models_dir, registry=None):
    specs, _ = load_registry(registry)
    return check(models_dir, registry, names=[s.name for s in specs if s.kind in ENGINE_KINDS])


def build_engine(mode: str, models_dir: str | os.PathLike, registry: str | os.PathLike | None = None, *,
                 diagnostics: bool = False, prefer_gpu: bool = True):
    """(engine, name, reason) without caching."""
    try:
        report = worker_report(models_dir, registry) if (mode or "auto").lower() != "classical" else None
    except RegistryError as exc:
        log.warning("%s", exc)
        report = None
    name, reason = choose_engine(mode, report)
    if name == "neural":
        try:
            from .engine import NeuralEngine

            return NeuralEngine(report, models_dir, diagnostics=diagnostics, prefer_gpu=prefer_gpu), name, reason
        except Exception as exc:  # noqa: BLE001 - bad weights must not stop the worker
            reason = f"neural engine failed to load ({exc}): using the classical engine"
            name = "classical"
    return classical_engine(models_dir, diagnostics=diagnostics), name, reason


def get_engine(mode: str, models_dir: str | os.PathLike, registry: str | os.PathLike | None = None, *,
               diagnostics: bool = False):
    """The process-wide engine for these settings (created, and its choice logged, once)."""
    key = (str(mode), str(models_dir), str(registry or ""), diagnostics)
    with _LOCK:
        eng = _CACHE.get(key)
        if eng is None:
            eng, name, reason = build_engine(mode, models_dir, registry, diagnostics=diagnostics)
            (log.info if name == "neural" or str(mode).lower() == "classical" else log.warning)(
                "Engine: %s — %s", name, reason)
            last_choice.update(engine=name, reason=reason)
            _CACHE[key] = eng
        return eng


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
