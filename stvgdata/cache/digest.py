"""Input digests: what a manifest row's features were computed from, so changed inputs are found.

A frame model's row digests the video file's size and modification time (one ``stat``, no read)
with the sampled frame indices; a text model's row digests the sentence (the tokenizer is part
of the fingerprint, so equal sentences give equal token ids); a region set's row digests what
was embedded (``array_digest``: boxes, frames or sentence), which ``extract-regions`` compares
itself. ``extract``, ``verify`` and the loader compare the stored digest of the array kinds
with the catalog's current input through ``InputCheck``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from stvg.schemas.arrays import REGION_SET, TEXT_TOKENS
from stvg.stvgdata.cache.manifest import item_of, row_kind
from stvg.stvgdata.errors import BadInputError


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def file_stamp(path: str | os.PathLike) -> str | None:
    """``size:mtime_ns`` of a file, or None when it cannot be read (missing, no permission)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def video_digest(stamp: str, frame_idx: Sequence[int]) -> str:
    """Digest of a video file (its ``file_stamp``) sampled at the absolute ``frame_idx``."""
    return _digest("video", stamp, ",".join(str(int(f)) for f in frame_idx))


def text_digest(sentence: str) -> str:
    """Digest of a query's sentence."""
    return _digest("text", sentence)


def array_digest(*parts: object) -> str:
    """Digest of arrays and strings (a region set's inputs): equal inputs give equal digests
    across runs."""
    digest = hashlib.sha256()
    for part in parts:
        data = np.ascontiguousarray(part).tobytes() if isinstance(part, np.ndarray) else part
        digest.update(str(data).encode() if not isinstance(data, bytes) else data)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


class InputCheck:
    """Compares manifest rows of one dataset with the catalog's current inputs.

    ``video_paths`` maps video ids to files, ``sentences`` query ids to sentences; each video
    file is stat'ed once. A row whose input is absent (file deleted after extraction, query no
    longer in the catalog) cannot be checked and is not called stale: a cache may outlive its
    videos.
    """

    def __init__(self, video_paths: dict[str, str], sentences: dict[str, str]) -> None:
        self.video_paths, self.sentences = video_paths, sentences
        self._stamps: dict[str, str | None] = {}

    def current(self, row: dict[str, Any]) -> str | None:
        """The digest ``row``'s input has now, or None when the input is absent (or the row is
        a region set's, whose inputs its extraction checks)."""
        kind = row_kind(row)
        if kind == REGION_SET:
            return None
        if kind == TEXT_TOKENS:
            sentence = self.sentences.get(row["query_id"])
            return None if sentence is None else text_digest(sentence)
        path = self.video_paths.get(row["video_id"])
        if path not in self._stamps:
            self._stamps[path] = None if path is None else file_stamp(path)
        stamp = self._stamps[path]
        return None if stamp is None else video_digest(stamp, row["frame_idx"])

    def stale_reason(self, row: dict[str, Any]) -> str | None:
        """Why ``row`` no longer matches its input; None when it matches or cannot be told
        (no stored digest: see ``unknown``; input absent)."""
        stored = row.get("input_digest")
        if stored is None:
            return None
        current = self.current(row)
        if current is None or current == stored:
            return None
        if row_kind(row) == TEXT_TOKENS:
            return "the sentence changed since its features were extracted"
        return f"the video file {self.video_paths[row['video_id']]} changed since extraction"

    @staticmethod
    def unknown(row: dict[str, Any]) -> bool:
        """Whether ``row`` predates input digests (its input cannot be compared)."""
        return row.get("input_digest") is None and row_kind(row) != REGION_SET

    def refuse_stale(self, rows: Iterable[dict[str, Any]]) -> None:
        """BadInputError naming the first stale row's item: its features must not be served."""
        for row in rows:
            reason = self.stale_reason(row)
            if reason is not None:
                raise BadInputError(
                    "feature cache",
                    f"{row['dataset']}/{row['model']} {item_of(row)}",
                    f"stale features: {reason}; re-run `stvg extract --dataset {row['dataset']}`",
                )
