"""Peak memory of extracting a 10-minute video vs a 1-minute one: it must stay flat.

Each extraction runs in its own process (tiny networks, resnet101 + slowfast, 5 fps) and
reports its peak RSS; decoding streams bounded chunks and rows go to disk as they are computed,
so the 10-minute video should peak where the 1-minute one does.

    .venv/bin/python bench/bench_memory.py [--minutes 10] [--size 96x160]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from stvg.stvgdata.extract import ExtractConfig, run_extraction
from stvg.stvgdata.sample_catalog import CatalogVideo, install_catalog, write_video
from stvg.stvgdata.workspace import Workspace

SOURCE_FPS = 10


def extract_and_report(ws_path: str, size: str) -> None:
    """Child process: extract everything in the workspace, print peak RSS as JSON."""
    warnings.simplefilter("ignore")
    height, width = (int(v) for v in size.split("x"))
    config = ExtractConfig(
        dataset="vidstg",
        models=("resnet101", "slowfast"),
        fps=5.0,
        input_size=(height, width),
        tiny=True,
        random_init=True,
    )
    summary = run_extraction(Workspace(Path(ws_path)), config)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"frames": summary.frames, "seconds": summary.seconds, "peak_kib": peak_kib}))


def measure(root: Path, minutes: int, size: str) -> dict:
    frames = SOURCE_FPS * 60 * minutes
    height, width = (int(v) for v in size.split("x"))
    video = write_video(root / f"{minutes}min.mp4", frames, SOURCE_FPS, (height, width))
    ws = Workspace(root / f"ws-{minutes}")
    install_catalog(ws, [CatalogVideo(f"m{minutes}", video, frames)])
    child = [sys.executable, __file__, "--child", str(ws.root), "--size", size]
    result = subprocess.run(child, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--size", default="96x160", help="source and model frame size HxW")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        extract_and_report(args.child, args.size)
        return
    root = Path(tempfile.mkdtemp(prefix="stvg-bench-memory-"))
    short, long = measure(root, 1, args.size), measure(root, args.minutes, args.size)
    for minutes, run in ((1, short), (args.minutes, long)):
        print(
            f"{minutes:3d} min video: {run['frames']:6d} sampled frames in "
            f"{run['seconds']:6.1f} s, peak RSS {run['peak_kib'] / 1024:7.1f} MiB"
        )
    ratio = long["peak_kib"] / short["peak_kib"]
    print(f"ratio peak RSS {args.minutes} min / 1 min = {ratio:.3f}x (flat = 1.0)")


if __name__ == "__main__":
    main()
