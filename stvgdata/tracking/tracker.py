"""An IoU tracker over Kalman predictions: per-frame detections of one video -> tubelets.

On each frame that has detections, every live track predicts its box; predictions and
detections of the same label are matched greedily by IoU (highest first, at least
``iou_threshold``). A matched track is corrected by its detection; an unmatched detection starts
a tentative track; a tentative track is confirmed after ``min_hits`` consecutive matches and
dropped at its first miss (so isolated false positives never become tubelets); a confirmed track
ends after ``max_age`` consecutive misses, the missed frames bridged by the filter's prediction.

The timeline is the set of frames with at least one detection: a frame without any is taken as
one the detector did not run on (strided detection works, with the filter's ``dt`` = the gap).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stvg.stvgdata.geometry import clip_boxes, pairwise_box_iou
from stvg.stvgdata.tracking.kalman import BoxKalman, KalmanConfig


@dataclass(frozen=True)
class TrackerConfig:
    iou_threshold: float = 0.2
    """Least IoU between a track's predicted box and a detection for them to match (below
    SORT's 0.3: at 5-10 fps a hop reverses within a few frames and the prediction lags)."""
    max_age: int = 10
    """A confirmed track ends after this many consecutive frames without a match."""
    min_hits: int = 3
    """Consecutive matched frames before a track is confirmed (becomes a tubelet)."""
    kalman: KalmanConfig = field(default_factory=KalmanConfig)


@dataclass(frozen=True)
class Tubelet:
    """One tracked object: per frame (N,) its box (N, 4) pixel xyxy inside the frame, the matched
    detection's score (NaN where the box is the filter's prediction) and whether it was observed."""

    label: str
    frame_idx: np.ndarray
    boxes: np.ndarray
    scores: np.ndarray

    @property
    def observed(self) -> np.ndarray:
        return ~np.isnan(self.scores)


class _Track:
    def __init__(
        self, frame: int, box: np.ndarray, score: float, label: str, config: TrackerConfig
    ) -> None:
        self.kalman = BoxKalman(box, config.kalman)
        self.label = label
        self.last_frame = frame
        self.rows: list[tuple[int, np.ndarray, float]] = [(frame, self.kalman.box, score)]
        self.hits = 1
        self.misses = 0
        self.confirmed = config.min_hits <= 1

    def predict(self, frame: int) -> np.ndarray:
        box = self.kalman.predict(frame - self.last_frame)
        self.last_frame = frame
        return box

    def hit(self, box: np.ndarray, score: float, min_hits: int) -> None:
        self.rows.append((self.last_frame, self.kalman.update(box), score))
        self.hits += 1
        self.misses = 0
        self.confirmed = self.confirmed or self.hits >= min_hits

    def miss(self) -> None:
        self.rows.append((self.last_frame, self.kalman.box, float("nan")))
        self.misses += 1

    def tubelet(self, frame_size: tuple[int, int]) -> Tubelet:
        """The rows up to the last observed frame (trailing predictions are not evidence)."""
        last = max(i for i, row in enumerate(self.rows) if not np.isnan(row[2]))
        frames, boxes, scores = zip(*self.rows[: last + 1], strict=True)
        return Tubelet(
            self.label,
            np.array(frames, dtype=np.int64),
            clip_boxes(np.array(boxes), *frame_size),
            np.array(scores, dtype=np.float64),
        )


def match_by_iou(
    predicted: np.ndarray,
    track_labels: list[str],
    detected: np.ndarray,
    detection_labels: list[str],
    iou_threshold: float,
) -> list[tuple[int, int]]:
    """Greedy one-to-one (track, detection) pairs, highest IoU first, same label only."""
    if not len(predicted) or not len(detected):
        return []
    iou = pairwise_box_iou(predicted, detected)  # (tracks, detections)
    iou[np.asarray(track_labels)[:, None] != np.asarray(detection_labels)[None, :]] = 0.0
    rows, cols = np.nonzero(iou >= iou_threshold)
    order = np.argsort(-iou[rows, cols], kind="stable")
    pairs, used_tracks, used_detections = [], set(), set()
    for t, d in zip(rows[order].tolist(), cols[order].tolist(), strict=True):
        if t not in used_tracks and d not in used_detections:
            pairs.append((t, d))
            used_tracks.add(t)
            used_detections.add(d)
    return pairs


def track_video(
    frame_idx: np.ndarray,
    boxes: np.ndarray,
    scores: np.ndarray,
    labels: list[str],
    frame_size: tuple[int, int],
    config: TrackerConfig = TrackerConfig(),
) -> list[Tubelet]:
    """Tubelets of one video from its detections: ``frame_idx`` (N,) absolute, ``boxes`` (N, 4)
    pixel xyxy, ``scores`` (N,), ``labels`` (N,); ``frame_size`` = (width, height). Tubelets
    come in order of birth."""
    order = np.argsort(frame_idx, kind="stable")
    frame_idx, boxes, scores = frame_idx[order], boxes[order], scores[order]
    labels = [labels[i] for i in order.tolist()]
    frames, starts = np.unique(frame_idx, return_index=True)
    ends = np.append(starts[1:], len(frame_idx))
    live: list[_Track] = []
    born_so_far: list[_Track] = []
    for frame, start, end in zip(frames.tolist(), starts.tolist(), ends.tolist(), strict=True):
        predicted = np.array([track.predict(frame) for track in live]).reshape(-1, 4)
        pairs = match_by_iou(
            predicted,
            [track.label for track in live],
            boxes[start:end],
            labels[start:end],
            config.iou_threshold,
        )
        matched = dict(pairs)
        for t, track in enumerate(live):
            if t in matched:
                i = start + matched[t]
                track.hit(boxes[i], float(scores[i]), config.min_hits)
            else:
                track.miss()
        taken = set(matched.values())
        born = [
            _Track(frame, boxes[i], float(scores[i]), labels[i], config)
            for i in range(start, end)
            if i - start not in taken
        ]
        live = [t for t in live if t.misses == 0 or (t.confirmed and t.misses <= config.max_age)]
        live += born
        born_so_far += born
    return [track.tubelet(frame_size) for track in born_so_far if track.confirmed]
