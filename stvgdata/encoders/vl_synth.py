"""``stvg-vl-synth``: a small image-text dual encoder, the offline stand-in for CLIP.

Pretrained CLIP weights cannot be downloaded here, so stvg trains this encoder contrastively on
the synthetic TRAIN split (``vl_synth_train`` beside it): a four-layer CNN over 48x48 region
crops and a two-layer transformer over word tokens, both projected into one D-dimensional space.
Because it saw (crop, sentence) pairs of the synthetic training videos, results computed with
it are not zero-shot in the paper's sense; heads built on it stay training-free.

``context_frames`` c > 1 makes the image tower see a region on c consecutive sampled frames
(crops of the same box stacked on channels, ``stvgdata.encoders.crops``): a stand-in for a
video-language region encoder, since on the synthetic benchmark the only temporal cue is motion
and a single frame (CLIP's input) cannot show it. The fingerprint names the setting.

Token embeddings (``encode_tokens``) are the per-token outputs put through the same linear
projection as the sentence: the sentence embedding is their masked mean, normalized, so a word
and the sentence live in one space.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from stvg.stvgdata.atomic import atomic_output
from stvg.stvgdata.encoders.base import SUBSTITUTE as NAME
from stvg.stvgdata.encoders.config import SubstituteConfig
from stvg.stvgdata.encoders.crops import images_to_tensor
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.weights.fingerprint import hash_weights, make_fingerprint

PAD, UNK = 0, 1
_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def words(text: str) -> list[str]:
    """Lower-case word and punctuation tokens: 'The red square.' -> the, red, square, '.'."""
    return _WORD.findall(text.lower())


class Vocabulary:
    """Word -> id, built from training sentences; unseen words map to UNK."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)  # index = id; 0 = <pad>, 1 = <unk>
        self.ids = {token: i for i, token in enumerate(self.tokens)}

    @classmethod
    def build(cls, sentences: Iterable[str], min_count: int = 1) -> Vocabulary:
        counts = Counter(word for sentence in sentences for word in words(sentence))
        kept = sorted(word for word, n in counts.items() if n >= min_count)
        return cls(["<pad>", "<unk>", *kept])

    def encode(self, texts: Sequence[str], max_words: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(ids (n, L) int64 padded, mask (n, L) bool true on real tokens); L >= 1."""
        tokenized = [[self.ids.get(w, UNK) for w in words(t)][:max_words] or [UNK] for t in texts]
        length = max(len(t) for t in tokenized)
        ids = torch.full((len(texts), length), PAD, dtype=torch.int64)
        for row, tokens in enumerate(tokenized):
            ids[row, : len(tokens)] = torch.tensor(tokens)
        return ids, ids != PAD


class ImageTower(nn.Module):
    """CNN: (n, 3c, S, S) float in [0, 1], c = ``context_frames`` -> (n, D) unnormalized."""

    def __init__(self, config: SubstituteConfig) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        channels_in = width = 3 * config.context_frames
        for out in config.channels:
            layers += [
                nn.Conv2d(width, out, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(out),
                nn.ReLU(inplace=True),
            ]
            width = out
        self.trunk = nn.Sequential(*layers)
        self.project = nn.Linear(width, config.dim)
        self.register_buffer("mean", torch.full((1, channels_in, 1, 1), 0.5))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.trunk(images - self.mean)  # (n, C, S/16, S/16)
        return self.project(maps.mean(dim=(2, 3)))


class TextTower(nn.Module):
    """Word embeddings + positions + transformer: ids (n, L) -> token vectors (n, L, D)."""

    def __init__(self, config: SubstituteConfig, vocab_size: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, config.text_width, padding_idx=PAD)
        self.position = nn.Parameter(torch.zeros(config.max_words, config.text_width))
        layer = nn.TransformerEncoderLayer(
            config.text_width,
            config.text_heads,
            dim_feedforward=2 * config.text_width,
            dropout=0.0,
            batch_first=True,
        )
        self.encoder = nn.TransformerEncoder(layer, config.text_layers, enable_nested_tensor=False)
        self.project = nn.Linear(config.text_width, config.dim)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hidden = self.embed(ids) + self.position[: ids.shape[1]]
        hidden = self.encoder(hidden, src_key_padding_mask=~mask)
        return self.project(hidden)

    def sentence(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(n, D) unnormalized: masked mean of the projected tokens."""
        tokens = self(ids, mask) * mask.unsqueeze(-1)
        return tokens.sum(1) / mask.sum(1, keepdim=True).clamp(min=1)


class DualEncoder(nn.Module):
    """Both towers and CLIP's learnable temperature."""

    def __init__(self, config: SubstituteConfig, vocabulary: Vocabulary) -> None:
        super().__init__()
        self.config, self.vocabulary = config, vocabulary
        self.image = ImageTower(config)
        self.text = TextTower(config, len(vocabulary.tokens))
        self.log_scale = nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))

    def embed_images(self, images: torch.Tensor) -> torch.Tensor:
        """(n, 3c, S, S) in [0, 1] -> (n, D) L2-normalized."""
        return F.normalize(self.image(images), dim=-1)

    def embed_texts(self, texts: Sequence[str]) -> torch.Tensor:
        """(n, D) L2-normalized sentence embeddings."""
        ids, mask = self.vocabulary.encode(texts, self.config.max_words)
        device = self.log_scale.device
        return F.normalize(self.text.sentence(ids.to(device), mask.to(device)), dim=-1)


class DenseImageTower(nn.Module):
    """The image tower over whole frames: (N, 3, H, W) in [0, 1] -> (N, D, ceil(H/32), ceil(W/32))
    projected cells, pooled by ``pool`` from the trunk's stride
    (to the 32 of resnet101/slowfast's grid: ``stvgdata.extractors.base.BACKBONE_STRIDE``)."""

    def __init__(self, tower: ImageTower, pool: int) -> None:
        super().__init__()
        self.trunk, self.project, self.pool = tower.trunk, tower.project, pool
        self.register_buffer("mean", tower.mean.clone())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        maps = self.trunk(images - self.mean)  # (N, C, H/s, W/s), s = trunk stride
        cells = torch.einsum("nchw,dc->ndhw", maps, self.project.weight)
        cells = cells + self.project.bias[None, :, None, None]  # (N, D, H/s, W/s)
        return F.avg_pool2d(cells, self.pool, ceil_mode=True)  # (N, D, H/32, W/32)


MODEL_FILE, CONFIG_FILE = "model.pt", "config.json"


def save_dual_encoder(model: DualEncoder, directory: Path, provenance: dict[str, object]) -> None:
    """Write ``config.json`` (sizes, vocabulary, provenance) and ``model.pt`` (state dict),
    each atomically; the weights file goes last, so a reader never pairs new config with old
    weights silently (the fingerprint hashes both)."""
    directory.mkdir(parents=True, exist_ok=True)
    config = {
        "name": NAME,
        "config": asdict(model.config),
        "vocabulary": model.vocabulary.tokens,
        "provenance": provenance,
    }
    with atomic_output(directory / CONFIG_FILE) as tmp:
        tmp.write_text(json.dumps(config, indent=1))
    with atomic_output(directory / MODEL_FILE) as tmp:
        torch.save(model.state_dict(), tmp)


def substitute_fingerprint(weights_hash: str, context_frames: int) -> str:
    """``stvg-vl-synth:<digest>`` for one frame (as before the option existed, so existing caches
    stay valid), ``stvg-vl-synth:context<c>-<digest>`` for c frames, the digest covering c."""
    if context_frames == 1:
        return f"{NAME}:{make_fingerprint({'model': NAME, 'weights': weights_hash}).digest}"
    fields = {"model": NAME, "weights": weights_hash, "context_frames": context_frames}
    return f"{NAME}:context{context_frames}-{make_fingerprint(fields).digest}"


class SubstituteEncoder:
    """``stvg-vl-synth`` behind the ``VisionLanguageEncoder`` interface (eval mode)."""

    def __init__(self, directory: Path, device: str = "cpu") -> None:
        directory = Path(directory)
        config_path, model_path = directory / CONFIG_FILE, directory / MODEL_FILE
        if not (config_path.is_file() and model_path.is_file()):
            raise BadInputError(
                directory,
                None,
                f"no trained {NAME} encoder here (need {CONFIG_FILE} and {MODEL_FILE}); "
                "train one with `stvg train-vl-encoder --dataset D`",
            )
        saved = json.loads(config_path.read_text())
        fields = dict(saved["config"])
        fields["channels"] = tuple(fields["channels"])
        config = SubstituteConfig(**fields)
        self.model = DualEncoder(config, Vocabulary(saved["vocabulary"]))
        state = torch.load(model_path, map_location="cpu", weights_only=True)
        self.model.load_state_dict(state)
        self.model.to(device).eval()
        self.device = torch.device(device)
        self.provenance = saved.get("provenance", {})
        self.weights = str(directory)
        self.dim, self.image_size = config.dim, config.image_size
        self.context_frames = config.context_frames
        self.fingerprint = substitute_fingerprint(hash_weights(directory), config.context_frames)

    @torch.inference_mode()
    def encode_images(self, images: np.ndarray) -> np.ndarray:
        return self.model.embed_images(images_to_tensor(images, self.device)).cpu().numpy()

    @torch.inference_mode()
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return self.model.embed_texts(texts).cpu().numpy()

    def cell_similarity(self, cells: np.ndarray, sentence: str) -> np.ndarray:
        """Cosine of every cell of a map this encoder made, (T, H, W, C), with the sentence's
        embedding -> (T, H*W): how well each place matches the words, before any head is
        trained (the probes in bench/ read it)."""
        flat = cells.reshape(len(cells), -1, cells.shape[-1])
        flat = flat / np.linalg.norm(flat, axis=-1, keepdims=True).clip(1e-6)
        return flat @ self.encode([sentence])[0]  # the embedding is unit-length

    @torch.inference_mode()
    def encode_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        if not texts:
            return []
        ids, mask = self.model.vocabulary.encode(texts, self.model.config.max_words)
        tokens = F.normalize(self.model.text(ids.to(self.device), mask.to(self.device)), dim=-1)
        tokens = tokens.cpu()
        return [tokens[i, : int(mask[i].sum())].numpy() for i in range(len(texts))]
