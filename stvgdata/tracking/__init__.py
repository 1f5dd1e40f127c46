"""Linking detections over time: a constant-velocity Kalman filter on boxes, an IoU tracker that
turns per-frame detections into tubelets, and box propagation to neighbouring frames (what
E3M's context-based visual modulation needs). See docs/detections.md."""

from stvg.stvgdata.tracking.kalman import BoxKalman, KalmanConfig
from stvg.stvgdata.tracking.propagate import propagate
from stvg.stvgdata.tracking.tracker import TrackerConfig, Tubelet, track_video
from stvg.stvgdata.tracking.tubelets import TrackSummary, track_dataset

__all__ = [
    "BoxKalman",
    "KalmanConfig",
    "TrackSummary",
    "TrackerConfig",
    "Tubelet",
    "propagate",
    "track_dataset",
    "track_video",
]
