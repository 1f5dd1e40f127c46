"""HC-STVG v2 as released: v1's structure, but the sentence is ``English`` and the frame size
is ``img_size = [height, width]``::

    <root>/**/train_v2.json, val_v2.json   (trainv2.json / valv2.json as TubeDETR names them;
                                           train.json and val.json or test.json where code
                                           renamed them: STCAT-style copies call val "test")
    <root>/Video/<dir>/<name>.mp4           (or video/, videos/, v2_video/; flat or one level)

``test_v2.json`` holds queries without tubes (results are reported on val), so it is not
imported.
"""

from __future__ import annotations

from pathlib import Path

from stvg.stvgdata.adapters.base import Adapter, CatalogTables
from stvg.stvgdata.adapters.fields import expect_type, get_field
from stvg.stvgdata.adapters.hcstvg_common import HcstvgFormat, annotation_files, read_hcstvg
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn


def _frame_size(record: object, path: Path, where: str) -> tuple[int, int]:
    size = get_field(record, "img_size", list, path, where)
    if len(size) != 2:
        raise BadInputError(path, where, "field 'img_size' must be [height, width]")
    height, width = (expect_type(v, int, path, where, "img_size entries") for v in size)
    if height <= 0 or width <= 0:
        raise BadInputError(path, where, f"field 'img_size' {size} is not a positive size")
    return width, height


FORMAT = HcstvgFormat(
    split_files={
        "train": ("train_v2.json", "trainv2.json", "train.json"),
        "val": ("val_v2.json", "valv2.json", "val.json", "test.json"),
    },
    sentence_field="English",
    frame_size=_frame_size,
)


def read(root: Path, dataset: str, progress: ProgressFn) -> CatalogTables:
    return read_hcstvg(root, dataset, FORMAT, progress)


ADAPTER = Adapter(
    layout="release",
    summary="HC-STVG v2: train_v2.json/val_v2.json + v2_video/",
    detect=lambda root: bool(annotation_files(root, FORMAT)),
    read=read,
)
