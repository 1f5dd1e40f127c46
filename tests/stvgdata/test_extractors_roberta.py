"""RoBERTa query features: the offline byte fallback, local HF directories and their errors."""

from __future__ import annotations

import json
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from tokenizers import ByteLevelBPETokenizer
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast, RobertaConfig, RobertaModel

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors import ExtractorConfig, RandomInitWarning, build_extractor
from tests.helpers import build_random

TINY = ExtractorConfig(tiny=True, random_init=True)
SENTENCES = ["the man in red walks to the car", "who?", "", "a café — naïve"]
TINY_SIZES = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}


def fallback(**changes):
    return build_random("roberta", replace(TINY, **changes))


@pytest.fixture(scope="module")
def hf_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny RoBERTa saved the Hugging Face way, with a byte-level BPE tokenizer."""
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        SENTENCES * 4, vocab_size=280, special_tokens=["<s>", "<pad>", "</s>", "<unk>"]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, bos_token="<s>", pad_token="<pad>", eos_token="</s>"
    )
    config = RobertaConfig(vocab_size=len(tokenizer), intermediate_size=64, **TINY_SIZES)
    path = tmp_path_factory.mktemp("hf") / "tiny-roberta"
    RobertaModel(config, add_pooling_layer=False).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def test_byte_fallback_tokens_and_features() -> None:
    with pytest.warns(RandomInitWarning, match="byte tokenizer"):
        extractor = build_extractor("roberta", TINY)
    encoded = extractor.encode(SENTENCES)
    assert len(encoded) == len(SENTENCES) and extractor.channels == 32
    for sentence, (token_ids, features) in zip(SENTENCES, encoded, strict=True):
        expected = [0, *(4 + b for b in sentence.encode()), 2]
        assert token_ids.dtype == np.int32 and token_ids.tolist() == expected
        assert features.dtype == np.float32 and features.shape == (len(expected), 32)
        assert np.isfinite(features).all()
    assert "random-init:0" in extractor.fingerprint_text
    assert "byte-fallback" in extractor.fingerprint_text


def test_features_do_not_depend_on_batching_or_order() -> None:
    one_batch = fallback(text_batch_size=32).encode(SENTENCES)
    small_batches = fallback(text_batch_size=1).encode(SENTENCES[::-1])[::-1]
    for (ids_a, feats_a), (ids_b, feats_b) in zip(one_batch, small_batches, strict=True):
        np.testing.assert_array_equal(ids_a, ids_b)
        np.testing.assert_allclose(feats_a, feats_b, atol=1e-5)


def test_seed_determines_weights_and_fingerprint() -> None:
    first, again, other = fallback(), fallback(), fallback(seed=1)
    np.testing.assert_array_equal(first.encode(["hi"])[0][1], again.encode(["hi"])[0][1])
    assert not np.allclose(first.encode(["hi"])[0][1], other.encode(["hi"])[0][1])
    assert first.fingerprint == again.fingerprint != other.fingerprint


def test_local_hf_directory_loads_model_and_tokenizer(hf_directory: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", RandomInitWarning)
        extractor = build_extractor("roberta", replace(TINY, weights=hf_directory))
    token_ids, features = extractor.encode(["the man walks"])[0]
    assert features.shape == (len(token_ids), 32)
    assert (
        "sha256:" in extractor.fingerprint_text and "random-init" not in extractor.fingerprint_text
    )


def _one_line_error(weights: Path | str) -> str:
    with pytest.raises(BadInputError) as caught:
        build_extractor("roberta", replace(TINY, weights=weights))
    assert "\n" not in str(caught.value) and str(weights) in str(caught.value)
    return str(caught.value)


def test_directory_of_another_architecture_is_refused(tmp_path: Path) -> None:
    bert = tmp_path / "bert"
    BertModel(BertConfig(intermediate_size=64, **TINY_SIZES)).save_pretrained(bert)
    assert "model_type 'bert' is not roberta" in _one_line_error(bert)


def test_weights_that_do_not_fit_their_config_name_the_key(
    hf_directory: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for file in hf_directory.iterdir():
        (wrong / file.name).write_bytes(file.read_bytes())
    config = json.loads((wrong / "config.json").read_text())
    config.update(hidden_size=64, num_attention_heads=4)
    (wrong / "config.json").write_text(json.dumps(config))
    assert "shape mismatch" in _one_line_error(wrong)


def test_a_file_or_an_unreachable_hub_name_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "model.bin"
    file.write_bytes(b"\0" * 16)
    assert "must be a Hugging Face directory" in _one_line_error(file)
    assert "not in this cache" in _one_line_error("no-such-org/no-such-roberta")
