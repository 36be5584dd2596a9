"""The web tier stays light (issue 14): serving pages and taking uploads never loads OpenCV,
onnxruntime, MediaPipe, torch or the swap engine. Checked in a fresh interpreter that sets Django up
(every app's admin is imported then), imports the URLconf and every view it routes to, and studio's
services, uploads, forms and selectors; an import hook notes which project module pulled a heavy
package in."""

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("cv2", "onnxruntime", "mediapipe", "torch", "engine")

PROBE = r'''
import importlib, json, sys, traceback
HEAVY = set(sys.argv[1].split(","))
PROJECT = ("accounts", "gallery", "studio", "loveloveshot", "partners", "gpu_worker")
importers = {}

class Spy:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in HEAVY and top not in importers:
            who = None
            for frame in reversed(traceback.extract_stack()[:-1]):  # innermost project frame
                rel = frame.filename.replace(sys.argv[2] + "/", "")
                mod = rel[:-3].replace("/", ".") if rel.endswith(".py") else ""
                if mod.split(".")[0] in PROJECT:
                    who = mod
                    break
            importers[top] = who or "?"
        return None

sys.meta_path.insert(0, Spy())
import django
from django.conf import settings
# Phase 1: studio's web modules first, before any other app's admin can load a heavy package.
settings.INSTALLED_APPS = ["django.contrib.admin.apps.SimpleAdminConfig" if a == "django.contrib.admin" else a
                           for a in settings.INSTALLED_APPS]
django.setup()
for name in ("studio.models", "studio.forms", "studio.uploads", "studio.selectors", "studio.services",
             "studio.views", "studio.urls", "studio.consumers", "studio.admin", "studio.messages"):
    importlib.import_module(name)
studio_phase = dict(importers)
# Phase 2: the whole web tier: every admin, the URLconf and every view it routes to, ASGI.
from django.contrib import admin
admin.autodiscover()
from django.urls import get_resolver
importlib.import_module("loveloveshot.urls")

def walk(patterns):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            walk(p.url_patterns)
        else:
            importlib.import_module(getattr(p.callback, "__module__", None) or "django")

walk(get_resolver().url_patterns)
importlib.import_module("loveloveshot.asgi")
loaded = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps({"studio_phase": studio_phase, "loaded": loaded, "importers": importers}))
'''

# Modules outside studio allowed to import the engine in the web process: none (gallery imports the
# engine only inside the worker-side and staff-only functions that use it). Never add a module here.
KNOWN_OUTSIDE_STUDIO: set[str] = set()


def _probe() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loveloveshot.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY), str(REPO)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_studio_never_pulls_the_engine_or_model_runtimes_into_the_web_process():
    result = _probe()
    # studio's own web modules (views, services, uploads, forms, selectors, consumers, admin) load
    # nothing heavy themselves; what they pull in through another app is listed by that app's module
    studio = {heavy: who for heavy, who in result["studio_phase"].items() if who.startswith("studio")}
    assert studio == {}, f"studio imports heavy packages in the web tier: {studio}"
    unknown = {heavy: who for heavy, who in result["importers"].items() if who not in KNOWN_OUTSIDE_STUDIO}
    assert unknown == {}, f"new web-tier importers of heavy packages: {unknown}"
    assert result["loaded"] == []  # nothing heavy in the web process at all
