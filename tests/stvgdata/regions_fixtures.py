"""Small inputs for the region tests: the cache tests' tiny videos and catalog, plus tubelets
and detections on them and a tiny saved ``stvg-vl-synth`` encoder (untrained: the tests check
plumbing, shapes and bookkeeping, never what the embeddings mean)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import torch

from stvg.stvgdata.catalog import replace_part
from stvg.stvgdata.encoders.config import SubstituteConfig
from stvg.stvgdata.encoders.vl_synth import (
    DualEncoder,
    Vocabulary,
    save_dual_encoder,
)
from stvg.stvgdata.sample_catalog import DATASET, install_catalog, make_videos
from stvg.stvgdata.workspace import Workspace

LENGTHS = {"v1": 12, "v2": 16}  # frames of each test video (10 fps, every frame sampled)
TINY = SubstituteConfig(
    dim=8, image_size=16, channels=(4, 8), text_width=8, text_layers=1, text_heads=2
)
SOURCE = "synthetic-simulated"


def box_rows(video_id: str, num_frames: int, with_tubelet: bool) -> list[dict]:
    """Two objects per frame: the square's box (object 0) and a box in the bottom corner."""
    rows = []
    for frame in range(num_frames):
        for obj, box in enumerate([(8.0, 6.0, 30.0, 30.0), (40.0, 30.0, 60.0, 46.0)]):
            row = dict(
                dataset=DATASET,
                video_id=video_id,
                frame_idx=frame,
                x1=box[0] + frame % 3,
                y1=box[1],
                x2=box[2] + frame % 3,
                y2=box[3],
                score=None if with_tubelet and frame == 1 else 0.9 - 0.1 * obj,
                label="square" if obj == 0 else "circle",
                source=SOURCE,
            )
            if with_tubelet:
                row |= {"tubelet_id": obj, "observed": frame != 1}
            rows.append(row)
    return rows


def install_boxes(ws: Workspace, table: str, lengths: dict[str, int]) -> None:
    """The detections or tubelets table of ``lengths``' videos."""
    rows = [r for v, n in lengths.items() for r in box_rows(v, n, table == "tubelets")]
    replace_part(ws, table, (DATASET, SOURCE), pa.Table.from_pylist(rows))


def regions_workspace(root: Path, lengths: dict[str, int] = LENGTHS) -> Workspace:
    """A workspace with two tiny videos (2 queries each), their detections and tubelets."""
    ws = Workspace(root / "ws")
    install_catalog(ws, make_videos(root / "videos", lengths), queries_per_video=2)
    install_boxes(ws, "detections", lengths)
    install_boxes(ws, "tubelets", lengths)
    return ws


def tiny_substitute(directory: Path, seed: int = 0, context_frames: int = 1) -> Path:
    """Save an untrained tiny dual encoder (vocabulary of the test sentences) to ``directory``;
    ``context_frames`` > 1 gives the motion-aware variant."""
    torch.manual_seed(seed)
    vocabulary = Vocabulary.build(["the red square moves 0 1 ."])
    config = replace(TINY, context_frames=context_frames)
    save_dual_encoder(DualEncoder(config, vocabulary), directory, {"test": True})
    return directory
