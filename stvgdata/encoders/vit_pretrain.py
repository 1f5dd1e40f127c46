"""``stvg pretrain-vit``: the offline stand-in for CLIP's pretrained image tower.

STOP tunes prompts around a frozen CLIP ViT whose CLS already carries object semantics. CLIP
weights cannot be downloaded here, and a random-init ViT carries almost nothing (docs/stop.md),
so this trains the ViT of a chosen shape the way CLIP was trained, only on the synthetic TRAIN
split: image-text InfoNCE between a whole frame's final CLS (linearly projected) and the
sentence of a query whose ground-truth tube covers that frame. Single frames, as in CLIP:
motion stays invisible to the frozen network, which leaves STOP's temporal prompts something
to add. The text tower, tokenizer and loss are the ``stvg-vl-synth`` substitute's
(``vl_synth`` and ``vl_synth_train`` beside it); only the image tower differs.

Pairs from the same video are not negatives of each other (masked): every frame of a video
shows the same objects, so a frame cannot tell which of them a sentence of its own video
names, nor in which phase. That leaves one whole-frame target per training scene (64 on the
benchmark), which the CLS learns by heart without learning objects that transfer to unseen
videos; so a second InfoNCE term (``region_weight``) pairs the sentence with the final patch
tokens pooled inside its target's GT box, the way the region substitute learns appearance
from crops: objects of the same video are each other's negatives there, and an object's look
is shared across scenes. Small random translations (``max_shift``) keep colour, shape and
left/right relations but move every object off the positions it had in training.

The saved directory is a plain Hugging Face ``CLIPVisionModel``
(``--weights vit=DIR`` loads it; its fingerprint is the hash of its files) plus
``stvg_provenance.json`` saying what it was trained on.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import CLIPVisionConfig, CLIPVisionModel

from stvg.stvgdata.atomic import temp_sibling
from stvg.stvgdata.encoders.config import SubstituteConfig
from stvg.stvgdata.encoders.vit import CLIP_NORMALIZATION, VIT_ARCHS
from stvg.stvgdata.encoders.vl_synth import TextTower, Vocabulary
from stvg.stvgdata.encoders.vl_synth_train import (
    MAX_SCALE,
    contrastive_loss,
    fit_contrastive,
    plan_pairs,
    split_queries,
)
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn, no_progress
from stvg.stvgdata.video.decode import iter_frames
from stvg.stvgdata.weights.fingerprint import hash_weights
from stvg.stvgdata.weights.random_init import seeded
from stvg.stvgdata.workspace import Workspace

PROVENANCE_FILE = "stvg_provenance.json"


@dataclass(frozen=True)
class VitPretrainConfig:
    """What to pretrain on and how long (defaults: about 9 CPU minutes on one core for the 80-video
    synthetic benchmark at the setting of docs/results.md § STOP, mini at 96x160)."""

    dataset: str
    arch: str = "mini"  # a VIT_ARCHS shape
    frame_size: tuple[int, int] = (96, 160)  # (H, W): extraction's --size, same resize
    split: str = "train"
    frames_per_query: int = 4  # GT frames per query, evenly over its tube
    epochs: int = 14  # the region term is still learning after 7
    batch_size: int = 64  # (frame, sentence) pairs per step
    lr: float = 1e-3
    weight_decay: float = 0.05
    seed: int = 0
    region_weight: float = 1.0  # weight of the sentence-vs-GT-box-patches term (0: frames only)
    max_shift: int = 8  # random translation of each frame, pixels (0: none)
    threads: int = 1
    output: Path | None = None  # default: <workspace>/models/vit-synth/<dataset>-<arch>
    text: SubstituteConfig = field(default_factory=SubstituteConfig)  # text tower sizes, D


@dataclass(frozen=True)
class FramePairs:
    """(frame, sentence) pairs; frames stored once and indexed."""

    frames: np.ndarray  # (F, H, W, 3) uint8
    sentences: list[str]  # (E,)
    frame: np.ndarray  # (E,) int64 index into frames
    video: np.ndarray  # (E,) int64 video number: pairs of one video are not frame negatives
    boxes: np.ndarray  # (E, 4) float32 the target's GT box (x1, y1, x2, y2), frame pixels
    target: np.ndarray  # (E,) int64 object number: pairs of one object are not region negatives


@dataclass
class VitPretrainSummary:
    dataset: str
    split: str
    directory: str
    weights: str  # the fingerprint's weights tag (sha256 of the directory)
    pairs: int
    frames: int
    epochs: int
    losses: list[float]  # mean loss per epoch
    seconds: float


class FrameTextModel(nn.Module):
    """The ViT (CLS -> linear to D) and the substitute's text tower, CLIP's temperature."""

    def __init__(self, vit: CLIPVisionModel, text: SubstituteConfig, vocabulary: Vocabulary):
        super().__init__()
        self.vit, self.text_config, self.vocabulary = vit, text, vocabulary
        self.image_projection = nn.Linear(vit.config.hidden_size, text.dim)
        self.text = TextTower(text, len(vocabulary.tokens))
        self.log_scale = nn.Parameter(torch.tensor(float(np.log(1 / 0.07))))
        self.patch_size = vit.config.patch_size
        mean, std = (torch.tensor(v).view(1, 3, 1, 1) * 255.0 for v in CLIP_NORMALIZATION)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def embed_frames(
        self, frames: torch.Tensor, boxes: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """uint8 frames (n, H, W, 3), boxes (n, 4) in their pixels -> (CLS, box region) (n, D)
        each, L2-normalized; pixels normalized as at extraction, both through one projection."""
        pixels = (frames.permute(0, 3, 1, 2).float() - self.mean) / self.std
        hidden = self.vit(pixel_values=pixels, interpolate_pos_encoding=True).last_hidden_state
        tokens = self.vit.post_layernorm(hidden)  # (n, 1 + P, C)
        grid = (frames.shape[1] // self.patch_size, frames.shape[2] // self.patch_size)
        weights = box_patch_weights(boxes, grid, self.patch_size)  # (n, P)
        region = torch.einsum("np,npc->nc", weights, tokens[:, 1:])
        return (
            F.normalize(self.image_projection(tokens[:, 0]), dim=-1),
            F.normalize(self.image_projection(region), dim=-1),
        )

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        """(n, D) L2-normalized sentence embeddings."""
        ids, mask = self.vocabulary.encode(texts, self.text_config.max_words)
        return F.normalize(self.text.sentence(ids, mask), dim=-1)


def box_patch_weights(boxes: torch.Tensor, grid: tuple[int, int], patch: int) -> torch.Tensor:
    """Boxes (n, 4) (x1, y1, x2, y2) in frame pixels -> (n, h * w) the share of each box's area
    on each patch, row-major like the ViT's tokens (sums to 1; all zero off the grid)."""
    h, w = grid

    def overlap(low: torch.Tensor, high: torch.Tensor, cells: int) -> torch.Tensor:
        edges = torch.arange(cells + 1, dtype=boxes.dtype) * patch  # (cells + 1,)
        return torch.minimum(high[:, None], edges[1:]) - torch.maximum(low[:, None], edges[:-1])

    rows = overlap(boxes[:, 1], boxes[:, 3], h).clamp(min=0)  # (n, h)
    cols = overlap(boxes[:, 0], boxes[:, 2], w).clamp(min=0)  # (n, w)
    area = (rows[:, :, None] * cols[:, None, :]).flatten(1)  # (n, h * w)
    return area / area.sum(1, keepdim=True).clamp(min=1e-6)


def shift_frames(
    frames: np.ndarray, boxes: np.ndarray, max_shift: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Translate each frame (n, H, W, 3) by up to ``max_shift`` pixels each way (edge pixels
    fill the border) and its box (n, 4) with it; colour, shape and left/right survive."""
    if max_shift == 0:
        return frames, boxes
    n, height, width = frames.shape[:3]
    pad = ((0, 0), (max_shift, max_shift), (max_shift, max_shift), (0, 0))
    padded = np.pad(frames, pad, mode="edge")
    offset = rng.integers(0, 2 * max_shift + 1, size=(n, 2))  # (n, (dy, dx)) crop origins
    shifted = np.stack(
        [padded[i, y : y + height, x : x + width] for i, (y, x) in enumerate(offset)]
    )
    moved = (max_shift - offset[:, ::-1]).astype(np.float32)  # (n, (dx, dy)) content motion
    return shifted, boxes + np.tile(moved, 2)


def random_vit(arch: str, seed: int) -> CLIPVisionModel:
    """A seeded random init of ``VIT_ARCHS[arch]``: the starting point of pretraining."""
    if arch not in VIT_ARCHS:
        raise BadInputError.for_field("arch", arch, f"unknown; choose from {sorted(VIT_ARCHS)}")
    with seeded(seed):
        return CLIPVisionModel(CLIPVisionConfig(**VIT_ARCHS[arch]))


def collect_frame_pairs(
    ws: Workspace, config: VitPretrainConfig, progress: ProgressFn | None = None
) -> FramePairs:
    """Decode up to ``frames_per_query`` GT frames of each query of ``config.split`` at
    ``frame_size`` and pair each with the query's sentence."""
    progress = progress or no_progress
    rows = split_queries(ws, config.dataset, config.split).to_pylist()
    plan = plan_pairs(rows, config.frames_per_query)
    frames: list[np.ndarray] = []
    frame_of_pair = np.zeros(len(plan.sentences), np.int64)
    boxes = np.zeros((len(plan.sentences), 4), np.float32)
    height, width = config.frame_size
    for done, (video_id, on_frames) in enumerate(plan.frames.items(), start=1):
        wanted = np.array(sorted(on_frames), np.int64)
        video = plan.videos[video_id]
        scale = np.array([width / video["width"], height / video["height"]] * 2, np.float32)
        for frame_idx, rgb in iter_frames(Path(video["path"]), wanted, config.frame_size):
            for pair, box in on_frames[frame_idx]:
                frame_of_pair[pair] = len(frames)
                boxes[pair] = box * scale
            frames.append(rgb)
        progress(f"frames {config.dataset}/{config.split}", done, len(plan.frames))
    return FramePairs(
        frames=np.stack(frames),
        sentences=plan.sentences,
        frame=frame_of_pair,
        video=np.asarray(plan.video, np.int64),
        boxes=boxes,
        target=np.asarray(plan.target, np.int64),
    )


def train_frame_text(
    model: FrameTextModel,
    data: FramePairs,
    config: VitPretrainConfig,
    progress: ProgressFn | None = None,
) -> list[float]:
    """Symmetric InfoNCE of sentences vs whole frames (pairs of one video are not negatives)
    plus ``region_weight`` x the same vs their GT-box regions (pairs of one object are not
    negatives). Returns the mean loss per epoch."""
    video, target = torch.from_numpy(data.video), torch.from_numpy(data.target)
    no_negatives = torch.zeros(0, dtype=torch.int64)

    def batch_loss(batch: np.ndarray, rng: np.random.Generator) -> torch.Tensor:
        frames, boxes = shift_frames(
            data.frames[data.frame[batch]], data.boxes[batch], config.max_shift, rng
        )
        text = model.embed_texts([data.sentences[i] for i in batch])
        cls, region = model.embed_frames(torch.from_numpy(frames), torch.from_numpy(boxes))
        scale = model.log_scale.exp().clamp(max=MAX_SCALE)
        # "same object" = same video for whole frames: the mask of pairs that are not negatives
        loss = contrastive_loss(text, cls, no_negatives, video[batch], video[batch], scale)
        if config.region_weight == 0:
            return loss
        regions = contrastive_loss(text, region, no_negatives, target[batch], video[batch], scale)
        return loss + config.region_weight * regions

    return fit_contrastive(
        model, len(data.sentences), batch_loss, config, progress or no_progress, "pretrain vit"
    )


def save_vit(vit: CLIPVisionModel, directory: Path, provenance: dict[str, object]) -> str:
    """Write the ViT as a Hugging Face directory with ``stvg_provenance.json``, swapped in
    whole (a reader sees the old directory or the new one); returns its weights tag."""
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = temp_sibling(directory)
    try:
        vit.save_pretrained(str(staging))
        (staging / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=1))
        if directory.exists():
            retired = temp_sibling(directory)
            os.replace(directory, retired)
            os.replace(staging, directory)
            shutil.rmtree(retired)
        else:
            os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return hash_weights(directory)


def default_vit_dir(ws: Workspace, dataset: str, arch: str) -> Path:
    """Where `stvg pretrain-vit` keeps the ViT pretrained on ``dataset``'s train split."""
    return ws.root / "models" / "vit-synth" / f"{dataset}-{arch}"


def run_vit_pretraining(
    ws: Workspace, config: VitPretrainConfig, progress: ProgressFn | None = None
) -> VitPretrainSummary:
    """Collect the split's (frame, sentence) pairs, train, save the image tower only."""
    torch.set_num_threads(config.threads)
    started = time.perf_counter()
    vit = random_vit(config.arch, config.seed)
    data = collect_frame_pairs(ws, config, progress)
    torch.manual_seed(config.seed)
    model = FrameTextModel(vit, config.text, Vocabulary.build(data.sentences))
    losses = train_frame_text(model, data, config, progress)
    directory = Path(config.output or default_vit_dir(ws, config.dataset, config.arch))
    provenance = {
        "what": "stvg pretrain-vit: CLIP-style image-text InfoNCE on synthetic frames, NOT "
        "pretrained CLIP",
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "pairs": len(data.sentences),
        "frames": len(data.frames),
        "losses": [round(loss, 4) for loss in losses],
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    weights = save_vit(model.vit, directory, provenance)
    return VitPretrainSummary(
        dataset=config.dataset,
        split=config.split,
        directory=str(directory),
        weights=weights,
        pairs=len(data.sentences),
        frames=len(data.frames),
        epochs=config.epochs,
        losses=provenance["losses"],
        seconds=time.perf_counter() - started,
    )
