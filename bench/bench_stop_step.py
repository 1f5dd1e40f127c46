"""A STOP training step on cached ViT tokens vs the same step from pixels, in one run.

Cached: the batch's tokens after layer k come from the cache; the step runs the prompters, the
frozen top layers k+1..L, the heads, and the backward pass. From pixels: the same step, but
first the frozen bottom (patch embedding and layers 1..k) runs on the frames, without
gradient (nothing below the prompts trains). Both use the same random-init network (same
compute as pretrained weights) and the same batch. Run from the repo root:

    .venv/bin/python bench/bench_stop_step.py --arch b32 --layer 6 --size 224 224
"""

from __future__ import annotations

import argparse
import time
import warnings

import torch

from stvg.heads.stop.config import StopConfig
from stvg.heads.stop.frozen import FrozenTop
from stvg.heads.stop.losses import contrastive_loss
from stvg.heads.stop.model import StopDims, build_stop
from stvg.stvgdata.encoders.vit import bottom_tokens, build_vit_network, vit_layer
from stvg.stvgdata.extractors import RandomInitWarning

TEXT_TOKENS, TEXT_DIM = 16, 768  # a short sentence of RoBERTa-base features


def _seconds(step, repeats: int) -> float:
    step()  # warm-up
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="b32", help="random-init ViT shape (b32, mini, tiny)")
    parser.add_argument("--layer", type=int, default=None, help="cut k (default: half depth)")
    parser.add_argument("--size", type=int, nargs=2, default=(224, 224), metavar=("H", "W"))
    parser.add_argument("--clips", type=int, default=8, help="clips per batch")
    parser.add_argument("--frames", type=int, default=8, help="frames per clip")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RandomInitWarning)
        network, _, description = build_vit_network(None, args.arch, seed=0)
    layer = vit_layer(args.layer, network.config.num_hidden_layers)
    patch, dim = network.config.patch_size, network.config.hidden_size
    grid = (args.size[0] // patch, args.size[1] // patch)
    config = StopConfig(frames=args.frames)
    dims = StopDims(vit_dim=dim, grid=grid, text_dim=TEXT_DIM, num_classes=7)
    model = build_stop(config, dims, FrozenTop(network, layer))
    optimizer = torch.optim.AdamW(model.trainable_parameters(), lr=1e-4)
    b, t = args.clips, args.frames
    pixels = torch.randn(b * t, 3, *args.size)  # normalized frames (N, 3, H, W)
    with torch.no_grad():
        cached = bottom_tokens(network, pixels, layer).view(b, t, -1, dim)  # (B, T, 1 + P, C)
    text = torch.randn(b, TEXT_TOKENS, TEXT_DIM)
    mask = torch.ones(b, TEXT_TOKENS, dtype=torch.bool)

    def step_on(tokens_of) -> None:
        tokens = tokens_of()
        loss = contrastive_loss(
            model.encode_text(text, mask), model.encode_video(tokens), config.temperature
        )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def from_pixels() -> torch.Tensor:
        with torch.no_grad():
            return bottom_tokens(network, pixels, layer).view(b, t, -1, dim)

    cached_s = _seconds(lambda: step_on(lambda: cached), args.repeats)
    pixels_s = _seconds(lambda: step_on(from_pixels), args.repeats)
    print(f"network: {description}, cut after layer {layer} of {network.config.num_hidden_layers}")
    threads = torch.get_num_threads()
    print(f"batch: {b} clips x {t} frames at {args.size[0]}x{args.size[1]}, {threads} threads")
    print(f"step on cached tokens: {cached_s:.3f} s")
    print(f"step from pixels:      {pixels_s:.3f} s")
    print(f"ratio (pixels / cached): {pixels_s / cached_s:.2f}x")


if __name__ == "__main__":
    main()
