"""Seeded random initialisation that stays numerically sane, loudly announced.

Without pretrained weights a ResNet/SlowFast in eval mode has BatchNorm running statistics
(mean 0, var 1) that do not match its random convolutions, so activations grow or vanish over
100 layers and overflow float16. The fix is to calibrate: every BatchNorm's running statistics
are set to the batch statistics of one forward pass over seeded, data-independent frames that
look like video statistically: 1/f ("pink") noise over (T, H, W), the spectrum of natural
images, with a random brightness and contrast per clip. White noise is a poor stand-in: a net
calibrated on it gives ~1000x larger features on a black or smooth frame. After calibration
trunk features on natural-looking frames stay within tens (float16 holds 65504).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
MAX_CONTRAST = 80.0  # std of the pixel noise around the clip's brightness, in 0..255 units


class RandomInitWarning(UserWarning):
    """Features from randomly initialised weights: fine for tests, meaningless for research."""


def warn_random_init(model: str, seed: int, detail: str = "") -> None:
    warnings.warn(
        f"!!! {model}: NO WEIGHTS LOADED - features come from a RANDOMLY INITIALISED network "
        f"(random-init:{seed}){detail}. Pass --weights {model}=PATH for meaningful features. !!!",
        RandomInitWarning,
        stacklevel=2,
    )


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run a block under ``torch.manual_seed(seed)`` without touching the caller's RNG state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def natural_noise_clips(
    num_clips: int, clip_frames: int, size: tuple[int, int], seed: int
) -> np.ndarray:
    """uint8 RGB frames (num_clips * clip_frames, H, W, 3): per clip, 1/f noise over
    (T, H, W) per channel, scaled to a random contrast around a random brightness."""
    rng = np.random.default_rng(seed)
    shape = (num_clips, 3, clip_frames, *size)
    spectrum = np.fft.rfftn(rng.standard_normal(shape), axes=(2, 3, 4))
    freqs = np.meshgrid(
        np.fft.fftfreq(clip_frames),
        np.fft.fftfreq(size[0]),
        np.fft.rfftfreq(size[1]),
        indexing="ij",
    )
    radius = np.sqrt(sum(f**2 for f in freqs))
    radius[0, 0, 0] = np.inf  # drop the DC term: brightness is set explicitly below
    noise = np.fft.irfftn(spectrum / radius, s=shape[2:], axes=(2, 3, 4))
    noise /= noise.std(axis=(1, 2, 3, 4), keepdims=True)
    brightness = rng.uniform(0, 255, (num_clips, 1, 1, 1, 1))
    contrast = rng.uniform(0, MAX_CONTRAST, (num_clips, 1, 1, 1, 1))
    pixels = np.clip(noise * contrast + brightness, 0, 255).astype(np.uint8)
    return pixels.transpose(0, 2, 3, 4, 1).reshape(-1, *size, 3)  # (N*T, H, W, 3)


@torch.no_grad()
def calibrate_batchnorm(network: nn.Module, run: Callable[[], object]) -> None:
    """Set every BatchNorm's running stats of ``network`` to those of one pass of ``run()``
    (which feeds the network its calibration input), then put it in eval mode."""
    norms = [m for m in network.modules() if isinstance(m, _BATCHNORMS)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average: one pass sets exactly its batch statistics
    network.train()
    run()
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    network.eval()
