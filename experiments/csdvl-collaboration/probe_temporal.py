"""How much of the temporal boundary a cached map model carries, before any head is trained.

For each query of a split: every cell of every sampled frame of its clip is compared (cosine)
with the sentence embedding of the stvg-vl-synth substitute that made the map; a frame scores
the mean (or max) over its cells, and the predicted span is the contiguous run of frames whose
scores sum highest above their own mean. Prints mean tIoU of both probes and of predicting the
whole clip (the baseline any temporal head must beat), with their ratio. A map whose probe
does not beat the whole clip gives CSDVL's dynamic stream no "when" to learn from; see
this folder's README, part 8.

    .venv/bin/python experiments/csdvl-collaboration/probe_temporal.py --workspace WS \\
        --dataset vidstg --split val --model vl-synth-motion-map --encoder DIR [--queries 200]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from stvg.heads.cospal.predict import max_sum_run  # noqa: E402
from stvg.schemas.batch import FeatureSet  # noqa: E402
from stvg.stvgdata.catalog import query  # noqa: E402
from stvg.stvgdata.encoders.vl_synth import SubstituteEncoder  # noqa: E402
from stvg.stvgdata.geometry import temporal_iou  # noqa: E402
from stvg.stvgdata.loader import CachedQueryDataset  # noqa: E402
from stvg.stvgdata.workspace import Workspace  # noqa: E402


def probe(data: CachedQueryDataset, encoder: SubstituteEncoder, sentences: dict, count: int):
    """Mean tIoU per probe ("mean over cells", "max over cells", "whole clip")."""
    scores: dict[str, list[float]] = {"mean over cells": [], "max over cells": [], "whole clip": []}
    for index in range(min(count, len(data))):
        item = data[index]
        cosine = encoder.cell_similarity(item["frame_feats"], sentences[item["query_id"]])
        tube = (int(item["tube"][0]), int(item["tube"][1]))
        for name, frame_scores in (
            ("mean over cells", cosine.mean(1)),
            ("max over cells", cosine.max(1)),
        ):
            span = max_sum_run(frame_scores - frame_scores.mean())  # above the clip's mean
            scores[name].append(temporal_iou(span, tube))
        scores["whole clip"].append(temporal_iou((0, len(cosine)), tube))
    return {name: float(np.mean(values)) for name, values in scores.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--dataset", default="vidstg")
    parser.add_argument("--split", default="val")
    parser.add_argument("--model", default="vl-synth-motion-map", help="cached map model")
    parser.add_argument("--encoder", required=True, help="the substitute that made the map")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    ws = Workspace.resolve(args.workspace)
    features = FeatureSet(frame=args.model, clip=None, text=None)
    data = CachedQueryDataset(ws, args.dataset, args.split, features=features)
    rows = query(
        ws,
        "SELECT query_id, sentence FROM queries WHERE dataset = ? AND split = ?",
        [args.dataset, args.split],
    ).to_pylist()
    sentences = {row["query_id"]: row["sentence"] for row in rows}
    result = probe(data, SubstituteEncoder(Path(args.encoder)), sentences, args.queries)
    print(f"{args.model} on {args.dataset}/{args.split}, {min(args.queries, len(data))} queries")
    for name, value in result.items():
        print(f"  mean tIoU, {name:16s} {value:.3f}")
    ratio = result["mean over cells"] / result["whole clip"]
    print(f"  ratio mean-over-cells / whole clip: {ratio:.2f}")


if __name__ == "__main__":
    main()
