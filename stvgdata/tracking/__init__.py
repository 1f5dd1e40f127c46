"""Linking detections over time: a constant-velocity Kalman filter on boxes, an IoU tracker that
turns per-frame detections into tubelets, and box propagation to neighbouring frames (what
E3M's context-based visual modulation needs). See docs/detections.md."""

from stvgdata.tracking.kalman import BoxKalman, KalmanConfig
from stvgdata.tracking.propagate import propagate
from stvgdata.tracking.tracker import TrackerConfig, Tubelet, track_video
from stvgdata.tracking.tubelets import TrackSummary, track_dataset

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
