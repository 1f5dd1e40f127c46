"""``stvg-vl-synth`` as cache features: text-aligned frame maps and per-token text features.

CSDVL's static stream starts, in the paper, from MDETR, whose backbone and text encoder were
trained together on grounding, so frame cells and words already live in one space. MDETR's
weights cannot be downloaded here; the offline stand-in is the substitute image-text encoder
(``stvgdata.encoders.vl_synth``, made by ``stvg train-vl-encoder``; its networks, dense
tower included, live there: this module wraps them as extractors), trained on the synthetic
TRAIN split, not pretrained: features from it are not those of MDETR.

- ``vl-synth-map``: the image tower run densely over whole frames. Its conv trunk (stride
  2^stages, 16 by default) gives a map; every cell goes through the tower's projection into the
  joint space (what the tower does after pooling a crop) and cells are average-pooled to stride
  32, the grid of resnet101/slowfast at the same ``--size``: (T, ceil(H/32), ceil(W/32), D).
- ``vl-synth-motion-map``: the same dense map from a motion-aware substitute
  (``train-vl-encoder --context-frames c``, c > 1), whose tower reads each frame together with
  its neighbours stacked on channels, as its crops were: the offline stand-in for SlowFast's
  clip maps, for CSDVL's dynamic stream (``--clip-features``). Windows are centred on the frame
  and stay inside clips of ``clip_frames`` sampled frames (the edge frame repeats at a clip's
  borders, as at a video's), so a row sees no frame outside its clip, as with slowfast.
- ``vl-synth-text``: the text tower's per-token outputs in the joint space (``encode_tokens``),
  with the substitute vocabulary's token ids.

Both need ``--weights MODEL=DIR`` (a ``stvg train-vl-encoder`` directory): a random substitute
carries no alignment, so there is no random-init fallback. ``--tiny`` changes nothing.
"""

from __future__ import annotations

import numpy as np
import torch

from stvg.stvgdata.encoders.crops import window_positions
from stvg.stvgdata.encoders.vl_synth import DenseImageTower, SubstituteEncoder
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.extractors.base import (
    BACKBONE_STRIDE,
    FrameExtractor,
    TextExtractor,
    frame_fingerprint,
)
from stvg.stvgdata.extractors.config import ExtractorConfig
from stvg.stvgdata.weights.fingerprint import Fingerprint, make_fingerprint
from stvg.stvgdata.weights.hubs import WeightsSource

# images_to_tensor's scaling (rgb/255, no per-channel statistics); the tower subtracts its own
# mean buffer inside, exactly as ImageTower.forward does on crops
UNIT_SCALE = ((0.0, 0.0, 0.0), (1.0, 1.0, 1.0))


class VLSynthMapExtractor(FrameExtractor):
    model = "vl-synth-map"

    def _features(self, batch: torch.Tensor) -> torch.Tensor:
        return self.network(batch).permute(0, 2, 3, 1)  # (N, D, h, w) -> (N, h, w, D)


class VLSynthMotionMapExtractor(FrameExtractor):
    model = "vl-synth-motion-map"

    def __init__(
        self, *args: object, chunk_frames: int, context_frames: int, **kwargs: object
    ) -> None:
        # (K, c) positions inside a clip of the window of each row, set before the base class
        # could run a forward
        self.windows = torch.from_numpy(
            np.stack(
                [window_positions(i, chunk_frames, context_frames) for i in range(chunk_frames)]
            )
        )
        super().__init__(*args, chunk_frames=chunk_frames, **kwargs)
        self.windows = self.windows.to(self.device)
        self.min_frames = 1  # a short video is one padded clip; its windows repeat edge frames

    def _features(self, batch: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W), N = B clips of K frames -> (N, h, w, D): row i of a clip reads the
        window of c frames centred on i, in time order on channels (the crops' layout)."""
        n, _, height, width = batch.shape
        clips = batch.view(n // self.chunk_frames, self.chunk_frames, 3, height, width)
        stacked = clips[:, self.windows].reshape(n, -1, height, width)  # (N, 3c, H, W)
        return self.network(stacked).permute(0, 2, 3, 1)


class VLSynthTextExtractor(TextExtractor):
    model = "vl-synth-text"

    def __init__(self, encoder: SubstituteEncoder, batch_size: int) -> None:
        super().__init__(
            make_fingerprint(
                {
                    "model": self.model,
                    "arch": "stvg-vl-synth text tower, per-token projected and L2-normalized",
                    "weights": encoder.fingerprint,
                    "tokenizer": f"substitute vocabulary ({len(encoder.model.vocabulary.tokens)} "
                    f"tokens), max {encoder.model.config.max_words} words",
                }
            )
        )
        self.encoder, self.batch_size, self.channels = encoder, batch_size, encoder.dim

    def encode(self, sentences: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per sentence: substitute vocabulary ids int32 (L,) and features float32 (L, D)."""
        encoded: list[tuple[np.ndarray, np.ndarray]] = []
        vocabulary, max_words = self.encoder.model.vocabulary, self.encoder.model.config.max_words
        for start in range(0, len(sentences), self.batch_size):
            batch = sentences[start : start + self.batch_size]
            ids, mask = vocabulary.encode(batch, max_words)  # (B, L) padded
            tokens = self.encoder.encode_tokens(batch)  # per sentence (L_i, D)
            for row, features in enumerate(tokens):
                row_ids = ids[row, : int(mask[row].sum())].numpy().astype(np.int32)
                encoded.append((row_ids, features.astype(np.float32)))
        return encoded


def load_substitute(model: str, config: ExtractorConfig) -> SubstituteEncoder:
    """The trained substitute named by ``--weights model=DIR``; a one-line error without it."""
    if config.weights is None:
        raise BadInputError.for_field(
            "weights",
            model,
            f"{model} needs a trained stvg-vl-synth encoder: train one with "
            f"`stvg train-vl-encoder --dataset D --output DIR`, then pass `weights` {model}=DIR",
        )
    return SubstituteEncoder(config.weights, device=config.device)


def _trunk_pool(encoder: SubstituteEncoder, model: str, motion: bool) -> int:
    """Pooling factor from the trunk's stride (2 per stage) to ``BACKBONE_STRIDE``; the map
    needs a single-frame encoder, the motion map a multi-frame one."""
    stride = 2 ** len(encoder.model.config.channels)
    wanted = "a multi-frame (`context_frames` 3)" if motion else "a single-frame"
    if (encoder.context_frames > 1) != motion or BACKBONE_STRIDE % stride:
        raise BadInputError(
            encoder.weights,
            model,
            f"needs {wanted} encoder with trunk stride dividing {BACKBONE_STRIDE} "
            f"(this one: context_frames={encoder.context_frames}, stride {stride})",
        )
    return BACKBONE_STRIDE // stride


def _dense_tower(
    model: str, config: ExtractorConfig, motion: bool
) -> tuple[SubstituteEncoder, DenseImageTower, Fingerprint]:
    """The substitute named by ``--weights model=DIR``, its dense tower and the map's
    fingerprint (the motion map's names its windows)."""
    encoder = load_substitute(model, config)
    pool = _trunk_pool(encoder, model, motion)
    mean = float(encoder.model.image.mean.flatten()[0])
    extra = {}
    if motion:
        extra["clip"] = (
            f"windows of {encoder.context_frames} sampled frames centred on each, inside "
            f"clips of {config.clip_frames} (edge frame repeated at clip borders)"
        )
    fingerprint = frame_fingerprint(
        model,
        f"stvg-vl-synth image tower dense: trunk, per-cell projection, {pool}x{pool} avg pool "
        f"(ceil), stride {BACKBONE_STRIDE}",
        WeightsSource(encoder.fingerprint, encoder.fingerprint),
        config,
        UNIT_SCALE,
        tower_mean=f"{mean:g} subtracted inside",
        **extra,
    )
    return encoder, DenseImageTower(encoder.model.image, pool), fingerprint


def build_vl_synth_map(config: ExtractorConfig) -> VLSynthMapExtractor:
    """Dense text-aligned maps from the substitute's image tower (D = its joint dim)."""
    encoder, tower, fingerprint = _dense_tower(VLSynthMapExtractor.model, config, motion=False)
    return VLSynthMapExtractor(
        tower, fingerprint, channels=encoder.dim, config=config, normalization=UNIT_SCALE
    )


def build_vl_synth_motion_map(config: ExtractorConfig) -> VLSynthMotionMapExtractor:
    """Dense maps of a motion-aware substitute over windows of consecutive sampled frames."""
    model = VLSynthMotionMapExtractor.model
    encoder, tower, fingerprint = _dense_tower(model, config, motion=True)
    return VLSynthMotionMapExtractor(
        tower,
        fingerprint,
        channels=encoder.dim,
        config=config,
        normalization=UNIT_SCALE,
        chunk_frames=config.clip_frames,
        context_frames=encoder.context_frames,
    )


def build_vl_synth_text(config: ExtractorConfig) -> VLSynthTextExtractor:
    """Per-token features of the substitute's text tower."""
    encoder = load_substitute(VLSynthTextExtractor.model, config)
    return VLSynthTextExtractor(encoder, config.text_batch_size)


__all__ = ["build_vl_synth_map", "build_vl_synth_motion_map", "build_vl_synth_text"]
