"""C2PA: a signed manifest stating the image was made with trained algorithmic media."""

from __future__ import annotations

import datetime as _dt
import io
import json
from dataclasses import dataclass, field

from .metadata import AI_NOTE, DIGITAL_SOURCE_TYPE, SOFTWARE


@dataclass
class C2paCredentials:
    cert_chain_pem: bytes
    key_pem: bytes


def c2pa_available() -> bool:
    try:
        import c2pa  # noqa: F401
    except Exception:
        return False
    return True


def generate_test_credentials(*, organisation: str = "LoveLoveShot (test)") -> C2paCredentials:
    """A local test CA and an ES256 signing certificate it issued (C2PA rejects self-signed leaf
    certificates). Readers report it as *untrusted*, which is right for a test certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = _dt.datetime.now(_dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} root"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    no_usage = dict(
        content_commitment=False, key_encipherment=False, data_encipherment=False, key_agreement=False,
        encipher_only=False, decipher_only=False,
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=False, key_cert_sign=True, crl_sign=True, **no_usage), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} result signer"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(days=1))
        .not_valid_after(now + _dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=False, crl_sign=False, **no_usage), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return C2paCredentials(
        cert_chain_pem=cert.public_bytes(pem) + ca.public_bytes(pem),
        key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def c2pa_manifest_definition(*, result_id: str, title: str = "loveloveshot.jpg") -> dict:
    return {
        "claim_generator_info": [{"name": SOFTWARE, "version": "1"}],
        "title": title,
        "format": "image/jpeg",
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": DIGITAL_SOURCE_TYPE,
                            "softwareAgent": {"name": SOFTWARE},
                            "description": AI_NOTE,
                        }
                    ]
                },
            },
            {"label": "org.loveloveshot.result", "data": {"result_id": result_id}},
        ],
    }


def c2pa_sign(jpeg: bytes, *, credentials: C2paCredentials, result_id: str) -> bytes:
    """Embed a signed C2PA manifest (no embedded thumbnail: the result is the picture)."""
    import c2pa

    settings = c2pa.Settings.from_json(json.dumps({"builder": {"thumbnail": {"enabled": False}}}))
    context = c2pa.Context(settings=settings)
    signer = c2pa.Signer.from_info(
        c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, credentials.cert_chain_pem, credentials.key_pem, None)
    )
    with c2pa.Builder(c2pa_manifest_definition(result_id=result_id), context=context) as builder:
        dest = io.BytesIO()
        builder.sign(signer, "image/jpeg", io.BytesIO(jpeg), dest)
    return dest.getvalue()


@dataclass
class C2paReading:
    present: bool = False
    error: str | None = None
    digital_source_type: str | None = None
    result_id: str | None = None
    signer: str | None = None
    validation: list[str] = field(default_factory=list)
    raw: dict | None = None


def c2pa_read(jpeg: bytes) -> C2paReading:
    try:
        import c2pa
    except Exception as exc:  # pragma: no cover - c2pa-python is a base requirement
        return C2paReading(error=f"c2pa-python unavailable: {exc}")
    try:
        reader = c2pa.Reader("image/jpeg", io.BytesIO(jpeg))
        data = json.loads(reader.json())
    except Exception as exc:
        text = str(exc)
        if "ManifestNotFound" in type(exc).__name__ or "not found" in text.lower() or "JumbfNotFound" in text:
            return C2paReading()
        return C2paReading(error=text[:300])
    manifest = (data.get("manifests") or {}).get(data.get("active_manifest") or "", {})
    reading = C2paReading(present=bool(manifest), raw=data)
    for assertion in manifest.get("assertions", []):
        label = assertion.get("label", "")
        if label.startswith("c2pa.actions"):
            for action in assertion.get("data", {}).get("actions", []):
                reading.digital_source_type = action.get("digitalSourceType") or reading.digital_source_type
        if label == "org.loveloveshot.result":
            reading.result_id = assertion.get("data", {}).get("result_id")
    sig = manifest.get("signature_info") or {}
    reading.signer = ", ".join(x for x in (sig.get("common_name"), sig.get("issuer")) if x) or None
    reading.validation = [s.get("code", "") for s in data.get("validation_status", [])]
    return reading

