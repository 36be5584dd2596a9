"""``manage.py generate_scenes``: SD 1.5 (+ LoRA) candidate scenes for a concept, validated (exactly two
faces, big enough, not overlapping) and saved unpublished with slots A/B prefilled for admin review."""

import logging
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engine import get_engine
from engine.neural import scenegen
from engine.registry import RegistryError, check, load_registry
from engine.types import ModelError
from gallery.models import Concept
from gallery.services import scene_create

logger = logging.getLogger("gallery.generate_scenes")


def _default_checkpoint(registry) -> tuple[str, str | None]:
    """The registry's diffusion checkpoint (verified) and its optional single-file config folder."""
    specs, _ = load_registry(registry)
    diff = [s for s in specs if s.kind == "diffusion"]
    if not diff:
        raise CommandError("no diffusion model in the registry; pass --checkpoint")
    report = check(settings.MODELS_DIR, registry, names=[diff[0].name])
    st = report.statuses[diff[0].name]
    if not st.ok:
        raise CommandError(f"diffusion checkpoint {diff[0].name}: {st.state} ({st.detail})")
    cfg = diff[0].options.get("config") or None
    return str(st.file), (str(Path(settings.MODELS_DIR) / cfg) if cfg else None)


class Command(BaseCommand):
    help = "Generate candidate scenes with SD 1.5 + LoRA; keep two-face scenes unpublished for admin review."

    def add_arguments(self, parser):
        parser.add_argument("--concept", required=True, help="Concept slug.")
        parser.add_argument("--prompt", required=True)
        parser.add_argument("--negative-prompt", default="text, watermark, deformed face, extra people")
        parser.add_argument("--lora", action="append", default=[], help="LoRA file or folder (repeatable).")
        parser.add_argument("--lora-scale", type=float, default=1.0)
        parser.add_argument("--count", type=int, default=4)
        parser.add_argument("--seed", type=int, default=0, help="Image i uses seed S+i.")
        parser.add_argument("--steps", type=int, default=30)
        parser.add_argument("--guidance", type=float, default=7.5)
        parser.add_argument("--width", type=int, default=768)
        parser.add_argument("--height", type=int, default=512)
        parser.add_argument("--checkpoint", default=None,
                            help="Local diffusers folder or single file (default: the registry's diffusion model).")
        parser.add_argument("--config", default=None,
                            help="Local diffusers config folder for a single-file checkpoint.")
        parser.add_argument("--min-face", type=int, default=96, help="Minimum face box side in px.")
        parser.add_argument("--device", default=None, help="cuda / cpu (default: cuda when available).")

    def handle(self, *args, **o):
        from tqdm import tqdm

        concept = Concept.objects.filter(slug=o["concept"]).first()
        if concept is None:
            raise CommandError(f"no concept with slug {o['concept']!r}")
        if o["count"] < 1:
            raise CommandError("--count must be at least 1")
        config = o["config"]
        checkpoint = o["checkpoint"]
        if not checkpoint:
            try:
                checkpoint, reg_config = _default_checkpoint(getattr(settings, "MODELS_REGISTRY", None))
            except RegistryError as exc:
                raise CommandError(str(exc)) from None
            config = config or reg_config
        for lora in o["lora"]:
            if not Path(lora).exists():
                raise CommandError(f"LoRA not found: {lora}")
        try:
            pipe = scenegen.load_pipeline(checkpoint, loras=o["lora"], lora_scale=o["lora_scale"], config=config,
                                          device=o["device"])
        except ModelError as exc:
            raise CommandError(exc.message) from None
        detector = get_engine(settings.MODELS_DIR, diagnostics=False).detector
        order0 = concept.scenes.count()
        kept, rejected = [], []
        bar = tqdm(range(o["count"]), desc=f"scenes {concept.slug}", unit="img", file=self.stderr,
                   disable=o["verbosity"] == 0)
        for i in bar:
            seed = o["seed"] + i
            img = scenegen.generate(pipe, prompt=o["prompt"], negative_prompt=o["negative_prompt"], seed=seed,
                                    steps=o["steps"], guidance=o["guidance"], width=o["width"], height=o["height"])
            verdict = scenegen.validate_scene(img, detector, min_face_px=o["min_face"])
            if not verdict.ok:
                logger.warning("generate_scenes %s seed %d rejected: %s", concept.slug, seed, verdict.reason)
                rejected.append((seed, verdict.reason))
            else:
                scene = scene_create(concept=concept, image=img, title=f"{concept.slug} seed {seed}",
                                     slots=verdict.slots, order=order0 + len(kept), published=False)
                kept.append(scene)
            bar.set_postfix(kept=len(kept), rejected=len(rejected))
        bar.close()
        for seed, reason in rejected:
            self.stdout.write(f"rejected seed {seed}: {reason}")
        self.stdout.write(self.style.SUCCESS(
            f"{len(kept)} scene(s) saved unpublished for review, {len(rejected)} rejected (concept {concept.slug})"))
