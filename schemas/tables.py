"""Arrow schemas of the catalog tables, with a doc string on every column.

Conventions shared by every table:
- Frame indices are absolute frame numbers of the source video, counted from 0.
- Temporal ranges are half-open: ``*_start_frame`` is inclusive, ``*_end_frame`` is exclusive.
- Boxes are pixel corners ``x1, y1, x2, y2`` of the source video's frame (x2 > x1, y2 > y1).
"""

from __future__ import annotations

import pyarrow as pa

from stvg.schemas.errors import SchemaMismatch


def _field(name: str, type_: pa.DataType, doc: str, nullable: bool = False) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"doc": doc})


def _schema(doc: str, *fields: pa.Field) -> pa.Schema:
    return pa.schema(list(fields), metadata={"doc": doc})


DATASET = _field("dataset", pa.string(), "Dataset name: vidstg, hcstvg-v1 or hcstvg-v2.")
VIDEO_ID = _field(
    "video_id", pa.string(), "The source's own video id (VidOR vid, HC-STVG file stem)."
)
QUERY_ID = _field("query_id", pa.string(), "Stable query id, unique within the dataset.")
SPLIT = _field("split", pa.string(), "train, val or test.")

VIDEOS = _schema(
    "One row per video of a dataset.",
    DATASET,
    VIDEO_ID,
    SPLIT,
    _field("path", pa.string(), "Absolute path of the video file."),
    _field("width", pa.int32(), "Frame width in pixels, as annotated."),
    _field("height", pa.int32(), "Frame height in pixels, as annotated."),
    _field("fps", pa.float64(), "Frames per second of the source video."),
    _field("num_frames", pa.int32(), "Number of frames of the source video."),
)

QUERIES = _schema(
    "One row per sentence (query); the target tube is [tube_start_frame, tube_end_frame).",
    DATASET,
    QUERY_ID,
    VIDEO_ID,
    SPLIT,
    _field("sentence", pa.string(), "The natural-language query."),
    _field("sentence_type", pa.string(), "declarative or interrogative."),
    _field("tube_start_frame", pa.int32(), "First frame of the target tube (inclusive)."),
    _field("tube_end_frame", pa.int32(), "End of the target tube (exclusive)."),
    _field(
        "segment_start_frame",
        pa.int32(),
        "First frame of the clip the query is posed on (VidSTG used_segment; 0 elsewhere).",
    ),
    _field(
        "segment_end_frame",
        pa.int32(),
        "End of that clip, exclusive (VidSTG used_segment end + 1; num_frames elsewhere).",
    ),
    _field("target_id", pa.int32(), "The source's id of the target object (VidOR tid).", True),
    _field("target_category", pa.string(), "Object category of the target, when known.", True),
    _field(
        "source_query_id",
        pa.string(),
        "The source's own id of this sentence (e.g. TubeDETR's running video_id).",
        True,
    ),
)

BOXES = _schema(
    "One row per (query, annotated frame) of the target tube.",
    DATASET,
    QUERY_ID,
    _field("frame_idx", pa.int32(), "Absolute frame index in the source video."),
    _field("x1", pa.float32(), "Left edge in pixels."),
    _field("y1", pa.float32(), "Top edge in pixels."),
    _field("x2", pa.float32(), "Right edge in pixels (> x1)."),
    _field("y2", pa.float32(), "Bottom edge in pixels (> y1)."),
)

FAILURES = _schema(
    "Per-item failures of batch jobs: the job carried on without the item.",
    _field("stage", pa.string(), "Which job failed: import, extract, ..."),
    DATASET,
    _field("item", pa.string(), "The item that failed (video id, query id, record key)."),
    _field("error", pa.string(), "What was wrong, in one line."),
    _field("file", pa.string(), "The file involved, when there is one.", True),
    _field("model", pa.string(), "The feature model involved (extract failures).", True),
    _field("created_at", pa.timestamp("us", tz="UTC"), "When the failure was recorded."),
)

RANDOM_INIT_PREFIX = "random-init:"  # weights label of a seeded random-init backbone

FEATURES = _schema(
    "Manifest of the feature store: each row points at rows of one array (or one group of "
    "region arrays) in one HDF5 shard; ``kind`` names its layout (schemas.arrays.KINDS).",
    DATASET,
    _field(
        "video_id", pa.string(), "Video the array belongs to (null for per-query arrays).", True
    ),
    _field("query_id", pa.string(), "Query the array belongs to (text features).", True),
    _field("model", pa.string(), "Feature model: resnet101, slowfast, roberta, ..., regions."),
    _field(
        "kind",
        pa.string(),
        "Layout kind: frame-map, frame-tokens, text-tokens or region-set (null in manifests "
        "written before the column: the model's registered kind).",
        True,
    ),
    _field("fingerprint", pa.string(), "Digest of model, config, weights, preprocessing, fps."),
    _field(
        "config",
        pa.string(),
        "The extractor's full configuration as a JSON object (size, fps, dtype, autocast, "
        "weights, tiny, channels, ...; region sets: encoder, weights path, dim); read it with "
        "stvgdata.cache.feature_config, never from the fingerprint's description. Null in "
        "manifests written before the column.",
        True,
    ),
    _field(
        "weights",
        pa.string(),
        "Weights the model ran with: IMAGENET1K_V2, roberta-base@<revision>, "
        "file:<sha256 prefix>, random-init:SEED (null in caches written before the column).",
        True,
    ),
    _field("shard", pa.string(), "Shard file, relative to the workspace's features directory."),
    _field("array_path", pa.string(), "HDF5 dataset path inside the shard."),
    _field("row_start", pa.int64(), "First row of this item in the array (inclusive)."),
    _field("row_end", pa.int64(), "End row of this item in the array (exclusive)."),
    _field("fps", pa.float64(), "Sampling rate of the frame timeline (null for text).", True),
    _field(
        "frame_idx",
        pa.list_(pa.int32()),
        "Absolute source frame index of each row (empty for text).",
    ),
    _field("shape", pa.list_(pa.int32()), "Shape of one row, e.g. [H, W, C] or [C]."),
    _field("dtype", pa.string(), "Stored element type, e.g. float16."),
    _field("created_at", pa.timestamp("us", tz="UTC"), "When the shard was committed."),
    _field(
        "input_digest",
        pa.string(),
        "Digest of the input (video file size, mtime and sampled frames; or the sentence): "
        "a changed input makes the row stale. Null in manifests written before it existed.",
        True,
    ),
)

FEATURE_LINEAGE = pa.struct(
    [
        pa.field("model", pa.string()),
        pa.field("fingerprint", pa.string()),
        pa.field("weights", pa.string()),
    ]
)

RUNS = _schema(
    "One row per (evaluation, sentence type): metrics of a trained or training-free head.",
    _field("run_id", pa.string(), "Id of the run (train or eval invocation)."),
    DATASET,
    _field("method", pa.string(), "Head: csdvl, e3m, ..."),
    _field("variant", pa.string(), "Model trained, e.g. s2d+d2s, d2s, fusion=sum."),
    SPLIT,
    _field("protocol", pa.string(), "Evaluation protocol: sampled-5fps (TubeDETR) or all-frames."),
    _field("sentence_type", pa.string(), "all, declarative or interrogative."),
    _field("seed", pa.int64(), "Training seed.", True),
    _field("num_queries", pa.int64(), "Number of queries scored."),
    _field(
        "num_missing",
        pa.int64(),
        "Queries without a prediction, scored 0 (included in num_queries).",
        True,
    ),
    _field("m_viou", pa.float64(), "Mean vIoU (null for a non-grounding run, e.g. stop).", True),
    _field("viou_03", pa.float64(), "Fraction of queries with vIoU > 0.3.", True),
    _field("viou_05", pa.float64(), "Fraction of queries with vIoU > 0.5.", True),
    _field("m_tiou", pa.float64(), "Mean temporal IoU.", True),
    _field("m_siou", pa.float64(), "Mean spatial IoU over GT frames.", True),
    _field(
        "r_at_1", pa.float64(), "Text-to-video retrieval: fraction with the clip ranked 1.", True
    ),
    _field("r_at_5", pa.float64(), "Text-to-video retrieval: fraction ranked in the top 5.", True),
    _field(
        "r_at_10", pa.float64(), "Text-to-video retrieval: fraction ranked in the top 10.", True
    ),
    _field("median_rank", pa.float64(), "Text-to-video retrieval: median rank (1 = best).", True),
    _field("accuracy", pa.float64(), "Video classification accuracy (e.g. motion class).", True),
    _field("config", pa.string(), "Full configuration of the run, as JSON."),
    _field("checkpoint", pa.string(), "Checkpoint evaluated, when there is one.", True),
    _field(
        "features",
        pa.list_(FEATURE_LINEAGE),
        "Each feature set the run read: model, fingerprint and weights as the features view "
        "has them (model regions: the region encoder; null in rows written before the column).",
        True,
    ),
    _field("created_at", pa.timestamp("us", tz="UTC"), "When the run was recorded."),
)

PREDICTIONS = _schema(
    "Per-query predictions of a run, with that query's scores.",
    _field("run_id", pa.string(), "Run that produced the prediction."),
    DATASET,
    QUERY_ID,
    _field("pred_start_frame", pa.int32(), "Predicted tube start (inclusive, absolute frame)."),
    _field("pred_end_frame", pa.int32(), "Predicted tube end (exclusive, absolute frame)."),
    _field("viou", pa.float64(), "vIoU of this query."),
    _field("tiou", pa.float64(), "Temporal IoU of this query."),
    _field("siou", pa.float64(), "Spatial IoU of this query over GT frames."),
    _field("protocol", pa.string(), "Evaluation protocol the scores follow."),
)

PREDICTED_BOXES = _schema(
    "Per-frame predicted boxes of a run (pixel corners, absolute frame indices).",
    _field("run_id", pa.string(), "Run that produced the prediction."),
    DATASET,
    QUERY_ID,
    _field("frame_idx", pa.int32(), "Absolute frame index in the source video."),
    _field("x1", pa.float32(), "Left edge in pixels."),
    _field("y1", pa.float32(), "Top edge in pixels."),
    _field("x2", pa.float32(), "Right edge in pixels."),
    _field("y2", pa.float32(), "Bottom edge in pixels."),
)

DETECTIONS = _schema(
    "Per-frame detector output (one row per box), replaced as a whole per (dataset, source).",
    DATASET,
    VIDEO_ID,
    _field("frame_idx", pa.int32(), "Absolute frame index in the source video."),
    _field("x1", pa.float32(), "Left edge in pixels."),
    _field("y1", pa.float32(), "Top edge in pixels."),
    _field("x2", pa.float32(), "Right edge in pixels (> x1)."),
    _field("y2", pa.float32(), "Bottom edge in pixels (> y1)."),
    _field("score", pa.float32(), "Detector confidence (finite, >= 0)."),
    _field("label", pa.string(), "Class the detector assigned (e.g. adult, square, person)."),
    _field(
        "source",
        pa.string(),
        "Where the boxes came from: synthetic-simulated, or the detector file's absolute path.",
    ),
)

TUBELETS = _schema(
    "Detections linked over time by the Kalman tracker: one row per (tubelet, frame).",
    DATASET,
    VIDEO_ID,
    _field("tubelet_id", pa.int64(), "Tubelet number, unique within (dataset, source)."),
    _field("frame_idx", pa.int32(), "Absolute frame index in the source video."),
    _field("x1", pa.float32(), "Left edge in pixels (the filter's estimate, inside the frame)."),
    _field("y1", pa.float32(), "Top edge in pixels."),
    _field("x2", pa.float32(), "Right edge in pixels (> x1)."),
    _field("y2", pa.float32(), "Bottom edge in pixels (> y1)."),
    _field(
        "score",
        pa.float32(),
        "Score of the detection matched on this frame (null where the box is predicted).",
        True,
    ),
    _field("label", pa.string(), "Class of the tubelet (the tracker links one class only)."),
    _field(
        "observed",
        pa.bool_(),
        "True: a detection was matched on this frame; false: the filter bridged a miss.",
    ),
    _field("source", pa.string(), "The detections source the tubelet was tracked from."),
)

TABLES: dict[str, pa.Schema] = {
    "videos": VIDEOS,
    "queries": QUERIES,
    "boxes": BOXES,
    "failures": FAILURES,
    "features": FEATURES,
    "runs": RUNS,
    "predictions": PREDICTIONS,
    "predicted_boxes": PREDICTED_BOXES,
    "detections": DETECTIONS,
    "tubelets": TUBELETS,
}

# Tables written by `stvg import` as one versioned unit per dataset (replaced atomically).
DATASET_TABLES: tuple[str, ...] = ("videos", "queries", "boxes", "failures")


def schema_for(table: str) -> pa.Schema:
    """The schema of a catalog table; KeyError names the known tables."""
    try:
        return TABLES[table]
    except KeyError:
        raise KeyError(f"unknown table {table!r}; known: {', '.join(TABLES)}") from None


def empty_table(table: str) -> pa.Table:
    """A zero-row table with the table's schema (views over an empty catalog use it)."""
    return schema_for(table).empty_table()


# Columns added to a table after writers of it existed: a writer may leave them out (they are
# nullable and filled with nulls), so adding a metric never breaks the writers of other heads.
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": ("r_at_1", "r_at_5", "r_at_10", "median_rank", "accuracy", "features"),
    "features": ("input_digest", "kind", "config"),
}


def _keep_encoding(field: pa.Field, actual: pa.DataType) -> pa.Field:
    if pa.types.is_dictionary(actual) and actual.value_type == field.type:
        return field.with_type(actual)
    return field


def validate_table(table: str, data: pa.Table, source: str = "") -> pa.Table:
    """Check ``data`` against the table's schema and return it cast to that schema.

    Columns are matched by name; extra columns are an error so that typos do not pass silently.
    Absent ``OPTIONAL_COLUMNS`` are filled with nulls. A dictionary-encoded column of the
    field's type stays encoded (millions of repeated ids; Parquet stores it as the plain type).
    """
    schema = schema_for(table)
    for name in OPTIONAL_COLUMNS.get(table, ()):
        if name not in data.column_names:
            data = data.append_column(
                schema.field(name), pa.nulls(data.num_rows, schema.field(name).type)
            )
    missing = [name for name in schema.names if name not in data.column_names]
    extra = [name for name in data.column_names if name not in schema.names]
    where = f"{source}: " if source else ""
    if missing or extra:
        raise SchemaMismatch(
            f"{where}table {table!r} columns differ from the schema: "
            f"missing {missing or 'none'}, unexpected {extra or 'none'}"
        )
    data = data.select(schema.names)
    for field in schema:
        column = data.column(field.name)
        if not field.nullable and column.null_count:
            raise SchemaMismatch(f"{where}table {table!r} column {field.name!r} has nulls")
    target = pa.schema(
        [_keep_encoding(field, data.schema.field(field.name).type) for field in schema],
        schema.metadata,
    )
    try:
        return data.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SchemaMismatch(f"{where}table {table!r} does not cast to its schema: {exc}") from None
