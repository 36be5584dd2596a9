"""Model registry of the neural tier (``engine/models.toml``): what weights exist, are they the
right files, may we use them, and which engine a worker gets.

Django-free and light (tomllib + hashlib): the web tier and the CPU worker import it without torch.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_REGISTRY = Path(__file__).with_name("models.toml")
ENGINES = ("auto", "classical", "neural")

# Never allowed, whatever the operator writes: non-commercial weights (matched on licence, name, path).
DENY_NAMES = ("*inswapper*", "*simswap*")
DENY_LICENCES = ("cc-by-nc*", "*non-commercial*", "*noncommercial*", "*research-only*", "*research only*")


def default_registry() -> Path:
    """``$LLS_MODELS_REGISTRY`` or ``engine/models.toml``."""
    return Path(os.environ.get("LLS_MODELS_REGISTRY") or DEFAULT_REGISTRY)


class RegistryError(Exception):
    """The registry file itself is unreadable or malformed."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str
    path: str
    sha256: str
    licence: str
    input_size: int
    vram_mb: int
    required: bool = False
    options: dict = field(default_factory=dict)

    def file(self, models_dir: str | os.PathLike) -> Path:
        p = Path(self.path)
        return p if p.is_absolute() else Path(models_dir) / p


@dataclass
class ModelStatus:
    spec: ModelSpec
    file: Path
    state: str  # ok | missing | checksum | unpinned | licence
    detail: str = ""
    sha256: str | None = None  # what is on disk (when hashed)

    @property
    def ok(self) -> bool:
        return self.state == "ok"


@dataclass
class RegistryReport:
    models_dir: Path
    registry: Path
    required: list[str]
    statuses: dict[str, ModelStatus]

    @property
    def neural_ready(self) -> bool:
        return all(n in self.statuses and self.statuses[n].ok for n in self.required)

    def usable(self, name: str) -> bool:
        st = self.statuses.get(name)
        return st is not None and st.ok

    def spec(self, name: str) -> ModelSpec:
        return self.statuses[name].spec

    def path(self, name: str) -> Path:
        return self.statuses[name].file

    def problems(self) -> list[str]:
        return [f"{n}: {s.state} ({s.detail})" for n, s in self.statuses.items() if not s.ok]

    def missing_required(self) -> list[str]:
        return [f"{n}: {self.statuses[n].state} ({self.statuses[n].detail})" if n in self.statuses
                else f"{n}: not in registry" for n in self.required if not self.usable(n)]


def load_registry(path: str | os.PathLike | None = None) -> tuple[list[ModelSpec], list[str]]:
    """(models, required names) from the TOML registry."""
    path = Path(path) if path else default_registry()
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegistryError(f"cannot read model registry {path}: {exc}") from None
    specs = []
    for name, m in (data.get("models") or {}).items():
        try:
            specs.append(ModelSpec(
                name=name, kind=str(m["kind"]), path=str(m["path"]), sha256=str(m.get("sha256", "")).lower(),
                licence=str(m.get("licence", "")), input_size=int(m.get("input_size", 0)),
                vram_mb=int(m.get("vram_mb", 0)), required=bool(m.get("required", False)),
                options=dict(m.get("options") or {}),
            ))
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryError(f"model {name!r} in {path}: bad or missing field {exc}") from None
    required = list((data.get("engine") or {}).get("required") or [s.name for s in specs if s.required])
    return specs, required


def licence_refusal(spec: ModelSpec) -> str | None:
    """Why ``spec`` may not be used (non-commercial), or None."""
    lic = spec.licence.strip().lower()
    for pat in DENY_LICENCES:
        if fnmatch.fnmatch(lic, pat):
            return f"licence {spec.licence!r} is non-commercial"
    for text in (spec.name.lower(), spec.path.lower()):
        for pat in DENY_NAMES:
            if fnmatch.fnmatch(text, pat):
                return f"{pat.strip('*')} weights are non-commercial and never allowed"
    return None


_HASH_CACHE: dict[tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def _sha256_file(path: Path) -> str:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    with _HASH_LOCK:
        if key in _HASH_CACHE:
            return _HASH_CACHE[key]
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    digest = h.hexdigest()
    with _HASH_LOCK:
        _HASH_CACHE[key] = digest
    return digest


def sha256_path(path: str | os.PathLike) -> str:
    """sha256 of a file; of a folder, sha256 over sorted ``relpath\\0sha256\\n`` lines of its files."""
    path = Path(path)
    if path.is_file():
        return _sha256_file(path)
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(path).as_posix()}\0{_sha256_file(f)}\n".encode())
    return h.hexdigest()


def check(models_dir: str | os.PathLike, registry: str | os.PathLike | None = None, *,
          names: list[str] | None = None) -> RegistryReport:
    """Verify each model (or only ``names``): licence first (refused models are never hashed), then the
    file, then its sha256."""
    specs, required = load_registry(registry)
    statuses: dict[str, ModelStatus] = {}
    for spec in specs:
        if names is not None and spec.name not in names:
            continue
        f = spec.file(models_dir)
        why = licence_refusal(spec)
        if why:
            statuses[spec.name] = ModelStatus(spec, f, "licence", why)
        elif not f.exists():
            statuses[spec.name] = ModelStatus(spec, f, "missing", f"no file at {f}")
        else:
            digest = sha256_path(f)
            if not spec.sha256:
                statuses[spec.name] = ModelStatus(spec, f, "unpinned", "no sha256 in the registry", digest)
            elif digest != spec.sha256:
                statuses[spec.name] = ModelStatus(
                    spec, f, "checksum", f"sha256 {digest[:12]}… != registry {spec.sha256[:12]}…", digest)
            else:
                statuses[spec.name] = ModelStatus(spec, f, "ok", "verified", digest)
    return RegistryReport(Path(models_dir), Path(registry) if registry else default_registry(), required, statuses)


def choose_engine(mode: str, report: RegistryReport | None) -> tuple[str, str]:
    """("neural" | "classical", reason) for the ``ENGINE`` setting and a registry report."""
    mode = (mode or "auto").strip().lower()
    if mode not in ENGINES:
        return "classical", f"unknown ENGINE {mode!r} (expected one of {', '.join(ENGINES)}): using classical"
    if mode == "classical":
        return "classical", "ENGINE=classical"
    if report is not None and report.neural_ready:
        return "neural", f"ENGINE={mode}: required neural models verified ({', '.join(report.required)})"
    missing = "; ".join(report.missing_required()) if report is not None else "registry unreadable"
    return "classical", f"ENGINE={mode} but neural weights are not usable ({missing}): using the classical engine"
