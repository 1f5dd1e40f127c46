"""RoBERTa per-token query features: the last hidden state of every token, <s> and </s> included.

Weights come from a Hugging Face hub name (default ``roberta-base``) through the hub's cache,
or a local Hugging Face directory (config.json, weights, tokenizer files). On ``--random-init``
there is no RoBERTa vocabulary, so the stand-in is honest about it: a byte tokenizer (the 256
byte tokens after the 4 specials, no merges, i.e. byte-level BPE with an empty merge table)
feeding a randomly initialised roberta-base-shaped encoder whose vocabulary is those 260
tokens. Both facts are warned and written into the fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoConfig,
    AutoTokenizer,
    PreTrainedTokenizerBase,
    RobertaConfig,
    RobertaModel,
)

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors.base import TextExtractor, torch_dtype
from stvg.stvgdata.extractors.config import ExtractorConfig
from stvg.stvgdata.weights.fingerprint import Fingerprint, make_fingerprint
from stvg.stvgdata.weights.hubs import hf_weights, quiet_transformers, random_source
from stvg.stvgdata.weights.random_init import seeded, warn_random_init

Tokenize = Callable[[list[str]], tuple[torch.Tensor, torch.Tensor]]
"""sentences -> (token ids (B, L) int64 padded, attention mask (B, L))."""

DEFAULT_WEIGHTS = "roberta-base"
MAX_TOKENS = 512  # roberta-base's 514 positions minus the padding offset


class ByteTokenizer:
    """UTF-8 bytes as tokens: <s>=0, <pad>=1, </s>=2, <unk>=3, byte b -> 4 + b."""

    BOS, PAD, EOS, UNK, FIRST_BYTE = 0, 1, 2, 3, 4
    VOCAB_SIZE = FIRST_BYTE + 256
    NAME = "byte-fallback(256 bytes + 4 specials, no merges)"

    def __call__(self, sentences: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        rows = [
            [self.BOS, *(self.FIRST_BYTE + b for b in s.encode()[: MAX_TOKENS - 2]), self.EOS]
            for s in sentences
        ]
        ids = torch.full((len(rows), max(map(len, rows))), self.PAD, dtype=torch.int64)
        mask = torch.zeros_like(ids)
        for row, tokens in enumerate(rows):
            ids[row, : len(tokens)] = torch.tensor(tokens)
            mask[row, : len(tokens)] = 1
        return ids, mask


class RobertaExtractor(TextExtractor):
    model = "roberta"

    def __init__(
        self,
        encoder: RobertaModel,
        tokenize: Tokenize,
        fingerprint: Fingerprint,
        config: ExtractorConfig,
    ) -> None:
        super().__init__(fingerprint)
        self.device = torch.device(config.device)
        self.encoder = encoder.to(self.device, torch_dtype(config.dtype)).eval()
        self.tokenize = tokenize
        self.channels = encoder.config.hidden_size
        self.batch_size = config.text_batch_size

    @torch.inference_mode()
    def encode(self, sentences: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per sentence: token ids int32 (L,) and features float32 (L, C). Sentences are
        batched in length order so padding stays short."""
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        encoded: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            ids, mask = self.tokenize([sentences[i] for i in batch])
            hidden = self.encoder(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device)
            ).last_hidden_state  # (B, L, C)
            hidden, lengths = hidden.float().cpu().numpy(), mask.sum(dim=1).tolist()
            for row, index in enumerate(batch):
                length = lengths[row]
                encoded[index] = (
                    ids[row, :length].numpy().astype(np.int32),
                    hidden[row, :length].astype(np.float32),
                )
        return [encoded[i] for i in range(len(sentences))]


def _roberta_config(tiny: bool) -> RobertaConfig:
    """roberta-base's shape with the byte vocabulary (``tiny``: 2 layers of width 32)."""
    sizes = (
        {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
        }
        if tiny
        else {}
    )
    return RobertaConfig(
        vocab_size=ByteTokenizer.VOCAB_SIZE,
        pad_token_id=ByteTokenizer.PAD,
        bos_token_id=ByteTokenizer.BOS,
        eos_token_id=ByteTokenizer.EOS,
        max_position_embeddings=MAX_TOKENS + 2,
        **sizes,
    )


def _hf_tokenize(tokenizer: PreTrainedTokenizerBase) -> Tokenize:
    def tokenize(sentences: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        out = tokenizer(
            sentences, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt"
        )
        return out["input_ids"], out["attention_mask"]

    return tokenize


def _load_pretrained(source: Path) -> tuple[RobertaModel, Tokenize]:
    """(encoder, tokenizer) from a local Hugging Face directory."""
    if not source.is_dir():
        raise BadInputError(source, None, "roberta weights must be a Hugging Face directory")
    try:
        model_type = AutoConfig.from_pretrained(str(source), local_files_only=True).model_type
    except (OSError, ValueError) as err:
        reason = f"no usable config.json: {str(err).splitlines()[0]}"
        raise BadInputError(source, "config.json", reason) from err
    if model_type != "roberta":
        raise BadInputError(source, "config.json", f"model_type {model_type!r} is not roberta")
    try:
        with quiet_transformers():
            encoder, info = RobertaModel.from_pretrained(
                str(source),
                local_files_only=True,
                add_pooling_layer=False,
                output_loading_info=True,
                ignore_mismatched_sizes=True,  # reported below as one line, naming the key
            )
    except (OSError, ValueError, RuntimeError) as err:
        raise BadInputError(
            source, None, f"cannot load weights: {str(err).splitlines()[0]}"
        ) from err
    problems = [("missing key", key) for key in info["missing_keys"]] + [
        ("shape mismatch", entry[0] if isinstance(entry, tuple) else entry)
        for entry in info.get("mismatched_keys", [])
    ]
    if problems:
        kind, key = problems[0]
        raise BadInputError(source, key, f"{kind} (not a roberta checkpoint of this config)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source), local_files_only=True)
    except (OSError, ValueError, TypeError) as err:
        raise BadInputError(source, None, f"no usable tokenizer files: {err}") from err
    return encoder, _hf_tokenize(tokenizer)


def build_roberta(config: ExtractorConfig) -> RobertaExtractor:
    """RoBERTa named by ``config.weights`` (default roberta-base), or on ``random_init`` the
    byte-vocabulary random encoder."""
    if config.random_weights:
        warn_random_init(
            RobertaExtractor.model,
            config.seed,
            detail=", byte tokenizer without RoBERTa's vocabulary",
        )
        with seeded(config.seed):
            encoder = RobertaModel(_roberta_config(config.tiny), add_pooling_layer=False)
        tokenize, tokenizer_name = ByteTokenizer(), ByteTokenizer.NAME
        weights = random_source(config.seed)
    else:
        name = DEFAULT_WEIGHTS if config.weights is None else config.weights
        directory, weights = hf_weights(RobertaExtractor.model, name)
        encoder, tokenize = _load_pretrained(directory)
        tokenizer_name = "hf-tokenizer(from weights)"
    arch = encoder.config
    fingerprint = make_fingerprint(
        {
            "model": RobertaExtractor.model,
            "arch": f"roberta hidden={arch.hidden_size} layers={arch.num_hidden_layers} "
            f"heads={arch.num_attention_heads} vocab={arch.vocab_size}, last_hidden_state",
            "weights": weights.fingerprint,
            "tokenizer": f"{tokenizer_name}, max {MAX_TOKENS} tokens with <s> </s>",
            "dtype": config.dtype,
        },
        weights.label,
    )
    return RobertaExtractor(encoder, tokenize, fingerprint, config)
