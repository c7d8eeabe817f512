"""C2PA: a manifest signed offline with c2pa-python, embedded in the artwork and kept as a sidecar.

The manifest says the artwork was created by a trained model (a `c2pa.created` action with the
IPTC digital source type), lists the model (the exported generator) and the collection's manifest
as `inputTo` ingredients, states the artist's training-and-mining choice, and carries the whole
provenance record as the `org.belamy.provenance` assertion, so a record changed in the file no
longer matches the signed one. The hard binding (`c2pa.hash.data`) covers every other byte.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import c2pa

from belamy.core.errors import BelamyError
from belamy.provenance.keys import ALG, Identity
from belamy.provenance.record import ASSERTION, canonical, record_sha256

# the artist's data-mining choice -> the C2PA training-and-mining entries it allows
_ALL = ("c2pa.ai_generative_training", "c2pa.ai_training", "c2pa.ai_inference", "c2pa.data_mining")
MINING_USE = {
    "prohibited": dict.fromkeys(_ALL, "notAllowed"),
    "allowed": dict.fromkeys(_ALL, "allowed"),
    "no-ai-training": {"c2pa.ai_generative_training": "notAllowed", "c2pa.ai_training": "notAllowed",
                       "c2pa.ai_inference": "allowed", "c2pa.data_mining": "allowed"},
    "no-genai-training": {"c2pa.ai_generative_training": "notAllowed", "c2pa.ai_training": "allowed",
                          "c2pa.ai_inference": "allowed", "c2pa.data_mining": "allowed"},
    "search-indexing-only": dict.fromkeys(_ALL, "notAllowed"),
    "unspecified": dict.fromkeys(_ALL, "constrained"),
}


@dataclass
class Ingredient:
    """A file the artwork was made from (the model, the collection manifest), hashed by C2PA."""

    title: str
    path: Path
    mime: str = "application/octet-stream"


def manifest_definition(title: str, mime: str, source_type: str, software: dict[str, str],
                        record: dict[str, Any], data_mining: str) -> dict[str, Any]:
    if data_mining not in MINING_USE:
        raise BelamyError(f"unknown data-mining choice '{data_mining}': use one of {', '.join(MINING_USE)}")
    action = {"action": "c2pa.created", "digitalSourceType": source_type, "softwareAgent": software}
    return {
        "claim_generator_info": [software],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [action]}},
            {"label": "c2pa.training-mining",
             "data": {"entries": {k: {"use": v} for k, v in MINING_USE[data_mining].items()}}},
            # as canonical JSON text: C2PA stores assertions as CBOR, which turns a list of small
            # integers into a byte string, so a structured copy would not read back as the record
            {"label": ASSERTION, "data": {"schema": record.get("schema"), "record": canonical(record).decode("utf-8"),
                                          "sha256": record_sha256(record)}},
        ],
    }


def _signed(data: bytes, mime: str, identity: Identity, definition: dict[str, Any], ingredients: list[Ingredient],
            embed: bool) -> tuple[bytes, bytes]:
    builder = c2pa.Builder(definition)
    if not embed:
        builder.set_no_embed()
    for ing in ingredients:
        with open(ing.path, "rb") as fh:
            builder.add_ingredient({"title": ing.title, "format": ing.mime, "relationship": "inputTo"}, ing.mime, fh)
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(ALG.encode(), identity.chain_pem, identity.key_pem, None))
    out = io.BytesIO()
    manifest = builder.sign(signer, mime, io.BytesIO(data), out)
    return out.getvalue(), bytes(manifest)


def sign(data: bytes, mime: str, identity: Identity, definition: dict[str, Any],
         ingredients: list[Ingredient]) -> tuple[bytes, bytes]:
    """Sign `data` (the finished file's bytes). Returns the file with its manifest embedded, and a
    sidecar manifest that binds `data` as it was before embedding: a file whose embedded manifest
    was stripped is byte for byte `data` again, so its sidecar still validates it."""
    try:
        signed, _ = _signed(data, mime, identity, definition, ingredients, embed=True)
        _, sidecar = _signed(data, mime, identity, definition, ingredients, embed=False)
    except c2pa.C2paError as exc:
        raise BelamyError(f"C2PA signing failed: {exc}") from None
    return signed, sidecar


@dataclass
class C2paReport:
    """What a C2PA reader says of a file: its validation state, the failure codes, the manifest."""

    state: str  # Trusted | Valid | Invalid
    failures: list[dict[str, str]] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)
    untrusted: bool = False

    @property
    def signer(self) -> str:
        info = self.manifest.get("signature_info") or {}
        return f"{info.get('common_name', '?')} ({info.get('issuer', '?')})"

    def assertion(self, label: str) -> Any:
        for a in self.manifest.get("assertions", []):
            if a.get("label") == label:
                return a.get("data")
        return None

    @property
    def record(self) -> dict[str, Any] | None:
        """The provenance record this manifest signed (None if it holds none, or not a readable one)."""
        data = self.assertion(ASSERTION)
        try:
            record = json.loads(data["record"])
        except (TypeError, KeyError, ValueError):
            return None
        return record if isinstance(record, dict) else None


def read(data: bytes, mime: str, trust_anchors: list[bytes], sidecar: bytes | None = None) -> C2paReport | None:
    """Read and validate the manifest of `data` (or the `sidecar` manifest for it) against
    `trust_anchors` (PEM roots); None when there is no manifest."""
    settings: dict[str, Any] = {"verify": {"verify_trust": bool(trust_anchors)}}
    if trust_anchors:  # with no roots at all nothing can be trusted: the signature is still checked
        settings["trust"] = {"trust_anchors": b"".join(trust_anchors).decode()}
    try:
        ctx = c2pa.Context.from_dict(settings)
        reader = c2pa.Reader(mime, io.BytesIO(data), sidecar, context=ctx)
    except c2pa.C2paError.ManifestNotFound:
        return None
    except c2pa.C2paError as exc:
        if "JUMBF" in str(exc) or "not found" in str(exc).lower():
            return None
        raise BelamyError(f"the C2PA manifest could not be read: {exc}") from None
    with reader:
        results = reader.get_validation_results() or {}
        active = results.get("activeManifest") or {}
        failures = list(active.get("failure") or [])
        failures += [f for f in (results.get("validationStatus") or []) if f not in failures]
        manifest = reader.get_active_manifest() or json.loads(reader.json()).get("manifests", {})
        state = reader.get_validation_state() or "Invalid"
    untrusted = not trust_anchors or any(f.get("code") == "signingCredential.untrusted" for f in failures)
    return C2paReport(state, failures, manifest, untrusted)
