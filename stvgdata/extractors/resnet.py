"""ResNet-101 per-frame features: the torchvision trunk's pre-pool map (stride 32, C = 2048)."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet, ResNet101_Weights, resnet101

from stvg.stvgdata.extractors.base import FrameExtractor, frame_fingerprint
from stvg.stvgdata.extractors.config import ExtractorConfig
from stvg.stvgdata.extractors.weights import trunk_weights
from stvg.stvgdata.weights.random_init import seeded

IMAGENET_NORMALIZATION = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))  # (mean, std)
PUBLISHED = {weights.name: weights.url for weights in ResNet101_Weights}  # torchvision's
DEFAULT_WEIGHTS = ResNet101_Weights.IMAGENET1K_V2.name
MDETR_PREFIX = "backbone.0.body."  # MDETR's ResNet-101 backbone (TubeDETR, STCAT, CSDVL init)


class ResNetTrunk(nn.Module):
    """A torchvision ResNet up to ``layer4`` (no avgpool/fc), keeping torchvision's parameter
    names so its checkpoints load as they are."""

    STAGES = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4")

    def __init__(self, resnet: ResNet) -> None:
        super().__init__()
        for name in self.STAGES:
            setattr(self, name, getattr(resnet, name))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) -> (N, C, ceil(H/32), ceil(W/32))."""
        for stage in self.children():
            images = stage(images)
        return images


def from_mdetr(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An MDETR checkpoint's backbone under torchvision's names (its FrozenBatchNorm2d keeps
    weight, bias and running statistics, like BatchNorm2d); other checkpoints unchanged."""
    if not any(key.startswith(MDETR_PREFIX) for key in state):
        return state
    return {
        key.removeprefix(MDETR_PREFIX): value
        for key, value in state.items()
        if key.startswith(MDETR_PREFIX)
    }


class ResNetExtractor(FrameExtractor):
    model = "resnet101"
    channels_last = True

    def _features(self, batch: torch.Tensor) -> torch.Tensor:
        return self.network(batch).permute(0, 2, 3, 1)  # (N, C, h, w) -> (N, h, w, C)


def build_resnet101(config: ExtractorConfig) -> ResNetExtractor:
    """ResNet-101 trunk (``tiny``: a one-block-per-stage BasicBlock ResNet, C = 512) with
    torchvision's ImageNet weights by default, another published name, a torchvision-layout
    or MDETR checkpoint file, or a random init."""
    with seeded(config.seed):
        if config.tiny:
            resnet, arch = ResNet(BasicBlock, [1, 1, 1, 1]), "resnet-tiny(basic,1-1-1-1)"
        else:
            resnet, arch = resnet101(weights=None), "torchvision-resnet101"
        trunk = ResNetTrunk(resnet)
    weights = trunk_weights(
        trunk,
        config,
        ResNetExtractor.model,
        arch,
        ignored_prefixes=("fc.",),
        published=PUBLISHED,
        default=DEFAULT_WEIGHTS,
        remap=from_mdetr,
    )
    fingerprint = frame_fingerprint(
        ResNetExtractor.model,
        f"{arch} trunk to layer4, pre-pool",
        weights,
        config,
        IMAGENET_NORMALIZATION,
    )
    return ResNetExtractor(
        trunk,
        fingerprint,
        channels=512 if config.tiny else 2048,
        config=config,
        normalization=IMAGENET_NORMALIZATION,
    )
