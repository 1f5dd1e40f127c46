import pyarrow as pa
import pytest

from stvg.schemas import TABLES, empty_table, validate_table
from stvg.schemas.errors import SchemaMismatch


def test_every_column_is_documented():
    for name, schema in TABLES.items():
        assert schema.metadata and b"doc" in schema.metadata, name
        for field in schema:
            assert field.metadata and field.metadata.get(b"doc"), f"{name}.{field.name}"


def test_validate_rejects_missing_and_extra_columns():
    table = (
        empty_table("videos").drop_columns(["fps"]).append_column("typo", pa.array([], pa.int8()))
    )
    with pytest.raises(SchemaMismatch, match="missing \\['fps'\\].*unexpected \\['typo'\\]"):
        validate_table("videos", table)


def test_validate_rejects_nulls_in_required_columns():
    rows = [
        dict(
            dataset="d",
            video_id=None,
            split="train",
            path="p",
            width=1,
            height=1,
            fps=1.0,
            num_frames=1,
        )
    ]
    with pytest.raises(SchemaMismatch, match="video_id"):
        validate_table("videos", pa.Table.from_pylist(rows))


def test_validate_casts_to_schema_types():
    rows = [
        dict(
            dataset="d",
            video_id="v",
            split="train",
            path="p",
            width=2,
            height=3,
            fps=30,
            num_frames=4,
        )
    ]
    out = validate_table("videos", pa.Table.from_pylist(rows))
    assert out.schema.equals(TABLES["videos"], check_metadata=False)
