"""The two extractor interfaces the extraction pipeline drives.

Frame extractors (resnet101, slowfast) turn the sampled frames of one video into one feature
map per frame, (T, h, w, C); text extractors (roberta) turn each query sentence into per-token
features (L, C). The pipeline decodes frames at ``input_size``, calls ``preprocess`` (cheap, may
run in the decode thread), groups them into batches of whole chunks and calls ``forward``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np
import torch
from torch import nn

from stvg.stvgdata.extractors.config import ExtractorConfig
from stvg.stvgdata.video.decode import RESIZE_INTERPOLATION
from stvg.stvgdata.weights.fingerprint import Fingerprint, make_fingerprint
from stvg.stvgdata.weights.hubs import WeightsSource
from stvg.stvgdata.weights.random_init import calibrate_batchnorm, natural_noise_clips

CALIBRATION_FRAMES = 4  # at least this many frames, whole chunks, calibrate a random init

BACKBONE_STRIDE = 32  # both trunks downsample by 32 (stem /4, three stride-2 stages)


Normalization = tuple[tuple[float, float, float], tuple[float, float, float]]
"""(mean, std) per RGB channel, for pixels scaled to [0, 1]."""


def frame_fingerprint(
    model: str,
    arch: str,
    weights: WeightsSource,
    config: ExtractorConfig,
    normalization: Normalization,
    **extra: str,
) -> Fingerprint:
    """Fingerprint of a frame model: architecture, weights, model-specific ``extra`` fields,
    preprocessing (resize rule, normalization), fps, compute dtype and autocast."""
    height, width = config.input_size
    mean, std = normalization
    return make_fingerprint(
        {
            "model": model,
            "arch": arch,
            "weights": weights.fingerprint,
            **extra,
            "preprocess": f"resize {height}x{width} {RESIZE_INTERPOLATION.lower()} no-crop; "
            f"rgb/255; mean={mean}; std={std}",
            "fps": config.fps,
            "dtype": config.dtype,
            **({"autocast": config.autocast} if config.autocast else {}),  # old digests kept
        },
        weights.label,
    )


def torch_dtype(name: str) -> torch.dtype:
    """The torch floating dtype called ``name`` ("float32", "float16", ...)."""
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"unknown floating dtype {name!r}")
    return dtype


def memory_format(device: torch.device, channels_last: bool) -> torch.memory_format:
    """``channels_last`` on CUDA for networks that gain from it (convolutions on tensor cores);
    the default layout elsewhere."""
    if channels_last and device.type == "cuda":
        return torch.channels_last
    return torch.contiguous_format


class FrameExtractor(ABC):
    """One output row per sampled frame: (N, H, W, 3) uint8 frames -> (N, h, w, C) features.

    On CUDA the host batch is pinned and copied without blocking, convolutional trunks run
    ``channels_last``, and ``autocast`` (config) runs the forward in mixed precision."""

    model: str
    channels_last: bool = False  # convolutional trunks set it

    def __init__(
        self,
        network: nn.Module,
        fingerprint: Fingerprint,
        channels: int,
        config: ExtractorConfig,
        normalization: Normalization,
        chunk_frames: int = 1,
    ) -> None:
        """``chunk_frames`` is the frames per forward unit (1 for resnet101, the clip length
        for slowfast), also the fewest sampled frames a video needs (``min_frames``; fewer is
        a per-video failure). A random init's BatchNorm statistics are calibrated here (see
        random_init)."""
        self.device = torch.device(config.device)
        self.dtype = torch_dtype(config.dtype)
        self.memory_format = memory_format(self.device, self.channels_last)
        self.network = network.to(self.device, self.dtype, memory_format=self.memory_format)
        self.network.eval()
        self.autocast = None if config.autocast is None else torch_dtype(config.autocast)
        self.fingerprint = fingerprint.digest
        self.fingerprint_text = fingerprint.description
        self.weights = fingerprint.weights
        self.channels = channels
        self.input_size = tuple(config.input_size)
        self.chunk_frames = chunk_frames
        self.min_frames = chunk_frames
        mean, std = normalization  # as (1, 3, 1, 1) float32 on the device, in 0..255 units
        self._mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(std, device=self.device).view(1, 3, 1, 1) * 255.0
        if config.random_weights:
            self._calibrate_random_init(config.seed)

    def output_grid(self) -> tuple[int, int]:
        """(h, w) of the feature map for ``input_size``: ceil(H / 32), ceil(W / 32)."""
        height, width = self.input_size
        return math.ceil(height / BACKBONE_STRIDE), math.ceil(width / BACKBONE_STRIDE)

    def preprocess(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 RGB (N, H, W, 3) at ``input_size`` -> the same uint8 tensor, unconverted:
        normalization runs on the device inside ``forward``, so a GPU receives a quarter of
        the bytes of float32 frames and the CPU decode threads stay free."""
        if frames.ndim != 4 or frames.shape[1:] != (*self.input_size, 3):
            raise ValueError(f"expected frames (N, {self.input_size}, 3), got {frames.shape}")
        if frames.dtype != np.uint8:
            raise ValueError(f"expected uint8 frames, got {frames.dtype}")
        tensor = torch.from_numpy(np.ascontiguousarray(frames))
        return tensor.pin_memory() if self.device.type == "cuda" else tensor  # async copy

    def pad_chunk(self, frames: np.ndarray) -> np.ndarray:
        """Pad (N, ...) frames to a multiple of ``chunk_frames`` by repeating the last frame;
        the caller trims the extra output rows."""
        missing = -len(frames) % self.chunk_frames
        if missing == 0:
            return frames
        return np.concatenate([frames, np.repeat(frames[-1:], missing, axis=0)])

    def _calibrate_random_init(self, seed: int) -> None:
        """Give a randomly initialised network sane BatchNorm statistics."""
        num_clips = max(2, math.ceil(CALIBRATION_FRAMES / self.chunk_frames))
        frames = natural_noise_clips(num_clips, self.chunk_frames, self.input_size, seed)
        batch = self._normalize(self.preprocess(frames))
        calibrate_batchnorm(self.network, lambda: self._features(batch))

    def _normalize(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> normalized (N, 3, H, W) in the compute dtype, on the device."""
        pixels = frames.to(self.device, non_blocking=True).permute(0, 3, 1, 2).float()
        normalized = ((pixels - self._mean) / self._std).to(self.dtype)
        return normalized.contiguous(memory_format=self.memory_format)

    @torch.inference_mode()
    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) from ``preprocess``, N a multiple of ``chunk_frames`` with each
        chunk consecutive frames of one video -> float32 (N, h, w, C) on the CPU."""
        if len(batch) % self.chunk_frames:
            raise ValueError(f"batch of {len(batch)} is not a multiple of {self.chunk_frames}")
        mixed = self.autocast is not None
        with torch.autocast(self.device.type, dtype=self.autocast, enabled=mixed):
            features = self._features(self._normalize(batch))
        return features.float().cpu()

    @abstractmethod
    def _features(self, batch: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) on the device -> (N, h, w, C) on the device."""


class TextExtractor(ABC):
    """Per-token features of each query sentence (with its special tokens)."""

    model: str
    channels: int

    def __init__(self, fingerprint: Fingerprint) -> None:
        self.fingerprint = fingerprint.digest
        self.fingerprint_text = fingerprint.description
        self.weights = fingerprint.weights

    @abstractmethod
    def encode(self, sentences: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per sentence: token ids int32 (L,) and features float32 (L, C); batched inside."""
