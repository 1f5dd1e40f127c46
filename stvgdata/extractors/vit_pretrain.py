"""``stvg pretrain-vit``: the offline stand-in for CLIP's pretrained image tower.

STOP tunes prompts around a frozen CLIP ViT whose CLS already carries object semantics. CLIP
weights cannot be downloaded here, and a random-init ViT carries almost nothing (docs/stop.md),
so this trains the ViT of a chosen shape the way CLIP was trained, only on the synthetic TRAIN
split: image-text InfoNCE between a whole frame's final CLS (linearly projected) and the
sentence of a query whose ground-truth tube covers that frame. Single frames, as in CLIP:
motion stays invisible to the frozen network, which leaves STOP's temporal prompts something
to add. The text tower, tokenizer and loss are the ``stvg-vl-synth`` substitute's
(``stvgdata.regions``); only the image tower differs.

Pairs from the same video are not negatives of each other (masked): every frame of a video
shows the same objects, so a frame cannot tell which of them a sentence of its own video
names, nor in which phase. The saved directory is a plain Hugging Face ``CLIPVisionModel``
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

from stvgdata.atomic import temp_sibling
from stvgdata.errors import BadInputError
from stvgdata.extractors.fingerprint import hash_weights
from stvgdata.extractors.random_init import seeded
from stvgdata.extractors.vit import CLIP_NORMALIZATION, VIT_ARCHS
from stvgdata.progress import ProgressFn, no_progress
from stvgdata.regions.config import SubstituteConfig
from stvgdata.regions.substitute import TextTower, Vocabulary
from stvgdata.regions.train import (
    MAX_SCALE,
    contrastive_loss,
    fit_contrastive,
    plan_pairs,
    split_queries,
)
from stvgdata.video.decode import iter_frames
from stvgdata.workspace import Workspace

PROVENANCE_FILE = "stvg_provenance.json"


@dataclass(frozen=True)
class VitPretrainConfig:
    """What to pretrain on and how long (defaults: a few minutes on one core for the 80-video
    synthetic benchmark at the science setting, mini at 96x160)."""

    dataset: str
    arch: str = "mini"  # a VIT_ARCHS shape
    frame_size: tuple[int, int] = (96, 160)  # (H, W): extraction's --size, same resize
    split: str = "train"
    frames_per_query: int = 4  # GT frames per query, evenly over its tube
    epochs: int = 7
    batch_size: int = 64  # (frame, sentence) pairs per step
    lr: float = 1e-3
    weight_decay: float = 0.05
    seed: int = 0
    threads: int = 1
    output: Path | None = None  # default: <workspace>/models/vit-synth/<dataset>-<arch>
    text: SubstituteConfig = field(default_factory=SubstituteConfig)  # text tower sizes, D


@dataclass(frozen=True)
class FramePairs:
    """(frame, sentence) pairs; frames stored once and indexed."""

    frames: np.ndarray  # (F, H, W, 3) uint8
    sentences: list[str]  # (E,)
    frame: np.ndarray  # (E,) int64 index into frames
    video: np.ndarray  # (E,) int64 video number: pairs of one video are not negatives


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
        mean, std = (torch.tensor(v).view(1, 3, 1, 1) * 255.0 for v in CLIP_NORMALIZATION)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def embed_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (n, H, W, 3) -> (n, D) L2-normalized; pixels normalized as at extraction."""
        pixels = (frames.permute(0, 3, 1, 2).float() - self.mean) / self.std
        cls = self.vit(pixel_values=pixels, interpolate_pos_encoding=True).pooler_output
        return F.normalize(self.image_projection(cls), dim=-1)

    def embed_texts(self, texts: list[str]) -> torch.Tensor:
        """(n, D) L2-normalized sentence embeddings."""
        ids, mask = self.vocabulary.encode(texts, self.text_config.max_words)
        return F.normalize(self.text.sentence(ids, mask), dim=-1)


def random_vit(arch: str, seed: int) -> CLIPVisionModel:
    """A seeded random init of ``VIT_ARCHS[arch]``: the starting point of pretraining."""
    if arch not in VIT_ARCHS:
        raise BadInputError("--arch", arch, f"unknown; choose from {sorted(VIT_ARCHS)}")
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
    for done, (video_id, on_frames) in enumerate(plan.frames.items(), start=1):
        wanted = np.array(sorted(on_frames), np.int64)
        path = Path(plan.videos[video_id]["path"])
        for frame_idx, rgb in iter_frames(path, wanted, config.frame_size):
            for pair, _ in on_frames[frame_idx]:
                frame_of_pair[pair] = len(frames)
            frames.append(rgb)
        progress(f"frames {config.dataset}/{config.split}", done, len(plan.frames))
    return FramePairs(
        frames=np.stack(frames),
        sentences=plan.sentences,
        frame=frame_of_pair,
        video=np.asarray(plan.video, np.int64),
    )


def train_frame_text(
    model: FrameTextModel,
    data: FramePairs,
    config: VitPretrainConfig,
    progress: ProgressFn | None = None,
) -> list[float]:
    """Symmetric InfoNCE of sentences vs whole frames; pairs of one video are not negatives of
    each other. Returns the mean loss per epoch."""
    video = torch.from_numpy(data.video)
    no_negatives = torch.zeros(0, dtype=torch.int64)

    def batch_loss(batch: np.ndarray, _rng: np.random.Generator) -> torch.Tensor:
        return contrastive_loss(
            model.embed_texts([data.sentences[i] for i in batch]),
            model.embed_frames(torch.from_numpy(data.frames[data.frame[batch]])),
            no_negatives,
            video[batch],  # as "same object": pairs of one video are masked
            video[batch],
            model.log_scale.exp().clamp(max=MAX_SCALE),
        )

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
