"""E3M's options. Numbers the paper (as summarized in our seed) does not give are our choices,
documented in docs/e3m.md; ``variant_name`` names a config in the ``runs`` table."""

from __future__ import annotations

from dataclasses import dataclass

BOX_SOURCES = ("tubelets", "detections")


@dataclass(frozen=True)
class E3MConfig:
    """Switches and hyper-parameters of E3M and its baselines (all defaults are the full method).

    ``baseline`` replaces everything by the per-frame best-similarity box over the whole video.
    ``iterations`` counts (M-step, E-step) rounds: 1 is the one-pass "no-EM" variant.
    """

    baseline: bool = False
    visual_modulation: bool = True
    text_modulation: bool = True
    iterations: int = 3
    boxes: str = "tubelets"  # which cached regions are the instances: tubelets or detections
    # context-based visual modulation
    context_frames: int = 2  # sampled frames each side an instance is propagated to
    context_min_iou: float = 0.3  # a neighbour's region must overlap the propagated box this much
    context_weight: float = 1.0  # weight of the aggregated context against the instance itself
    context_temperature: float = 0.1  # softmax temperature of the adaptive aggregation
    # prototype-based text modulation
    num_prototypes: int = 3  # one per stage of the action
    relevant_fraction: float = 0.3  # share of frames, most relevant first, prototypes come from
    prototype_weight: float = 0.5  # weight of the prototypes added to the sentence embedding
    # spatial grounding (M-step)
    tubelet_weight: float = 1.0  # weight of the instance's posterior-weighted tubelet score
    outside_event_weight: float = 0.2  # gamma's weight off the selected event in the next M-step
    # temporal relevance and atomic events (E-step)
    frame_weight: float = 1.0  # weight of the frame-level similarity in gamma
    num_events: int = 6  # k of the k-means over frames
    time_weight: float = 1.0  # scale of the time embedding beside the (unit) features
    beta: float = 0.5  # merge an adjacent event whose relevance is >= beta * the best one's
    kmeans_iterations: int = 50
    seed: int = 0  # k-means initialisation

    def __post_init__(self) -> None:
        if self.boxes not in BOX_SOURCES:
            raise ValueError(f"boxes must be one of {', '.join(BOX_SOURCES)}, not {self.boxes!r}")
        if self.iterations < 1 or self.num_events < 1 or self.num_prototypes < 1:
            raise ValueError("iterations, num_events and num_prototypes must be at least 1")
        if not 0.0 < self.relevant_fraction <= 1.0:
            raise ValueError(f"relevant_fraction must be in (0, 1], not {self.relevant_fraction}")
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"beta must be in [0, 1], not {self.beta}")
        if not 0.0 <= self.outside_event_weight <= 1.0:
            raise ValueError(
                f"outside_event_weight must be in [0, 1], not {self.outside_event_weight}"
            )

    def variant_name(self) -> str:
        """baseline, no-em, no-visual-mod, no-text-mod or full (combinations joined by +)."""
        if self.baseline:
            return "baseline"
        parts = [
            name
            for name, off in (
                ("no-em", self.iterations == 1),
                ("no-visual-mod", not self.visual_modulation),
                ("no-text-mod", not self.text_modulation),
            )
            if off
        ]
        return "+".join(parts) or "full"
