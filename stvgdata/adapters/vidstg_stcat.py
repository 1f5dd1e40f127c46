"""VidSTG in STCAT's (and CG-STVG's) flat layout: the same VidSTG sentence files and VidOR
per-video files, without VidOR's numbered folders::

    <root>/**/sent_annos/{train,val,test}_annotations.json
    <root>/**/bbox_annos/<vid>.json
    <root>/**/videos/<vid>.mp4               (beside sent_annos/)

STCAT's own loader reads ``temporal_gt.end_fid`` as inclusive; the files are VidSTG's, whose
end is exclusive, so they are converted exactly as the original layout is (see
``vidstg_sentences``) and both layouts give the same catalog.
"""

from __future__ import annotations

from pathlib import Path

from stvg.stvgdata.adapters.base import Adapter, CatalogTables, find_path
from stvg.stvgdata.adapters.vidstg_sentences import read_vidstg_release
from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.progress import ProgressFn


def _layout_dirs(root: Path) -> tuple[Path, Path] | None:
    """(sent_annos, bbox_annos), siblings under the root."""
    sentences = find_path(root, "sent_annos")
    if sentences is None or not (sentences.parent / "bbox_annos").is_dir():
        return None
    return sentences, sentences.parent / "bbox_annos"


def detect(root: Path) -> bool:
    return _layout_dirs(root) is not None


def read(root: Path, dataset: str, progress: ProgressFn) -> CatalogTables:
    dirs = _layout_dirs(root)
    if dirs is None:
        raise BadInputError(root, None, "expected sent_annos/ and bbox_annos/ under the root")
    sentence_dir, box_dir = dirs
    video_dir = sentence_dir.parent / "videos"
    return read_vidstg_release(
        sentence_dir,
        trajectory_file=lambda vid: box_dir / f"{vid}.json",
        video_file=lambda vid: video_dir / f"{vid}.mp4",
        dataset=dataset,
        progress=progress,
    )


ADAPTER = Adapter(
    layout="stcat",
    summary="STCAT flat layout: sent_annos/, bbox_annos/<vid>.json, videos/<vid>.mp4",
    detect=detect,
    read=read,
)
