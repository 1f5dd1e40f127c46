"""Where named pretrained weights come from: torch.hub's checkpoint cache and the Hugging Face
hub cache, the places torchvision, pytorchvideo and transformers users already fill.

A Hugging Face model is named by a local directory or a hub name (open_clip's names of OpenAI's
CLIP models, ``ViT-B-32/openai``, stand for the hub copies of the same weights), resolved one way
for every model (``hf_directory``, ``hf_weights``). A checkpoint published at a URL (torchvision,
pytorchvideo) lives in
``$TORCH_HOME/hub/checkpoints/<file name of the URL>``; a hub model (``roberta-base``) in
``$HF_HOME/hub/models--<name>/snapshots/<revision>/``. A cached copy is used as it is; a missing
one is downloaded unless ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set. When neither
works the error is one line naming the model, the cache it looked in and the two ways out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.weights.fingerprint import DIGEST_CHARS, hash_weights, random_init_tag

OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
HF_WEIGHT_FILES = ("*.json", "*.safetensors", "*.txt", "*.model")  # config, weights, tokenizer
HF_FALLBACK_WEIGHTS = ("pytorch_model.bin",)  # older repositories publish no safetensors
# open_clip's names of OpenAI's CLIP models -> the hub repositories holding the same weights
OPEN_CLIP_NAMES = {
    "ViT-B-32/openai": "openai/clip-vit-base-patch32",
    "ViT-B-16/openai": "openai/clip-vit-base-patch16",
    "ViT-L-14/openai": "openai/clip-vit-large-patch14",
    "ViT-L-14-336/openai": "openai/clip-vit-large-patch14-336",
}


@dataclass(frozen=True)
class WeightsSource:
    """What a network was loaded with: a readable ``label`` for the manifest's ``weights``
    column (``IMAGENET1K_V2``, ``roberta-base@<revision>``, ``file:<sha256 prefix>``,
    ``random-init:SEED``) and the fingerprint's ``weights`` field (the label plus a hash of
    the loaded file, so a changed file is a different feature set)."""

    label: str
    fingerprint: str


def random_source(seed: int) -> WeightsSource:
    tag = random_init_tag(seed)
    return WeightsSource(tag, tag)


def file_source(path: Path, name: str | None = None) -> WeightsSource:
    """A loaded file or directory: ``name`` (a published weights name) or ``file:<hash>``."""
    digest = hash_weights(path)  # "sha256:<hex>"
    if name is None:
        return WeightsSource(f"file:{digest.removeprefix('sha256:')[:DIGEST_CHARS]}", digest)
    return WeightsSource(name, f"{name} {digest}")


def offline() -> bool:
    """Whether the user asked for no downloads (the Hugging Face variables, for every hub)."""
    flags = (os.environ.get(name, "").lower() for name in OFFLINE_VARIABLES)
    return any(flag in ("1", "true", "yes", "on") for flag in flags)


def missing_weights(model: str, name: str, cache: Path, reason: str) -> BadInputError:
    """The one-line refusal when the named weights of ``model`` cannot be had."""
    return BadInputError(
        cache,
        model,
        f"weights {name} are not in this cache and {reason}; pass `weights` {model}=PATH "
        "(a local copy) or `random_init` (features meaningless for research)",
    )


def torch_hub_checkpoint(model: str, name: str, url: str) -> Path:
    """The torch.hub cache's copy of ``url`` (downloaded there first when allowed)."""
    import torch.hub

    cache = Path(torch.hub.get_dir()) / "checkpoints"
    path = cache / Path(url).name
    if path.is_file():
        return path
    if offline():
        raise missing_weights(model, name, cache, "downloads are off (offline)")
    cache.mkdir(parents=True, exist_ok=True)
    try:
        torch.hub.download_url_to_file(url, str(path), progress=False)
    except Exception as err:  # no network, proxy, HTTP error: the user's environment
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise missing_weights(model, name, cache, f"cannot be downloaded ({reason})") from err
    return path


def hf_cache_dir() -> Path:
    """``$HF_HUB_CACHE``, else ``$HF_HOME/hub`` (read now, not when huggingface_hub was
    imported, so a changed environment is honoured)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    return Path(os.environ.get("HF_HOME", "~/.cache/huggingface")).expanduser() / "hub"


def hf_snapshot(model: str, name: str) -> Path:
    """The Hugging Face cache's snapshot directory of hub model ``name`` (config, weights and
    tokenizer files, downloaded there first when allowed)."""
    from huggingface_hub import snapshot_download

    if Path(name).is_absolute() or name.startswith((".", "~")) or name.count("/") > 1:
        raise BadInputError(
            name, model, "not found (neither a Hugging Face directory nor a hub name)"
        )
    cache = hf_cache_dir()
    try:
        for patterns in (HF_WEIGHT_FILES, HF_FALLBACK_WEIGHTS):  # the second only when needed
            directory = Path(
                snapshot_download(
                    name,
                    allow_patterns=list(patterns),
                    local_files_only=offline(),
                    cache_dir=cache,
                )
            )
            if any(directory.glob("*.safetensors")):
                break
    except Exception as err:  # offline cache miss, no network, unknown name
        reason = (
            "downloads are off (offline)"
            if offline()
            else f"cannot be downloaded ({type(err).__name__})"
        )
        raise missing_weights(model, name, cache, reason) from err
    return directory


def hf_source(name: str, snapshot: Path) -> WeightsSource:
    """``NAME@<revision>`` (the snapshot's commit) plus the hash of its files."""
    return file_source(snapshot, f"{name}@{snapshot.name[:12]}")


def hub_name(name: str) -> str:
    """The Hugging Face hub name of ``name`` (an open_clip name such as ``ViT-B-32/openai``
    becomes the hub repository of the same weights; other names unchanged)."""
    return OPEN_CLIP_NAMES.get(name, name)


def hf_directory(model: str, weights: Path | str) -> Path:
    """The local directory of ``weights``: itself when it is a path that exists (``~``
    expanded), else the Hugging Face cache's snapshot of that hub name."""
    path = Path(str(weights)).expanduser()
    return path if path.exists() else hf_snapshot(model, hub_name(str(weights)))


def hf_weights(model: str, weights: Path | str) -> tuple[Path, WeightsSource]:
    """(local directory, weights source) of ``weights`` as ``hf_directory`` resolves it: a local
    directory is ``file:<hash>``, a hub name ``NAME@<revision>``."""
    directory = hf_directory(model, weights)
    if directory == Path(str(weights)).expanduser():
        return directory, file_source(directory)
    return directory, hf_source(hub_name(str(weights)), directory)


@contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' loading report and progress bar: problems become one line."""
    from transformers.utils import logging as hf_logging  # only where a hub model loads

    verbosity, bar = hf_logging.get_verbosity(), hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bar:
            hf_logging.enable_progress_bar()
