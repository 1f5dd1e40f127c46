"""Configuration of the CSDVL head and of its training, as dataclasses.

Defaults follow the paper (CSDVL, CVPR 2023, Sec. 3-4): d = 256, N = 6 layers in both streams,
8 heads, loss weights lambda = 5, 2, 5, 1, and the optimizer settings TubeDETR/MDETR use (AdamW,
lr 1e-4, weight decay 1e-4, gradient clipping 0.1). The ablation switches of Tables 3-5 are
fields here, so every variant is the same model built from a different configuration.
Feature input dims are not part of the config: they come from the cache (the batch).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from stvg.schemas.batch import FeatureSet

FUSIONS = ("collab", "none", "sum", "fc-sum", "concat-fc")
# Box anchor (docs/heads.md, "Deviations from the paper"): "none" = the paper's plain MLP box
# head; "static" = box centre relative to the static decoder's last attention (stands in for
# MDETR's initialization; the same for every variant); "static+d2s" = that attention
# re-weighted by d2s's (changes the variants with d2s, so it is part of their name).
ANCHORS = ("none", "static", "static+d2s")
DEFAULT_ANCHOR = "static"


@dataclass
class CSDVLConfig:
    """The model: sizes, the 2D-TAN temporal head, ablation switches and loss weights."""

    d_model: int = 256
    num_layers: int = 6
    num_heads: int = 8
    ffn_dim: int = 2048
    dropout: float = 0.1
    # 2D-TAN temporal head: channels of the proposal map and its conv stack.
    d_m: int = 512
    map_conv_layers: int = 4
    map_kernel: int = 5
    # Proposals with IoU <= iou_min score 0, >= iou_max score 1 (2D-TAN's scaled IoU).
    iou_min: float = 0.5
    iou_max: float = 1.0
    # Cross-stream exchange: "collab" = the paper's asymmetric block (s2d / d2s switch each
    # direction), "none" = no exchange, "sum" | "fc-sum" | "concat-fc" = Table 5 baselines.
    fusion: str = "collab"
    s2d: bool = True
    d2s: bool = True
    # Table 4: dynamic stream on spatially mean-pooled input ("w/o spatial"), and text->visual
    # attention over all T*H*W tokens instead of the T mean-pooled ones ("w/o mean pool").
    dynamic_spatial: bool = True
    dynamic_mean_pool: bool = True
    # Box anchor, one of ANCHORS: the most paper-faithful setting that trains from scratch.
    anchor: str = DEFAULT_ANCHOR
    # Loss weights lambda_1..lambda_4: L1, GIoU, 2D-TAN BCE, temporal attentive.
    loss_l1: float = 5.0
    loss_giou: float = 2.0
    loss_tg: float = 5.0
    loss_ta: float = 1.0

    def __post_init__(self) -> None:
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {self.fusion!r}")
        if self.anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {ANCHORS}, got {self.anchor!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model {self.d_model} is not divisible by {self.num_heads} heads")

    @property
    def uses_s2d(self) -> bool:
        return self.fusion == "collab" and self.s2d

    @property
    def uses_d2s(self) -> bool:
        return self.fusion == "collab" and self.d2s

    @property
    def uses_d2s_anchor(self) -> bool:
        return self.uses_d2s and self.anchor == "static+d2s"

    @property
    def effective_anchor(self) -> str:
        """The anchor the model really uses: "static+d2s" is "static" where d2s does not run."""
        return "static" if self.anchor == "static+d2s" and not self.uses_d2s else self.anchor

    @property
    def uses_symmetric_fusion(self) -> bool:
        """One of the Table 5 baselines ("sum", "fc-sum", "concat-fc") replaces s2d / d2s."""
        return self.fusion not in ("collab", "none")

    @property
    def exchanges(self) -> bool:
        """Whether the streams exchange anything after their layers (all but "none")."""
        return self.uses_symmetric_fusion or self.uses_s2d or self.uses_d2s

    def variant_name(self) -> str:
        """Short name of the ablation variant: "s2d+d2s", "s2d", "d2s", "none", "fusion=sum",
        with "+no-spatial" / "+no-mean-pool" appended for the Table 4 switches and
        "[anchor=...]" for an anchor other than the default one every variant shares, so runs
        and tables never mix models that differ by it."""
        if self.fusion == "collab":
            parts = [name for name, on in (("s2d", self.s2d), ("d2s", self.d2s)) if on]
            name = "+".join(parts) or "none"
        else:
            name = "none" if self.fusion == "none" else f"fusion={self.fusion}"
        if not self.dynamic_spatial:
            name += "+no-spatial"
        if not self.dynamic_mean_pool:
            name += "+no-mean-pool"
        return name + self.anchor_suffix()

    def anchor_suffix(self) -> str:
        """ "[anchor=...]" when the model's anchor is not the default every variant shares."""
        anchor = self.effective_anchor
        return "" if anchor == DEFAULT_ANCHOR else f"[anchor={anchor}]"


@dataclass
class TrainConfig:
    """How a head is trained: schedule, batching, sampling, seed and device."""

    epochs: int = 10
    batch_size: int = 8
    lr: float = 1e-4
    weight_decay: float = 1e-4
    grad_clip: float = 0.1
    seed: int = 0
    max_frames: int = 200
    # Stop when val m_vIoU has not improved for this many epochs (None: never stop early).
    patience: int | None = None
    # Epochs trained with the cross-stream exchange switched off before it is switched on: a
    # warm start for the static stream, whose attention s2d and d2s rely on (the paper starts
    # it from MDETR, trained on grounding; 0 = the paper's schedule). Warm-up epochs are never
    # kept as the best checkpoint: a model without the exchange is another variant.
    collab_warmup: int = 0
    num_workers: int = 0
    device: str = "cpu"
    train_split: str = "train"
    val_split: str | None = None
    # Which cached models feed the batch (stored with the run, so eval/show/resume read the same)
    features: FeatureSet = field(default_factory=FeatureSet)


@dataclass
class Preset:
    model: CSDVLConfig = field(default_factory=CSDVLConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    name: str = "paper"  # which preset this started from, shown above result tables


def preset(name: str) -> Preset:
    """``paper``: the paper's sizes; ``small``: trains on 2 CPU cores in minutes."""
    if name == "paper":
        return Preset()
    if name == "small":
        return Preset(
            model=CSDVLConfig(
                d_model=32,
                num_layers=2,
                num_heads=4,
                ffn_dim=128,
                dropout=0.0,
                d_m=64,
                map_conv_layers=2,
                map_kernel=3,
            ),
            train=TrainConfig(epochs=6, batch_size=16, lr=5e-4, grad_clip=1.0, max_frames=16),
            name="small",
        )
    raise ValueError(f"unknown preset {name!r}; known: paper, small")


PRESETS = ("paper", "small")


def config_to_dict(model: CSDVLConfig, train: TrainConfig) -> dict[str, Any]:
    """The full configuration of a run, JSON-ready (stored beside checkpoints and metrics)."""
    return {"model": dataclasses.asdict(model), "train": dataclasses.asdict(train)}


def config_from_dict(data: dict[str, Any]) -> tuple[CSDVLConfig, TrainConfig]:
    """Inverse of ``config_to_dict``; runs stored before ``features`` existed get the default
    features, those stored before ``anchor`` existed the anchor they were trained with."""
    train = dict(data["train"])
    train["features"] = FeatureSet(**train.get("features", {}))
    return CSDVLConfig(**legacy_anchor(data["model"])), TrainConfig(**train)


def legacy_anchor(model: dict[str, Any]) -> dict[str, Any]:
    """A stored model config with ``anchor``: runs from before it held ``d2s_anchor`` (True:
    "static+d2s") or, older still, nothing (the static anchor)."""
    model = dict(model)
    d2s_anchor = model.pop("d2s_anchor", False)
    model.setdefault("anchor", "static+d2s" if d2s_anchor else "static")
    return model
