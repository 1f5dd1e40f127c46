"""SlowFast clip features on the same frame timeline as resnet101 (one row per sampled frame).

Alignment: a video's sampled frames are cut into consecutive, non-overlapping clips of
``clip_frames`` (K) frames; the last partial clip is padded by repeating its last frame and the
padded rows are dropped. For the row of the i-th frame of clip c (sampled frame t = c*K + i):
- fast part (last C/9 channels): the fast pathway's map at clip position i; the fast pathway
  keeps all K frames (no temporal stride), its temporal kernels look at neighbouring sampled
  frames inside the same clip (zero padding at clip borders);
- slow part (first 8C/9 channels): the slow pathway's map at position i // alpha, repeated over
  its alpha rows; the slow pathway sees frames c*K + alpha*j (every alpha-th frame of the clip,
  starting with the first), so rows c*K + alpha*j ... c*K + alpha*j + alpha - 1 share one map.
No row sees frames outside its clip: at 5 fps and K = 32 a clip spans 6.4 s of video.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import torch

from stvg.stvgdata.extractors.base import FrameExtractor, frame_fingerprint
from stvg.stvgdata.extractors.config import ExtractorConfig
from stvg.stvgdata.extractors.weights import trunk_weights
from stvg.stvgdata.weights.random_init import seeded

with warnings.catch_warnings():
    # fvcore, imported by pytorchvideo.models, calls the deprecated torch.jit.script at import
    # time: the warning concerns fvcore's code and would only add noise to every extraction.
    warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
    from pytorchvideo.models.hub.slowfast import checkpoint_paths
    from pytorchvideo.models.net import Net
    from pytorchvideo.models.slowfast import create_slowfast

KINETICS_NORMALIZATION = ((0.45, 0.45, 0.45), (0.225, 0.225, 0.225))  # (mean, std)
# variant -> (depth, fast-to-slow fusion kernel) as in pytorchvideo's hub models, so their
# Kinetics checkpoints (slowfast_r50 / slowfast_r101) load unchanged
VARIANTS = {"r50": (50, (7, 1, 1)), "r101": (101, (5, 1, 1))}
# pytorchvideo's Kinetics-400 checkpoints of the 8x8 models, by hub name (slowfast_r50, ...)
PUBLISHED = {f"slowfast_{variant}": checkpoint_paths[f"slowfast_{variant}"] for variant in VARIANTS}
TRUNK_BLOCKS = 5  # stem + four res stages; blocks 5 (pathway pooling) and 6 (head) are dropped
HEAD_PREFIXES = ("blocks.5.", "blocks.6.")
FULL_STEM = (64, 8)  # slow/fast stem widths of the published models -> C = 2048 + 256
TINY_STEM = (16, 2)  # -> C = 512 + 64


class SlowFastExtractor(FrameExtractor):
    model = "slowfast"

    def __init__(self, *args: object, config: ExtractorConfig, **kwargs: object) -> None:
        self.alpha = config.alpha  # before the base class runs a calibration forward
        self.config_fields = {"variant": config.variant}  # the trunk built (see trunk_variant)
        super().__init__(*args, config=config, **kwargs)

    def _features(self, batch: torch.Tensor) -> torch.Tensor:
        n, _, height, width = batch.shape
        k = self.chunk_frames
        fast = batch.view(n // k, k, 3, height, width).transpose(1, 2)  # (B, 3, K, H, W)
        slow = fast[:, :, :: self.alpha]  # (B, 3, K / alpha, H, W)
        slow_map, fast_map = self.network([slow, fast])  # (B, Cs, K/a, h, w), (B, Cf, K, h, w)
        slow_map = slow_map.repeat_interleave(self.alpha, dim=2)  # (B, Cs, K, h, w)
        clip_maps = torch.cat([slow_map, fast_map], dim=1)  # (B, C, K, h, w)
        return clip_maps.permute(0, 2, 3, 4, 1).reshape(n, *clip_maps.shape[-2:], -1)


def trunk_variant(config: ExtractorConfig) -> str:
    """The trunk a published checkpoint was trained as (``slowfast_r101`` -> ``r101``), so that
    ``--weights slowfast=slowfast_r101`` builds the R101 trunk; else ``config.variant``."""
    name = None if config.weights is None else str(config.weights)
    return name.removeprefix("slowfast_") if name in PUBLISHED else config.variant


def _trunk(config: ExtractorConfig) -> tuple[Net, str, int]:
    """(trunk, architecture name, output channels) for the configured variant."""
    if config.variant not in VARIANTS:
        raise ValueError(
            f"unknown slowfast variant {config.variant!r}; choose from {list(VARIANTS)}"
        )
    depth, fusion_kernel = VARIANTS[config.variant]
    stem = TINY_STEM if config.tiny else FULL_STEM
    network = create_slowfast(
        model_depth=18 if config.tiny else depth,
        stem_dim_outs=stem,
        slowfast_fusion_conv_kernel_size=fusion_kernel,
        slowfast_fusion_conv_stride=(config.alpha, 1, 1),
    )
    arch = f"slowfast-{config.variant}" + ("-tiny(depth18,stem16)" if config.tiny else "")
    channels = stem[0] * 32 + stem[1] * 32  # each pathway widens its stem 32x by res5
    return Net(blocks=network.blocks[:TRUNK_BLOCKS]), arch, channels


def build_slowfast(config: ExtractorConfig) -> SlowFastExtractor:
    """pytorchvideo SlowFast trunk (R50 default; R101 for ``variant="r101"`` or the weights
    ``slowfast_r101``), alpha slow/fast ratio, with pytorchvideo's Kinetics checkpoint of the
    variant by default."""
    config = replace(config, variant=trunk_variant(config))
    if config.clip_frames % config.alpha:
        raise ValueError(f"clip_frames={config.clip_frames} must be a multiple of alpha")
    with seeded(config.seed):
        trunk, arch, channels = _trunk(config)
    weights = trunk_weights(
        trunk,
        config,
        SlowFastExtractor.model,
        arch,
        ignored_prefixes=HEAD_PREFIXES,
        published=PUBLISHED,
        default=f"slowfast_{config.variant}",
    )
    fingerprint = frame_fingerprint(
        SlowFastExtractor.model,
        f"{arch} trunk to res5, slow repeated x alpha ++ fast",
        weights,
        config,
        KINETICS_NORMALIZATION,
        clip=f"{config.clip_frames} sampled frames, alpha={config.alpha}, no overlap",
    )
    return SlowFastExtractor(
        trunk,
        fingerprint,
        channels=channels,
        config=config,
        normalization=KINETICS_NORMALIZATION,
        chunk_frames=config.clip_frames,
    )
