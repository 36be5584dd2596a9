"""``manage.py models check``: verify the neural model registry and say which engine a worker will use."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from engine.registry import RegistryError, check, choose_engine


class Command(BaseCommand):
    help = ("Verify the model registry (engine/models.toml): files under MODELS_DIR, sha256, licences; "
            "print what is missing and which engine a worker will use.")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["check"])
        parser.add_argument("--registry", default=None, help="Registry TOML (default: settings.MODELS_REGISTRY, "
                                                             "$LLS_MODELS_REGISTRY or engine/models.toml).")
        parser.add_argument("--models-dir", default=None, help="Default: settings.MODELS_DIR.")
        parser.add_argument("--print-sha256", action="store_true", help="Print the sha256 of each file found.")
        parser.add_argument("--strict", action="store_true", help="Exit non-zero unless the neural engine is usable.")

    def handle(self, *args, **opts):
        models_dir = opts["models_dir"] or settings.MODELS_DIR
        reg = opts["registry"] or getattr(settings, "MODELS_REGISTRY", None)
        try:
            report = check(models_dir, reg)
        except RegistryError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Registry: {report.registry}\nMODELS_DIR: {report.models_dir}")
        for name, st in report.statuses.items():
            s = st.spec
            req = "required" if name in report.required else "optional"
            line = (f"  [{st.state.upper():8}] {name:10} {s.kind:9} {req:8} {s.path}  licence={s.licence or '?'} "
                    f"input={s.input_size}px vram~{s.vram_mb}MB  {st.detail}")
            style = self.style.SUCCESS if st.ok else (self.style.ERROR if st.state in ("licence", "checksum")
                                                      else self.style.WARNING)
            self.stdout.write(style(line))
            if opts["print_sha256"] and st.sha256:
                self.stdout.write(f"             sha256 = \"{st.sha256}\"")
        missing = [f"{n} ({s.file})" for n, s in report.statuses.items() if s.state == "missing"]
        if missing:
            self.stdout.write("Missing: " + ", ".join(missing))
        mode = getattr(settings, "ENGINE", "auto")
        name, reason = choose_engine(mode, report)
        self.stdout.write(f"Engine: {name} — {reason}")
        if opts["strict"] and name != "neural":
            raise CommandError("neural engine not usable")
