"""Pure forward throughput of each backbone on already decoded frames.

The extraction pipeline's end-to-end rate is judged against this number (target: end-to-end
time <= 1.10x the forward time of the same backbone, frames and batch). Run from the repo root:

    .venv/bin/python bench/bench_forward.py --models resnet101,slowfast --size 224 384 --batch 16
"""

from __future__ import annotations

import argparse
import time
import warnings
from dataclasses import dataclass

import torch

from stvg.stvgdata.extractors import (
    ExtractorConfig,
    FrameExtractor,
    RandomInitWarning,
    build_extractor,
)
from stvg.stvgdata.weights.random_init import natural_noise_clips


@dataclass(frozen=True)
class ForwardTiming:
    model: str
    frames: int  # frames timed (warm-up batch excluded)
    batch_frames: int
    preprocess_s: float  # numpy frames -> the tensor forward takes, all timed frames
    forward_s: float  # transfer, normalization, network, copy back; all timed frames

    @property
    def frames_per_s(self) -> float:
        return self.frames / self.forward_s

    @property
    def s_per_frame(self) -> float:
        return self.forward_s / self.frames


def measure_forward(
    extractor: FrameExtractor, num_frames: int, batch_frames: int, seed: int = 0
) -> ForwardTiming:
    """Time ``extractor.forward`` over ``num_frames`` decoded frames in batches of
    ``batch_frames`` (rounded up to whole chunks), after one untimed warm-up batch."""
    chunk = extractor.chunk_frames
    batch_frames = -(-batch_frames // chunk) * chunk
    num_batches = max(1, -(-num_frames // batch_frames))
    clips = natural_noise_clips(1, batch_frames, extractor.input_size, seed)  # (B, H, W, 3)
    extractor.forward(extractor.preprocess(clips))  # warm-up: allocator, kernels, caches
    preprocess_s = forward_s = 0.0
    for _ in range(num_batches):
        start = time.perf_counter()
        batch = extractor.preprocess(clips)
        middle = time.perf_counter()
        extractor.forward(batch)
        if extractor.device.type == "cuda":
            torch.cuda.synchronize(extractor.device)
        preprocess_s += middle - start
        forward_s += time.perf_counter() - middle
    return ForwardTiming(
        extractor.model, num_batches * batch_frames, batch_frames, preprocess_s, forward_s
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet101,slowfast")
    parser.add_argument("--size", type=int, nargs=2, default=(224, 384), metavar=("H", "W"))
    parser.add_argument("--batch", type=int, default=16, help="frames per forward")
    parser.add_argument("--frames", type=int, default=64, help="frames to time")
    parser.add_argument("--clip-frames", type=int, default=32)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    base = ExtractorConfig(
        input_size=tuple(args.size),
        device=args.device,
        dtype=args.dtype,
        tiny=args.tiny,
        random_init=True,  # timing only: random weights cost the same as pretrained ones
        clip_frames=args.clip_frames,
    )
    print(f"torch threads={torch.get_num_threads()} device={args.device} size={args.size}")
    for model in args.models.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RandomInitWarning)
            extractor = build_extractor(model, base)
        timing = measure_forward(extractor, args.frames, args.batch)
        print(
            f"{model:10s} batch={timing.batch_frames:3d} frames={timing.frames:4d} "
            f"forward {timing.frames_per_s:8.2f} frames/s "
            f"({timing.s_per_frame * 1e3:7.1f} ms/frame)  "
            f"preprocess {timing.preprocess_s / timing.frames * 1e3:6.2f} ms/frame"
        )


if __name__ == "__main__":
    main()
