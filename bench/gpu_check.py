"""One-command GPU check of extraction: half precision + channels_last, and autocast, against
float32.

For each backbone, times ``forward`` on decoded frames in float32 and in half precision with
channels_last weights and under ``autocast`` (the extractor's own CUDA path: pinned batches,
ResNet channels_last), and prints the speed ratio and the largest relative feature difference;
then extracts a few synthetic videos end to end (``run_extraction`` on the device) in both
dtypes and prints that ratio. Random-init weights (speed does not depend on their values).
Without CUDA it prints one line and exits 0, so it is safe to run anywhere:

    .venv/bin/python bench/gpu_check.py [--models resnet101,slowfast] [--videos 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_forward import measure_forward  # noqa: E402
from stvg.stvgdata.extract import ExtractConfig, run_extraction  # noqa: E402
from stvg.stvgdata.extractors import ExtractorConfig, build_extractor  # noqa: E402
from stvg.stvgdata.sample_catalog import CatalogVideo, install_catalog, write_video  # noqa: E402
from stvg.stvgdata.weights.random_init import natural_noise_clips  # noqa: E402
from stvg.stvgdata.workspace import Workspace  # noqa: E402

SOURCE_FPS = 25
SOURCE_SIZE = (360, 640)


def build(model: str, config: ExtractorConfig, channels_last: bool):
    """The extractor, its weights in channels-last order when asked (3D for video convs)."""
    extractor = build_extractor(model, config)
    if channels_last:
        rank = max(parameter.ndim for parameter in extractor.network.parameters())
        layout = torch.channels_last_3d if rank == 5 else torch.channels_last
        extractor.network.to(memory_format=layout)
    return extractor


def compare_forward(model: str, base: ExtractorConfig, half: str, frames: int, batch: int) -> None:
    """float32 vs ``half`` + channels_last: speed ratio and largest relative difference."""
    reference = build(model, base, channels_last=False)
    fast = build(model, replace(base, dtype=half), channels_last=True)
    slow_t = measure_forward(reference, frames, batch)
    fast_t = measure_forward(fast, frames, batch)
    clips = natural_noise_clips(1, fast.chunk_frames, base.input_size, seed=1)
    expected = reference.forward(reference.preprocess(clips))
    got = fast.forward(fast.preprocess(clips))
    error = ((got - expected).abs().max() / expected.abs().max().clamp_min(1e-6)).item()
    print(
        f"{model:10s} forward float32 {slow_t.frames_per_s:8.1f} frames/s, "
        f"{half}+channels_last {fast_t.frames_per_s:8.1f} frames/s: "
        f"ratio {fast_t.frames_per_s / slow_t.frames_per_s:5.2f}x, max rel diff {error:.2e}"
    )
    mixed = build(model, replace(base, autocast=half), channels_last=False)
    mixed_t = measure_forward(mixed, frames, batch)
    got = mixed.forward(mixed.preprocess(clips))
    error = ((got - expected).abs().max() / expected.abs().max().clamp_min(1e-6)).item()
    print(
        f"{model:10s} forward autocast {half} {mixed_t.frames_per_s:8.1f} frames/s: "
        f"ratio {mixed_t.frames_per_s / slow_t.frames_per_s:5.2f}x, max rel diff {error:.2e}"
    )


def compare_extraction(models: tuple[str, ...], args: argparse.Namespace, half: str) -> None:
    """End-to-end extraction of synthetic videos on the device in float32, then ``half``."""
    root = Path(tempfile.mkdtemp(prefix="stvg-gpu-check-"))
    frames = SOURCE_FPS * args.seconds
    videos = [
        CatalogVideo(
            f"v{i}", write_video(root / f"v{i}.mp4", frames, SOURCE_FPS, SOURCE_SIZE), frames
        )
        for i in range(args.videos)
    ]
    seconds = {}
    for dtype in ("float32", half):
        ws = Workspace(root / f"ws-{dtype}")
        install_catalog(ws, videos)
        config = ExtractConfig(
            dataset="vidstg",
            models=models,
            fps=5.0,
            input_size=args.size,
            device=args.device,
            compute_dtype=dtype,
            batch_size=args.batch,
            random_init=True,
        )
        began = time.perf_counter()
        summary = run_extraction(ws, config)
        seconds[dtype] = time.perf_counter() - began
        print(f"extract {dtype:8s} {summary.frames} frames in {seconds[dtype]:6.2f} s")
    print(f"extract ratio float32/{half}: {seconds['float32'] / seconds[half]:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet101,slowfast")
    parser.add_argument("--size", type=int, nargs=2, default=(224, 384), metavar=("H", "W"))
    parser.add_argument("--batch", type=int, default=64, help="frames per forward")
    parser.add_argument("--frames", type=int, default=256, help="frames to time per model")
    parser.add_argument("--videos", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20, help="length of each video")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--half", default="float16", help="float16 or bfloat16")
    parser.add_argument("--tiny", action="store_true", help="tiny networks (script check)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: skipped, no CUDA device")
        return
    warnings.simplefilter("ignore")
    args.size = tuple(args.size)
    models = tuple(args.models.split(","))
    print(
        f"device={args.device} ({torch.cuda.get_device_name() if args.device != 'cpu' else 'cpu'})"
    )
    base = ExtractorConfig(
        input_size=args.size, device=args.device, tiny=args.tiny, random_init=True
    )
    for model in models:
        compare_forward(model, base, args.half, args.frames, args.batch)
    compare_extraction(models, args, args.half)


if __name__ == "__main__":
    main()
