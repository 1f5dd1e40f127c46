"""Where the CSDVL head gets its batches: the cache loader
(``stvgdata.loader.CachedQueryDataset`` + ``collate_queries``, batches laid out as
``schemas/batch.py``), wrapped for training (shuffled per epoch by ``heads.csdvl.train``) and for
prediction (in query order)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch.utils.data import DataLoader, Dataset

from stvg.heads.csdvl.model import FeatureDims
from stvg.schemas.batch import FeatureSet
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.workspace import Workspace


@dataclass
class QueryData:
    """A split's queries on cached features, how to batch them, and their feature dims."""

    dataset: Dataset
    collate: Callable[[list], dict]
    dims: FeatureDims


def query_data(
    ws: Workspace,
    dataset: str,
    split: str,
    max_frames: int,
    features: FeatureSet = FeatureSet(),
) -> QueryData:
    """The cached queries of ``dataset``/``split`` on ``features``; BadInputError when there
    are none."""
    from stvg.stvgdata.loader import CachedQueryDataset, collate_queries

    queries = CachedQueryDataset(ws, dataset, split, max_frames=max_frames, features=features)
    if len(queries) == 0:
        raise BadInputError(
            "feature cache",
            f"{dataset}/{split}",
            f"no queries with cached features ({', '.join(features.models())}): run extract",
        )
    dims = FeatureDims.of_batch(collate_queries([queries[0]]))
    return QueryData(queries, collate_queries, dims)


def ordered_batches(data: QueryData, batch_size: int, num_workers: int = 0) -> DataLoader:
    """Every query once, in dataset order (prediction and validation)."""
    return DataLoader(
        data.dataset,
        batch_size=batch_size,
        shuffle=False,
        collate_fn=data.collate,
        num_workers=num_workers,
    )
