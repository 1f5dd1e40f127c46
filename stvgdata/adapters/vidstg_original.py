"""VidSTG as released: the VidSTG sentence and split files, plus VidOR's annotation and video
trees::

    <root>/**/{train,val,test}_annotations.json, {train,val,test}_files.json
    <root>/**/annotation/{training,validation}/<dir>/<vid>.json
    <root>/**/video/<dir>/<vid>.mp4          (beside annotation/)
"""

from __future__ import annotations

from pathlib import Path

from stvg.stvgdata.adapters.base import Adapter, CatalogTables, find_path
from stvg.stvgdata.adapters.rows import UniqueIds
from stvg.stvgdata.adapters.vidstg_sentences import SPLITS, read_vidstg_release
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn

VIDOR_PARTS = ("training", "validation")


def _sentence_dir(root: Path) -> Path | None:
    for split in SPLITS:
        found = find_path(root, f"{split}_annotations.json")
        if found is not None:
            return found.parent
    return None


def _vidor_annotation_dir(root: Path) -> Path | None:
    for part in VIDOR_PARTS:
        found = find_path(root, f"annotation/{part}")
        if found is not None:
            return found.parent
    return None


def detect(root: Path) -> bool:
    return _sentence_dir(root) is not None and _vidor_annotation_dir(root) is not None


def index_vidor_files(annotation_dir: Path) -> dict[str, Path]:
    """vid -> its VidOR annotation file (VidOR spreads videos over numbered folders)."""
    index: dict[str, Path] = {}
    seen = UniqueIds("VidOR video id")
    for part in VIDOR_PARTS:
        for path in sorted((annotation_dir / part).glob("*/*.json")):
            seen.claim(path.stem, path, f"video {path.stem}")
            index[path.stem] = path
    return index


def read(root: Path, dataset: str, progress: ProgressFn) -> CatalogTables:
    sentence_dir = _sentence_dir(root)
    annotation_dir = _vidor_annotation_dir(root)
    if sentence_dir is None or annotation_dir is None:
        raise BadInputError(
            root, None, "expected VidSTG *_annotations.json and VidOR annotation/ under the root"
        )
    index = index_vidor_files(annotation_dir)
    video_dir = annotation_dir.parent / "video"

    def trajectory_file(vid: str) -> Path:
        return index.get(vid, annotation_dir / "*" / "*" / f"{vid}.json")

    def video_file(vid: str) -> Path:
        return video_dir / trajectory_file(vid).parent.name / f"{vid}.mp4"

    return read_vidstg_release(sentence_dir, trajectory_file, video_file, dataset, progress)


ADAPTER = Adapter(
    layout="original",
    summary="VidSTG sentence files + VidOR annotation/ and video/ trees",
    detect=detect,
    read=read,
)
