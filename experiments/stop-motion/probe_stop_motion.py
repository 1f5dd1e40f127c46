"""Is motion in a vit cache? A small probe trained on the tokens STOP's prompters read.

STOP's prompters see the frozen ViT's cached patch tokens and their frame-to-frame
differences; they can only add motion that a small network can read there. This probe asks
that before any prompt is trained: on a split's queries (the clip of each query: ``frames``
rows over its GT tube, as `stvg train --method stop` samples them), a 3D-conv network of the
prompters' kind over the standardized token differences, pooled over the patches, learns the
motion class the sentence names (bounce, circle, still, left, right, up, down) on the train
queries and is scored on the others:

- ``--where frame``: pooled over the whole frame, as the prompters see it. Every object of a
  synthetic scene moves, so a frame holds several motions and only one is the sentence's: the
  accuracy this can reach is capped below 1.
- ``--where target``: pooled inside the described object's GT boxes of the two frames of each
  difference (each patch weighted by its share of the box area): the motion of one object,
  given where it is. Held-out accuracy near the majority share means the cached tokens do not
  carry that object's motion in a form that carries over to unseen videos.

The pooling weights alone say something: where the boxes are over the clip traces the path,
and ViT tokens carry their position. ``--control`` gives every query another query's clip
tokens (same split, pooling weights kept): what the probe reads from the boxes' positions
alone; the tokens' own share is the gap between the two runs.

Prints, per split, the accuracy, the share of the most frequent class (a constant guess) and
their ratio. See this folder's README, "Is motion in the cache?".

    .venv/bin/python experiments/stop-motion/probe_stop_motion.py --workspace WS \\
        [--where target] [--control]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stvg.heads.stop.data import VIDEO_MODEL, clip_rows, load_split  # noqa: E402
from stvg.heads.stop.labels import MOTIONS, motion_class  # noqa: E402
from stvg.heads.stop.prompts import conv_net, token_volume, volume_tokens  # noqa: E402
from stvg.stvgdata.cache import manifest_rows  # noqa: E402
from stvg.stvgdata.catalog import query  # noqa: E402
from stvg.stvgdata.encoders.vit_pretrain import box_patch_weights  # noqa: E402
from stvg.stvgdata.workspace import Workspace  # noqa: E402

SPLITS = ("train", "val", "test")
CHANNELS = 32  # the prompters' default conv width


@dataclass
class MotionQueries:
    """One split's queries that name a motion: their clip (index into ``clips``), label, and
    the pooling weights over the patches of each frame difference (Q, T - 1, P)."""

    clips: torch.Tensor  # (G, T, 1 + P, C) cached tokens, float16
    clip: torch.Tensor  # (Q,)
    label: torch.Tensor  # (Q,)
    pool: torch.Tensor  # (Q, T - 1, P), rows sum to 1
    grid: tuple[int, int]


def _box_table(ws: Workspace, dataset: str, split: str) -> dict[str, dict[int, np.ndarray]]:
    """GT boxes per query and frame as fractions of the frame (x1, y1, x2, y2 in 0..1), so they
    scale to whatever size the ViT saw."""
    rows = query(
        ws,
        "SELECT b.query_id, b.frame_idx, b.x1, b.y1, b.x2, b.y2, v.width, v.height "
        "FROM boxes b JOIN queries q USING (dataset, query_id) JOIN videos v "
        "USING (dataset, video_id) WHERE q.dataset = ? AND q.split = ?",
        [dataset, split],
    ).to_pylist()
    boxes: dict[str, dict[int, np.ndarray]] = {}
    for row in rows:
        box = np.array([row["x1"], row["y1"], row["x2"], row["y2"]], np.float32)
        boxes.setdefault(row["query_id"], {})[row["frame_idx"]] = box / np.array(
            [row["width"], row["height"]] * 2, np.float32
        )
    return boxes


def _target_pool(
    frames: np.ndarray, boxes: dict[int, np.ndarray], grid: tuple[int, int], patch: int
) -> torch.Tensor:
    """(T - 1, P) weights of each difference: the mean of the box-area shares of its two frames
    (a frame without a GT box contributes nothing; uniform if neither has one)."""
    scale = torch.tensor([grid[1], grid[0]] * 2, dtype=torch.float32) * patch  # frame pixels
    shares = []
    for frame in frames:
        box = boxes.get(int(frame))
        shares.append(
            torch.zeros(grid[0] * grid[1])
            if box is None
            else box_patch_weights(torch.from_numpy(box)[None] * scale, grid, patch)[0]
        )
    stacked = torch.stack(shares)
    pool = stacked[1:] + stacked[:-1]
    empty = pool.sum(-1, keepdim=True) == 0
    pool = torch.where(empty, torch.ones_like(pool), pool)
    return pool / pool.sum(-1, keepdim=True)


def load_motion_queries(
    ws: Workspace, dataset: str, split: str, frames: int, where: str
) -> MotionQueries:
    """The split's queries whose sentence names a motion, with STOP's clips (the cached tokens
    of ``frames`` rows over each tube) and the pooling weights ``where`` asks for."""
    data = load_split(ws, dataset, split, frames)
    height, width = data.frame_size
    patch = round((height * width / (data.clips.shape[2] - 1)) ** 0.5)
    sentences = {
        row["query_id"]: row["sentence"]
        for row in query(
            ws,
            "SELECT query_id, sentence FROM queries WHERE dataset = ? AND split = ?",
            [dataset, split],
        ).to_pylist()
    }
    timeline = {
        row["video_id"]: np.asarray(row["frame_idx"])
        for row in manifest_rows(ws, dataset, VIDEO_MODEL).to_pylist()
    }
    boxes = _box_table(ws, dataset, split) if where == "target" else {}
    grid = (height // patch, width // patch)
    uniform = torch.full((frames - 1, grid[0] * grid[1]), 1.0 / (grid[0] * grid[1]))
    keep, labels, pools = [], [], []
    for index, query_id in enumerate(data.query_ids):
        label = motion_class(sentences[query_id])
        if label < 0:
            continue
        clip = int(data.target[index])
        if where == "target":
            video_id, start, end = data.clip_keys[clip]
            rows = clip_rows(timeline[video_id], (start, end), frames)
            frame_idx = timeline[video_id][rows]
            pools.append(_target_pool(frame_idx, boxes.get(query_id, {}), grid, patch))
        else:
            pools.append(uniform)
        keep.append(clip)
        labels.append(label)
    return MotionQueries(
        data.clips, torch.tensor(keep), torch.tensor(labels), torch.stack(pools), grid
    )


class MotionProbe(nn.Module):
    """Standardized token differences -> the prompters' 3D-conv network -> pooled over the
    patches with the given weights -> mean over the differences -> motion-class logits."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, grid: tuple[int, int]) -> None:
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)
        self.grid = grid
        self.network = conv_net(len(mean), CHANNELS, CHANNELS)
        self.classify = nn.Linear(CHANNELS, len(MOTIONS))

    def forward(self, tokens: torch.Tensor, pool: torch.Tensor) -> torch.Tensor:
        """``tokens`` (B, T, 1 + P, C), ``pool`` (B, T - 1, P) -> logits (B, K)."""
        patches = (tokens[:, :, 1:].float() - self.mean) / self.std
        delta = patches[:, 1:] - patches[:, :-1]
        features = volume_tokens(self.network(token_volume(delta, self.grid)))  # (B,T-1,P,k)
        pooled = (pool.unsqueeze(-1) * features).sum(2)  # (B, T - 1, k)
        return self.classify(pooled.mean(1))


def token_statistics(clips: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the patch tokens (train clips): the probe's standardization."""
    patches = clips[:, :, 1:].float().flatten(0, 2)
    return patches.mean(0), patches.std(0).clamp_min(1e-6)


def swap_clips(data: MotionQueries, seed: int) -> MotionQueries:
    """The control: each query keeps its label and pooling weights but reads the clip of
    another query of the split (a random permutation)."""
    order = torch.randperm(len(data.clip), generator=torch.Generator().manual_seed(seed))
    return MotionQueries(data.clips, data.clip[order], data.label, data.pool, data.grid)


def batch_of(data: MotionQueries, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return data.clips[data.clip[index]], data.pool[index]


def fit_probe(train: MotionQueries, epochs: int, seed: int) -> MotionProbe:
    torch.manual_seed(seed)
    probe = MotionProbe(*token_statistics(train.clips), train.grid)
    optimizer = torch.optim.AdamW(probe.parameters(), lr=1e-3, weight_decay=0.01)
    for _ in range(epochs):
        order = torch.randperm(len(train.label))
        for start in range(0, len(order), 64):
            index = order[start : start + 64]
            loss = F.cross_entropy(probe(*batch_of(train, index)), train.label[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return probe


@torch.no_grad()
def score(probe: MotionProbe, data: MotionQueries) -> dict[str, float]:
    """Accuracy, the most frequent class's share, and their ratio, over the split's queries."""
    index = torch.arange(len(data.label))
    predicted = torch.cat(
        [probe(*batch_of(data, index[s : s + 256])).argmax(1) for s in range(0, len(index), 256)]
    )
    accuracy = float((predicted == data.label).float().mean())
    majority = float(torch.bincount(data.label, minlength=len(MOTIONS)).max() / len(data.label))
    return {
        "queries": len(data.label),
        "accuracy": accuracy,
        "majority": majority,
        "ratio": accuracy / majority,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--dataset", default="vidstg")
    parser.add_argument("--where", choices=("frame", "target"), default="frame")
    parser.add_argument("--frames", type=int, default=4, help="frames per clip, as STOP's")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--control", action="store_true", help="another query's tokens")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    ws = Workspace.resolve(args.workspace)
    splits = {
        split: load_motion_queries(ws, args.dataset, split, args.frames, args.where)
        for split in SPLITS
    }
    if args.control:
        splits = {split: swap_clips(data, args.seed) for split, data in splits.items()}
    probe = fit_probe(splits["train"], args.epochs, args.seed)
    results = {split: score(probe, data) for split, data in splits.items()}
    if args.json:
        summary = {"where": args.where, "control": args.control, "frames": args.frames}
        print(json.dumps({**summary, "splits": results}))
        return
    tokens = "another query's clip (control)" if args.control else "the query's clip"
    print(f"motion class from {tokens}: cached vit differences pooled over the {args.where}")
    for split, result in results.items():
        print(
            f"  {split:5s} {result['queries']:5d} queries  accuracy {result['accuracy']:.3f}  "
            f"majority {result['majority']:.3f}  ratio {result['ratio']:.2f}"
        )


if __name__ == "__main__":
    main()
