"""Fingerprints: what produced a feature set, so caches never mix incompatible features.

A fingerprint is a human-readable description (``key=value`` fields joined by ``; ``) and a
short digest of it. The digest goes into the manifest; the description into HDF5 attributes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from stvg.schemas.tables import RANDOM_INIT_PREFIX

_CHUNK_BYTES = 1 << 20
DIGEST_CHARS = 16


@dataclass(frozen=True)
class Fingerprint:
    digest: str  # 16 hex characters of sha256(description)
    description: str  # e.g. "model=resnet101; arch=...; weights=random-init:0; ...; fps=5"
    weights: str = ""  # readable weights label: IMAGENET1K_V2, file:<hash>, random-init:0, ...


def make_fingerprint(fields: dict[str, object], weights: str | None = None) -> Fingerprint:
    """Fingerprint of ordered ``fields`` (model, arch, weights, preprocess, fps, ...);
    ``weights`` is the readable label (default: the ``weights`` field itself)."""
    description = "; ".join(f"{key}={value}" for key, value in fields.items())
    digest = hashlib.sha256(description.encode()).hexdigest()[:DIGEST_CHARS]
    label = str(fields.get("weights", "")) if weights is None else weights
    return Fingerprint(digest=digest, description=description, weights=label)


def hash_weights(path: Path) -> str:
    """``sha256:<16 hex>`` over a weights file, or over every file of a weights directory
    (relative names and contents, in sorted order), so renaming a checkpoint keeps its hash."""
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    digest = hashlib.sha256()
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                digest.update(chunk)
    return f"sha256:{digest.hexdigest()[:DIGEST_CHARS]}"


def random_init_tag(seed: int) -> str:
    """The weights field of a fingerprint when no weights were loaded."""
    return f"{RANDOM_INIT_PREFIX}{seed}"
