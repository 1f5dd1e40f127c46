"""A CSDVL training step on cached features vs the end-to-end step on the same batch.

End-to-end = decode the sampled frames of every query (PyAV), run ResNet-101 and SlowFast on
them and RoBERTa on the sentences (stvg's extractors, full size, random init: same
compute as pretrained), collate, then the head step. Cached = collate the already-extracted
features and take the head step (reading rows from the HDF5 cache is timed by
bench/bench_read.py). Target: ratio >= 20x. Then one forward/backward of the paper-size head
(d = 256, N = 6, full-size feature dims on a 7 x 12 grid). Run from the repo root:

    .venv/bin/python bench/bench_train_step.py --queries 4 --frames 32 --size 224 384
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from stvg.heads.csdvl.config import CSDVLConfig, preset
from stvg.heads.csdvl.losses import csdvl_losses
from stvg.heads.csdvl.model import FeatureDims, build_csdvl
from stvg.stvgdata.extractors import ExtractorConfig, RandomInitWarning, build_extractor
from stvg.stvgdata.loader import collate_queries
from stvg.stvgdata.sample_catalog import write_video
from stvg.stvgdata.video import iter_frames

SENTENCE = "the red square moves to the left while the blue circle stays still."


def query_item(query_id: str, frame_idx: np.ndarray, frame_feats, clip_feats, tokens, size) -> dict:
    """One loader item (stvgdata.loader layout) with a GT box on the middle third."""
    t = len(frame_idx)
    tube = np.array([t // 3, 2 * t // 3])
    box_mask = (np.arange(t) >= tube[0]) & (np.arange(t) < tube[1])
    boxes = np.where(box_mask[:, None], [[0.5, 0.4, 0.2, 0.3]], 0).astype(np.float32)
    token_ids, text_feats = tokens
    return {
        "query_id": query_id,
        "video_id": "bench",
        "sentence_type": "declarative",
        "frame_idx": frame_idx,
        "image_size": np.array([size[1], size[0]], np.float32),
        "fps": 5.0,
        "frame_feats": frame_feats,
        "clip_feats": clip_feats,
        "text_feats": text_feats,
        "token_ids": token_ids,
        "boxes": boxes,
        "box_mask": box_mask,
        "tube": tube,
    }


def head_step(model, optimizer, batch: dict, config: CSDVLConfig) -> float:
    """One optimizer step of the head; returns its loss."""
    losses = csdvl_losses(model(batch), batch, config)
    optimizer.zero_grad(set_to_none=True)
    losses["total"].backward()
    optimizer.step()
    return float(losses["total"].detach())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=4)
    parser.add_argument("--frames", type=int, default=32, help="sampled frames per query")
    parser.add_argument("--size", type=int, nargs=2, default=(224, 384), metavar=("H", "W"))
    parser.add_argument("--repeats", type=int, default=3, help="cached steps timed")
    parser.add_argument("--paper-frames", type=int, default=32)
    args = parser.parse_args()
    size = tuple(args.size)
    warnings.simplefilter("ignore", RandomInitWarning)
    config = ExtractorConfig(input_size=size, clip_frames=args.frames, random_init=True)
    frame_model, clip_model, text_model = (
        build_extractor(name, config) for name in ("resnet101", "slowfast", "roberta")
    )
    head_config = preset("small").model
    stride = 5  # 25 fps video sampled at 5 fps
    with tempfile.TemporaryDirectory() as tmp:
        video = write_video(Path(tmp) / "bench.mp4", args.frames * stride, 25, size)
        frame_idx = np.arange(args.frames) * stride

        def extract(query: int) -> dict:
            frames = np.stack([rgb for _, rgb in iter_frames(video, frame_idx, size)])
            frame_feats = frame_model.forward(frame_model.preprocess(frames)).numpy()
            clip_feats = clip_model.forward(clip_model.preprocess(frames)).numpy()
            (tokens,) = text_model.encode([SENTENCE])
            return query_item(f"q{query}", frame_idx, frame_feats, clip_feats, tokens, size)

        torch.manual_seed(0)
        warm_items = [extract(0)]
        model = build_csdvl(head_config, FeatureDims.of_batch(collate_queries(warm_items)))
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        head_step(model, optimizer, collate_queries(warm_items), head_config)  # warm-up

        start = time.perf_counter()
        items = [extract(q) for q in range(args.queries)]
        head_step(model, optimizer, collate_queries(items), head_config)
        end_to_end_s = time.perf_counter() - start

        start = time.perf_counter()
        for _ in range(args.repeats):
            head_step(model, optimizer, collate_queries(items), head_config)
        cached_s = (time.perf_counter() - start) / args.repeats

    print(
        f"batch: {args.queries} queries x {args.frames} frames at {size[0]}x{size[1]}, "
        f"small head (d={head_config.d_model}, N={head_config.num_layers}), "
        f"{torch.get_num_threads()} threads"
    )
    print(f"end-to-end step (decode + backbones + head): {end_to_end_s:.2f} s")
    print(f"cached-feature step (collate + head):       {cached_s:.3f} s")
    print(f"ratio: {end_to_end_s / cached_s:.1f}x (target >= 20x)")

    paper = CSDVLConfig()
    grid = frame_model.output_grid()
    batch = collate_queries(
        [
            query_item(
                "paper",
                np.arange(args.paper_frames),
                np.random.randn(args.paper_frames, *grid, frame_model.channels).astype(np.float32),
                np.random.randn(args.paper_frames, *grid, clip_model.channels).astype(np.float32),
                (np.arange(20), np.random.randn(20, text_model.channels).astype(np.float32)),
                size,
            )
        ]
    )
    model = build_csdvl(paper, FeatureDims.of_batch(batch))
    start = time.perf_counter()
    losses = csdvl_losses(model(batch), batch, paper)
    forward_s = time.perf_counter() - start
    losses["total"].backward()
    backward_s = time.perf_counter() - start - forward_s
    params = sum(p.numel() for p in model.parameters()) / 1e6
    print(
        f"paper head (d={paper.d_model}, N={paper.num_layers}, {params:.1f} M parameters), "
        f"1 query x {args.paper_frames} frames, grid {grid[0]}x{grid[1]}, dims "
        f"{frame_model.channels}/{clip_model.channels}/{text_model.channels}: "
        f"forward {forward_s:.1f} s, backward {backward_s:.1f} s"
    )


if __name__ == "__main__":
    main()
