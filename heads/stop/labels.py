"""Class labels for STOP's classification head, only where the user names a source: a label
table (``query_id``, ``label``; CSV or Parquet) or ``synthetic-motion``, the motion that a
`stvg synth` sentence names in the generator's fixed verb phrases. Nothing is derived from the
sentences by default: real sentences are not worded like the generator's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from stvg.stvgdata.errors import BadInputError
from stvg.stvgdata.synth.motion import Motion

SYNTHETIC_MOTION = "synthetic-motion"
MOTIONS: tuple[Motion, ...] = tuple(Motion)
# The synthetic generator's verb phrases (``stvgdata.synth.language``, older wordings too),
# tried in this order: "bounces up and down" before "up", "in a circle" (not a circle-shaped
# object), and a direction only right after a verb of motion ("moving to the left", "walks up
# the frame"), never a relation ("to the left of a ...").
_MOTION_PATTERNS = (
    (Motion.BOUNCE, r"\b(bounc|jump)\w*"),
    (Motion.CIRCLE, r"\bin a circle\b"),
    (Motion.STILL, r"\bstill\b"),
    (Motion.LEFT, r"\b(mov|walk)\w* to the left\b"),
    (Motion.RIGHT, r"\b(mov|walk)\w* to the right\b"),
    (Motion.UP, r"\b(mov|walk)\w* up"),
    (Motion.DOWN, r"\b(mov|walk)\w* down"),
)


def motion_class(sentence: str) -> int:
    """Index in ``MOTIONS`` of the motion a synthetic sentence names (-1: none found)."""
    text = sentence.lower()
    for motion, pattern in _MOTION_PATTERNS:
        if re.search(pattern, text):
            return MOTIONS.index(motion)
    return -1


@dataclass(frozen=True)
class ClassLabels:
    """Where labels come from (``source``), the class names, and each labelled query's class
    index (``by_query`` None: read from the synthetic sentence)."""

    source: str
    classes: tuple[str, ...]
    by_query: dict[str, int] | None = None

    def label(self, query_id: str, sentence: str) -> int:
        """Class index of one query, -1 if it has none."""
        if self.by_query is None:
            return motion_class(sentence)
        return self.by_query.get(query_id, -1)


def read_label_table(path: Path) -> ClassLabels:
    """A table of ``query_id``, ``label`` (any type, compared as text); classes sorted by name."""
    if not path.is_file():
        raise BadInputError(path, None, "label table not found")
    try:
        table = pq.read_table(path) if path.suffix == ".parquet" else pa_csv.read_csv(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise BadInputError(path, None, f"unreadable label table: {error}") from None
    if not {"query_id", "label"} <= set(table.column_names):
        raise BadInputError(path, None, "a label table needs the columns query_id, label")
    query_ids = table.column("query_id").cast(pa.string()).to_pylist()
    labels = table.column("label").cast(pa.string()).to_pylist()
    if None in query_ids or None in labels:
        raise BadInputError(path, None, "empty query_id or label")
    if len(set(query_ids)) < len(query_ids):
        raise BadInputError(path, None, "a query_id appears more than once")
    classes = tuple(sorted(set(labels)))
    index = {name: i for i, name in enumerate(classes)}
    by_query = {query_id: index[label] for query_id, label in zip(query_ids, labels, strict=True)}
    return ClassLabels(str(path), classes, by_query)


def load_labels(source: str | None) -> ClassLabels | None:
    """The labels ``source`` names (``StopConfig.labels``); None: retrieval only."""
    if source is None:
        return None
    if source == SYNTHETIC_MOTION:
        return ClassLabels(source, tuple(motion.value for motion in MOTIONS))
    return read_label_table(Path(source))
