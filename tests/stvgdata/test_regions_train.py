"""Training the substitute: the InfoNCE loss masks what it must, falls on a toy set where
colour words name solid-colour crops, and pairs are cut from the chosen split only."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from stvg.stvgdata.encoders.config import TrainVLConfig
from stvg.stvgdata.encoders.vl_synth import DualEncoder, SubstituteEncoder, Vocabulary
from stvg.stvgdata.encoders.vl_synth_train import (
    ContrastiveSet,
    collect_pairs,
    contrastive_loss,
    run_vl_training,
    train_dual_encoder,
)
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.sample_catalog import DATASET
from tests.stvgdata.regions_fixtures import TINY, regions_workspace

COLOURS = {"red": (220, 20, 20), "green": (20, 200, 20), "blue": (20, 20, 220), "grey": (128,) * 3}


def toy_set(per_colour: int = 8) -> ContrastiveSet:
    """Solid-colour crops paired with 'the <colour> square', the other colours as negatives."""
    crops = np.stack([np.full((16, 16, 3), rgb, np.uint8) for rgb in COLOURS.values()])
    names = list(COLOURS)
    pairs = [(c, i) for c in range(len(names)) for i in range(per_colour)]
    negatives = np.array([[o for o in range(len(names)) if o != c][:2] for c, _ in pairs])
    return ContrastiveSet(
        crops=crops,
        sentences=[f"the {names[c]} square" for c, _ in pairs],
        positive=np.array([c for c, _ in pairs]),
        negatives=negatives,
        target=np.array([c for c, _ in pairs]),  # same colour = same object
        video=np.arange(len(pairs)),
    )


def test_loss_falls_on_a_toy_set_and_the_colours_are_told_apart():
    torch.manual_seed(0)
    data = toy_set()
    model = DualEncoder(TINY, Vocabulary.build(data.sentences))
    config = TrainVLConfig(dataset="toy", epochs=30, batch_size=8, lr=1e-2)
    losses = train_dual_encoder(model, data, config)
    assert losses[-1] < 0.5 * losses[0]
    with torch.no_grad():
        images = model.embed_images(torch.from_numpy(data.crops).permute(0, 3, 1, 2) / 255.0)
        texts = model.embed_texts([f"the {name} square" for name in COLOURS])
    assert (texts @ images.T).argmax(1).tolist() == [0, 1, 2, 3]


def test_loss_masks_other_pairs_of_the_same_object():
    text = F.normalize(torch.randn(3, 4), dim=-1)
    images = F.normalize(torch.randn(4, 4), dim=-1)  # 3 pair crops + 1 hard negative of pair 0
    owner, video, scale = torch.tensor([0]), torch.tensor([0, 1, 2]), torch.tensor(10.0)
    distinct = contrastive_loss(text, images, owner, torch.tensor([0, 1, 2]), video, scale)
    same = contrastive_loss(text, images, owner, torch.tensor([0, 0, 2]), video, scale)
    assert torch.isfinite(same) and same < distinct  # pairs 0 and 1 no longer push apart
    # pair 1's image equal to pair 0's text changes nothing when both show the same object
    moved = images.clone()
    moved[1] = text[0]
    moved_same = contrastive_loss(text, moved, owner, torch.tensor([0, 0, 2]), video, scale)
    moved_distinct = contrastive_loss(text, moved, owner, torch.tensor([0, 1, 2]), video, scale)
    assert moved_distinct > distinct and moved_same < moved_distinct


def test_pairs_come_from_the_split_with_hard_negatives(tmp_path):
    ws = regions_workspace(tmp_path)
    config = TrainVLConfig(dataset=DATASET, frames_per_query=3, negatives=2, model=TINY)
    data = collect_pairs(ws, config)
    assert len(data.sentences) == 4 * 3  # 2 videos x 2 queries x 3 GT frames
    assert data.crops.shape[1:] == (16, 16, 3)
    # the GT box (8, 6, ...) overlaps the square's detection: only the corner box is negative
    assert ((data.negatives >= 0).sum(1) == 1).all()
    assert len(set(data.target)) == 2  # both queries of a video show object 0
    with pytest.raises(BadInputError, match="no queries with boxes in this split"):
        collect_pairs(ws, TrainVLConfig(dataset=DATASET, split="test"))


def test_training_saves_a_loadable_encoder(tmp_path):
    ws = regions_workspace(tmp_path)
    config = TrainVLConfig(dataset=DATASET, epochs=2, batch_size=4, model=TINY)
    summary = run_vl_training(ws, config)
    encoder = SubstituteEncoder(summary.directory)
    assert summary.directory == str(ws.root / "models" / "stvg-vl-synth" / DATASET)
    assert encoder.fingerprint == summary.fingerprint and len(summary.losses) == 2
    assert encoder.provenance["split"] == "train"
