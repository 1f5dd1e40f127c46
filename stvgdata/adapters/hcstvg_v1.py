"""HC-STVG v1 as released::

<root>/**/train.json, test.json   {"<name>.mp4": {bbox, st_frame, img_num, caption,
                                                   width, height, st_time, ed_time}}
<root>/**/video/<name>.mp4|.mkv   (or videos/, or v1_video/ as STCAT names it)
"""

from __future__ import annotations

from pathlib import Path

from stvg.stvgdata.adapters.base import Adapter, CatalogTables
from stvg.stvgdata.adapters.fields import get_positive
from stvg.stvgdata.adapters.hcstvg_common import HcstvgFormat, annotation_files, read_hcstvg
from stvg.stvgdata.progress import ProgressFn


def _frame_size(record: object, path: Path, where: str) -> tuple[int, int]:
    return get_positive(record, "width", int, path, where), get_positive(
        record, "height", int, path, where
    )


FORMAT = HcstvgFormat(
    split_files={"train": ("train.json",), "test": ("test.json",)},
    sentence_field="caption",
    frame_size=_frame_size,
)


def read(root: Path, dataset: str, progress: ProgressFn) -> CatalogTables:
    return read_hcstvg(root, dataset, FORMAT, progress)


ADAPTER = Adapter(
    layout="release",
    summary="HC-STVG v1: train.json/test.json + video/",
    detect=lambda root: bool(annotation_files(root, FORMAT)),
    read=read,
)
