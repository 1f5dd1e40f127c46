"""Which object a map or a trained CSDVL head looks at on the synthetic benchmark.

Every synthetic target has a twin that looks the same and moves differently (docs/synthetic.md),
so a model that reads appearance alone splits its attention between the two, and only motion
tells them apart: the split shows whether motion reaches the spatial side. On the GT frames of
a split's queries, each source's point of attention is classed as on the target, on its twin,
on another object, or on the background, from the exact scenes `stvg synth` drew (regenerated
from the generator's settings, and checked against the catalog's GT boxes).

- ``--map MODEL --encoder DIR``: before any head is trained, the cell most similar to the
  sentence (the substitute's embedding) on each frame of a cached map.
- ``--run RUN_ID``: a trained CSDVL run: the peak of each static decoder layer's attention, of
  each d2s attention, and the centre of the predicted box.

    .venv/bin/python experiments/csdvl-collaboration/probe_spatial.py --workspace WS \\
        --split val --map vl-synth-motion-map --encoder DIR [--queries 300]
    .venv/bin/python experiments/csdvl-collaboration/probe_spatial.py --workspace WS \\
        --split test --run RUN_ID
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stvg.heads.csdvl.data import ordered_batches, query_data  # noqa: E402
from stvg.heads.csdvl.model.spatial_head import grid_centres  # noqa: E402
from stvg.heads.csdvl.predict import load_model, resolve_checkpoint  # noqa: E402
from stvg.schemas.batch import FeatureSet  # noqa: E402
from stvg.stvgdata.catalog import query  # noqa: E402
from stvg.stvgdata.encoders.vl_synth import SubstituteEncoder  # noqa: E402
from stvg.stvgdata.errors import BadInputError  # noqa: E402
from stvg.stvgdata.geometry import cxcywh_norm_to_xyxy  # noqa: E402
from stvg.stvgdata.loader import CachedQueryDataset  # noqa: E402
from stvg.stvgdata.synth.config import default_config, with_overrides  # noqa: E402
from stvg.stvgdata.synth.plan import plan_video  # noqa: E402
from stvg.stvgdata.synth.scene import Scene  # noqa: E402
from stvg.stvgdata.workspace import Workspace  # noqa: E402

KINDS = ("target", "twin", "other", "background")


class Scenes:
    """The scenes `stvg synth` drew for a dataset, regenerated on demand (one per video)."""

    def __init__(self, dataset: str, seed: int, fps: float, seconds: float, tube: float) -> None:
        self.dataset, self.seed = dataset, seed
        self.config = with_overrides(
            dataset, default_config(dataset), fps=fps, video_seconds=seconds, tube_seconds=tube
        )
        self._scenes: dict[str, Scene] = {}

    def __getitem__(self, video_id: str) -> Scene:
        if video_id not in self._scenes:
            plan = plan_video(self.dataset, self.config, self.seed, int(video_id), "unused")
            self._scenes[video_id] = plan.scene
        return self._scenes[video_id]


def check_scene(scene: Scene, video_id: str, target: int, frame: int, gt_xyxy: np.ndarray) -> None:
    """The regenerated target box must be the catalog's, else the settings are not the ones
    the benchmark was generated with."""
    drawn = scene.boxes[target, frame].astype(np.float64)
    if np.abs(drawn - gt_xyxy).max() > 1.0:
        raise BadInputError(
            f"video {video_id}",
            f"frame {frame}",
            "the regenerated scene does not match the catalog's GT box: pass the --synth-* "
            "settings the benchmark was generated with",
        )


def classify(scene: Scene, frame: int, point: np.ndarray, target: int) -> str:
    """target / twin / other / background for a point (x, y) normalized to [0, 1]."""
    x, y = point[0] * scene.width, point[1] * scene.height
    boxes = scene.boxes[:, frame]  # (K, 4) x1, y1, x2, y2
    inside = (boxes[:, 0] <= x) & (x < boxes[:, 2]) & (boxes[:, 1] <= y) & (y < boxes[:, 3])
    if inside[target]:
        return "target"
    look = scene.objects[target]
    twins = [
        obj.tid
        for obj in scene.objects
        if obj.tid != target
        and (obj.appearance, obj.width, obj.height) == (look.appearance, look.width, look.height)
    ]
    if inside[twins].any():
        return "twin"
    return "other" if inside.any() else "background"


def map_frames(ws: Workspace, args, rows: dict) -> Iterator[tuple[dict, int, np.ndarray, dict]]:
    """(query row, frame, GT xyxy, {source: normalized (x, y)}) for each GT frame: the centre
    of the cell most similar to the sentence."""
    data = CachedQueryDataset(
        ws, args.dataset, args.split, features=FeatureSet(frame=args.map, clip=None, text=None)
    )
    encoder = SubstituteEncoder(Path(args.encoder))
    for index in range(min(args.queries, len(data))):
        item = data[index]
        row = rows[item["query_id"]]
        _, height, width, _ = item["frame_feats"].shape
        centres = grid_centres(height, width, torch.device("cpu")).numpy()  # (H*W, 2)
        best = encoder.cell_similarity(item["frame_feats"], row["sentence"]).argmax(axis=1)
        for k in np.flatnonzero(item["box_mask"]):
            gt = cxcywh_norm_to_xyxy(item["boxes"][k], *item["image_size"])
            yield row, int(item["frame_idx"][k]), gt, {"best-matching cell": centres[best[k]]}


def run_frames(ws: Workspace, args, rows: dict) -> Iterator[tuple[dict, int, np.ndarray, dict]]:
    """(query row, frame, GT xyxy, {source: normalized (x, y)}) for each GT frame: the centre
    of each attention's peak cell and of the predicted box."""
    model, train_config = load_model(resolve_checkpoint(ws, args.run))
    data = query_data(ws, args.dataset, args.split, train_config.max_frames, train_config.features)
    seen = 0
    with torch.inference_mode():
        for batch in ordered_batches(data, 16):
            outputs = model(batch)
            _, _, height, width, _ = batch["frame_feats"].shape
            centres = grid_centres(height, width, torch.device("cpu"))  # (H*W, 2)
            sources = {
                f"static layer {i + 1}": a for i, a in enumerate(outputs["static_attention"])
            }
            for i, a in enumerate(outputs.get("d2s_attention", [])):
                if a.shape[-1] == height * width:
                    sources[f"d2s layer {i + 1}"] = a
            points = {name: centres[a.argmax(dim=-1)] for name, a in sources.items()}
            points["box centre"] = outputs["boxes"][..., :2]  # (B, T, 2) each
            for b, query_id in enumerate(batch["query_id"]):
                size = batch["image_size"][b].tolist()
                for k in torch.nonzero(batch["box_mask"][b]).flatten().tolist():
                    gt = cxcywh_norm_to_xyxy(batch["boxes"][b, k].numpy(), *size)
                    at = {name: point[b, k].numpy() for name, point in points.items()}
                    yield rows[query_id], int(batch["frame_idx"][b, k]), gt, at
                seen += 1
            if seen >= args.queries:
                return


def tally(frames, scenes: Scenes, sentence_type: str) -> dict[str, Counter]:
    """Counts of target / twin / other / background per source."""
    counts: dict[str, Counter] = {}
    for row, frame, gt, points in frames:
        if sentence_type != "all" and row["sentence_type"] != sentence_type:
            continue
        scene = scenes[row["video_id"]]
        check_scene(scene, row["video_id"], row["target_id"], frame, gt)
        for source, point in points.items():
            kind = classify(scene, frame, point, row["target_id"])
            counts.setdefault(source, Counter())[kind] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--dataset", default="vidstg")
    parser.add_argument("--split", default="val")
    parser.add_argument("--map", help="cached map model (with --encoder)")
    parser.add_argument("--encoder", help="the substitute that made the map")
    parser.add_argument("--run", help="a trained CSDVL run id or checkpoint")
    parser.add_argument("--queries", type=int, default=10**9)
    parser.add_argument("--sentence-type", default="all", help="all, declarative, interrogative")
    parser.add_argument("--synth-seed", type=int, default=0, help="`stvg synth --seed`")
    parser.add_argument("--synth-fps", type=float, default=5.0, help="`stvg synth --fps`")
    parser.add_argument("--synth-duration", type=float, default=12.0, help="`--duration`")
    parser.add_argument("--synth-tube-seconds", type=float, default=4.0, help="`--tube-seconds`")
    args = parser.parse_args()
    if bool(args.map) == bool(args.run) or bool(args.map) != bool(args.encoder):
        parser.error("give either --map with --encoder, or --run")
    ws = Workspace.resolve(args.workspace)
    rows = {
        row["query_id"]: row
        for row in query(
            ws,
            "SELECT query_id, video_id, sentence, sentence_type, target_id FROM queries "
            "WHERE dataset = ? AND split = ?",
            [args.dataset, args.split],
        ).to_pylist()
    }
    scenes = Scenes(
        args.dataset, args.synth_seed, args.synth_fps, args.synth_duration, args.synth_tube_seconds
    )
    frames = map_frames(ws, args, rows) if args.map else run_frames(ws, args, rows)
    try:
        counts = tally(frames, scenes, args.sentence_type)
    except BadInputError as exc:
        sys.exit(f"error: {exc}")
    print(f"{args.map or args.run} on {args.dataset}/{args.split} ({args.sentence_type} sentences)")
    print(
        f"  {'source':20s} {'frames':>7s} " + " ".join(f"{k:>10s}" for k in KINDS) + "  target/twin"
    )
    for source, count in counts.items():
        total = sum(count.values())
        shares = " ".join(f"{count[k] / total:10.3f}" for k in KINDS)
        ratio = count["target"] / max(count["twin"], 1)
        print(f"  {source:20s} {total:7d} {shares}  {ratio:11.2f}")


if __name__ == "__main__":
    main()
