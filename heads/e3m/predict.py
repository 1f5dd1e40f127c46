"""E3M over a split: ground every query from the region cache, score it with the common
evaluator (``runs``, ``predictions``, ``predicted_boxes``), and sweep the variants.

Everything is deterministic given the config (k-means is seeded), so an ablation runs one seed
unless asked for more; the seed only moves the k-means initialisation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import numpy as np

from stvg.heads.e3m.config import E3MConfig
from stvg.heads.e3m.model.em import Grounding, ground_baseline, ground_e3m, to_prediction
from stvg.heads.e3m.model.visual import modulate_regions
from stvg.heads.eval.evaluate import EvalReport, RunInfo, evaluate, load_ground_truth
from stvg.heads.eval.predictions import QueryPrediction
from stvg.heads.eval.protocols import DEFAULT_PROTOCOL
from stvg.heads.runs import new_run_id, region_lineage
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.query_features import VideoRegions, sentence_embeddings, video_regions
from stvg.stvgdata.workspace import Workspace

METHOD = "e3m"


def clip_regions(regions: VideoRegions, start: int, end: int) -> tuple[VideoRegions, np.ndarray]:
    """(the part of ``regions`` on frames [start, end), the mask (N,) of the regions kept): a
    query is grounded inside its clip (VidSTG's ``used_segment``), as every STVG method is."""
    frames = (regions.frame_idx >= start) & (regions.frame_idx < end)
    kept = (regions.region_frame >= start) & (regions.region_frame < end)
    clipped = dataclasses.replace(
        regions,
        frame_idx=regions.frame_idx[frames],
        frame_embeddings=regions.frame_embeddings[frames],
        region_frame=regions.region_frame[kept],
        boxes=regions.boxes[kept],
        tubelet_id=regions.tubelet_id[kept],
        scores=regions.scores[kept],
        labels=regions.labels[kept],
        embeddings=regions.embeddings[kept],
    )
    return clipped, kept


def ground_video(
    regions: VideoRegions,
    queries: np.ndarray,
    clips: Sequence[tuple[int, int]],
    config: E3MConfig,
) -> list[tuple[VideoRegions, Grounding]]:
    """(clip regions, grounding) of each sentence embedding of ``queries`` (Q, D) in its clip
    [start, end) of one video (the visual modulation does not depend on the sentence, so it is
    computed once per video, over the whole video)."""
    if not config.baseline:
        embeddings = (
            modulate_regions(regions, config)
            if config.visual_modulation
            else np.asarray(regions.embeddings, np.float64)
        )
    out = []
    for query, (start, end) in zip(queries, clips, strict=True):
        clipped, kept = clip_regions(regions, start, end)
        grounding = (
            ground_baseline(clipped, query)
            if config.baseline
            else ground_e3m(clipped, query, embeddings[kept], config)
        )
        out.append((clipped, grounding))
    return out


def iter_groundings(
    ws: Workspace,
    dataset: str,
    split: str,
    config: E3MConfig = E3MConfig(),
    progress: ProgressFn = no_progress,
) -> Iterator[tuple[str, np.ndarray, VideoRegions, Grounding]]:
    """(query_id, sentence embedding (D,), clip regions, grounding) for every query of
    ``dataset``/``split``, video by video, from its cached regions."""
    ground_truth = load_ground_truth(ws, dataset, split)
    by_video: dict[str, list[str]] = {}
    for query_id, video_id in zip(
        ground_truth.queries["query_id"].to_pylist(),
        ground_truth.queries["video_id"].to_pylist(),
        strict=True,
    ):
        by_video.setdefault(video_id, []).append(query_id)
    for done, (video_id, query_ids) in enumerate(sorted(by_video.items()), start=1):
        regions = video_regions(ws, dataset, video_id, config.boxes)
        sentences = sentence_embeddings(ws, dataset, query_ids)
        clips = [ground_truth.by_query[q].clip for q in query_ids]
        groundings = ground_video(regions, sentences, clips, config)
        for query_id, sentence, (clipped, grounding) in zip(
            query_ids, sentences, groundings, strict=True
        ):
            yield query_id, sentence, clipped, grounding
        progress("e3m", done, len(by_video))


def predict_e3m(
    ws: Workspace,
    dataset: str,
    split: str,
    config: E3MConfig = E3MConfig(),
    progress: ProgressFn = no_progress,
) -> dict[str, QueryPrediction]:
    """A prediction for every query of ``dataset``/``split``, from its cached regions."""
    return {
        query_id: to_prediction(query_id, clipped, grounding)
        for query_id, _, clipped, grounding in iter_groundings(ws, dataset, split, config, progress)
    }


def evaluate_e3m(
    ws: Workspace,
    dataset: str,
    split: str,
    config: E3MConfig = E3MConfig(),
    protocol: str = DEFAULT_PROTOCOL,
    progress: ProgressFn = no_progress,
) -> EvalReport:
    """Predict and score ``split``; the runs rows carry method e3m and the config's variant."""
    predictions = predict_e3m(ws, dataset, split, config, progress)
    info = RunInfo(
        run_id=new_run_id(METHOD),
        method=METHOD,
        variant=config.variant_name(),
        seed=config.seed,
        config=dataclasses.asdict(config) | {"dataset": dataset, "split": split},
        features=[region_lineage(ws, dataset)],
    )
    return evaluate(ws, dataset, split, predictions, protocol, info, progress)
