"""Extraction end-to-end vs the pure forward time of the same backbones on the same frames.

Writes synthetic 640x360 H.264 videos, runs ``run_extraction`` (decode threads, batching,
HDF5 writer thread, manifest commit), then times ``preprocess`` + ``forward`` alone on the
same sampled frames, already decoded in memory, in the same batch sizes. Prints the ratio
(target <= 1.10x). Random-init weights: speed does not depend on the weight values.

    .venv/bin/python bench/bench_extract.py [--videos 2] [--seconds 40] [--size 128x224]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from stvg.stvgdata.extract import ExtractConfig, build_extractors, run_extraction
from stvg.stvgdata.sample_catalog import CatalogVideo, install_catalog, write_video
from stvg.stvgdata.video import iter_frames, probe, sample_frame_indices
from stvg.stvgdata.workspace import Workspace

SOURCE_FPS = 30
SOURCE_SIZE = (360, 640)


def pure_forward_seconds(config: ExtractConfig, paths: list[Path]) -> float:
    """Time of preprocess + forward over every video's sampled frames, decoded beforehand."""
    extractors = build_extractors(config)
    clips = []
    for path in paths:
        info = probe(path)
        frame_idx = sample_frame_indices(info.num_frames, info.fps, config.target_fps)
        clips.append(np.stack([rgb for _, rgb in iter_frames(path, frame_idx, config.frame_size)]))
    seconds = 0.0
    for extractor in extractors.values():
        step = -(-config.batch_size // extractor.chunk_frames) * extractor.chunk_frames
        for frames in clips:
            for start in range(0, len(frames), step):
                batch = extractor.pad_chunk(frames[start : start + step])
                began = time.perf_counter()
                extractor.forward(extractor.preprocess(batch))
                seconds += time.perf_counter() - began
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=40, help="length of each video")
    parser.add_argument("--size", default="128x224", help="frame size HxW fed to the models")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))
    warnings.simplefilter("ignore")
    root = Path(tempfile.mkdtemp(prefix="stvg-bench-extract-"))
    videos = [
        CatalogVideo(
            f"v{i}",
            write_video(root / f"v{i}.mp4", SOURCE_FPS * args.seconds, SOURCE_FPS, SOURCE_SIZE),
            SOURCE_FPS * args.seconds,
        )
        for i in range(args.videos)
    ]
    ws = Workspace(root / "ws")
    install_catalog(ws, videos)
    config = ExtractConfig(
        dataset="vidstg",
        models=("resnet101", "slowfast"),
        fps=5.0,
        input_size=(height, width),
        random_init=True,  # timing only
    )
    began = time.perf_counter()
    summary = run_extraction(ws, config)
    total = time.perf_counter() - began
    forward = pure_forward_seconds(config, [video.path for video in videos])
    print(f"videos={args.videos} x {args.seconds}s {SOURCE_SIZE[1]}x{SOURCE_SIZE[0]}@{SOURCE_FPS}")
    print(f"models=resnet101+slowfast input={height}x{width} sampled_frames={summary.frames}")
    print(f"torch_threads={torch.get_num_threads()}")
    print(f"pure forward (decoded frames):      {forward:8.2f} s")
    print(f"extraction work (decode->commit):   {summary.seconds:8.2f} s")
    print(f"extraction incl. model build, plan: {total:8.2f} s")
    print(f"ratio work / forward  = {summary.seconds / forward:.3f}x (target <= 1.10x)")
    print(f"ratio total / forward = {total / forward:.3f}x")


if __name__ == "__main__":
    main()
