"""Dataset adapters: one module per on-disk layout, all producing the catalog tables, and the
registry that maps a dataset name to its layouts. Adding a dataset or layout = one module plus
one line below."""

from __future__ import annotations

from stvg.stvgdata.adapters import (
    hcstvg_v1,
    hcstvg_v2,
    vidstg_original,
    vidstg_stcat,
    vidstg_tubedetr,
)
from stvg.stvgdata.adapters.base import Adapter, CatalogTables

# dataset -> its layouts, in the order auto-detection tries them.
ADAPTERS: dict[str, tuple[Adapter, ...]] = {
    "vidstg": (vidstg_original.ADAPTER, vidstg_tubedetr.ADAPTER, vidstg_stcat.ADAPTER),
    "hcstvg-v1": (hcstvg_v1.ADAPTER,),
    "hcstvg-v2": (hcstvg_v2.ADAPTER,),
}

__all__ = ["ADAPTERS", "Adapter", "CatalogTables"]
