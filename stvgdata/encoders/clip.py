"""CLIP (``transformers.CLIPModel``), the encoder E3M uses, from a Hugging Face directory.

The directory holds ``config.json``, the weights and the tokenizer files, as
``save_pretrained`` writes them (``--weights clip=PATH``), or is the Hugging Face cache's
snapshot of a hub name (``--weights clip=NAME``; default OpenAI's ViT-B/32, downloaded into
the cache unless offline). There is never a random CLIP. Images are
resized to the vision tower's square input and normalized with the directory's
``preprocessor_config.json`` mean/std (OpenAI's when absent).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from transformers import AutoTokenizer, CLIPModel

from stvg.stvgdata.encoders.base import CLIP as NAME
from stvg.stvgdata.encoders.crops import images_to_tensor
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.weights.fingerprint import hash_weights, make_fingerprint
from stvg.stvgdata.weights.hubs import hf_directory

DEFAULT_WEIGHTS = "openai/clip-vit-base-patch32"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


def clip_directory(weights: Path | str | None) -> Path:
    """The local directory of ``weights``: itself, or the hub cache's snapshot of a name."""
    return hf_directory(NAME, DEFAULT_WEIGHTS if weights is None else weights)


def _normalization(directory: Path) -> tuple[tuple[float, ...], tuple[float, ...]]:
    path = directory / "preprocessor_config.json"
    if not path.is_file():
        return OPENAI_MEAN, OPENAI_STD
    saved = json.loads(path.read_text())
    return tuple(saved.get("image_mean", OPENAI_MEAN)), tuple(saved.get("image_std", OPENAI_STD))


class ClipEncoder:
    """CLIP behind the ``VisionLanguageEncoder`` interface (eval mode, on ``device``)."""

    def __init__(self, directory: Path, device: str = "cpu") -> None:
        directory = Path(directory)
        if not (directory / "config.json").is_file():
            raise BadInputError(
                directory,
                None,
                "not a Hugging Face CLIP directory (no config.json); pass `weights` clip=PATH "
                "with a save_pretrained() copy of a CLIP model and its tokenizer",
            )
        try:
            self.model = CLIPModel.from_pretrained(directory, local_files_only=True).eval()
            self.tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True)
        except (OSError, ValueError) as err:
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise BadInputError(directory, None, f"cannot load CLIP: {reason}") from err
        self.device = torch.device(device)
        self.model.to(self.device)
        mean, std = _normalization(directory)
        self.mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1)
        self.std = torch.tensor(std, device=self.device).view(1, 3, 1, 1)
        self.image_size = int(self.model.config.vision_config.image_size)
        self.context_frames = 1  # CLIP sees one frame
        self.dim = int(self.model.config.projection_dim)
        self.max_tokens = int(self.model.config.text_config.max_position_embeddings)
        self.weights = str(directory)
        digest = make_fingerprint({"model": NAME, "weights": hash_weights(directory)}).digest
        self.fingerprint = f"{NAME}:{digest}"

    @torch.inference_mode()
    def encode_images(self, images: np.ndarray) -> np.ndarray:
        pixels = (images_to_tensor(images, self.device) - self.mean) / self.std  # (n, 3, S, S)
        pooled = self.model.vision_model(pixel_values=pixels).pooler_output
        return F.normalize(self.model.visual_projection(pooled), dim=-1).cpu().numpy()

    def _inputs(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Token ids and attention mask (n, L), padded, cut at the model's length."""
        inputs = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_tokens,
            return_tensors="pt",
        )
        return {name: tensor.to(self.device) for name, tensor in inputs.items()}

    @torch.inference_mode()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        inputs = self._inputs(texts)
        pooled = self.model.text_model(**inputs).pooler_output  # the EOS token's state
        return F.normalize(self.model.text_projection(pooled), dim=-1).cpu().numpy()

    @torch.inference_mode()
    def encode_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        if not texts:
            return []
        inputs = self._inputs(texts)
        hidden = self.model.text_model(**inputs).last_hidden_state  # (n, L, width)
        tokens = F.normalize(self.model.text_projection(hidden), dim=-1).cpu()  # (n, L, D)
        mask = inputs["attention_mask"].cpu()
        return [tokens[i, : int(mask[i].sum())].numpy() for i in range(len(texts))]
