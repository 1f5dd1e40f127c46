"""One source of truth for every catalog table and every cached array layout.

This package imports nothing of the project: writers build tables against these schemas and
readers check what they read against them.
"""

from stvg.schemas.arrays import ARRAY_LAYOUTS, ArrayLayout
from stvg.schemas.batch import BATCH_FIELDS, MAP_FIELDS, FeatureSet
from stvg.schemas.tables import DATASET_TABLES, TABLES, empty_table, schema_for, validate_table

__all__ = [
    "ARRAY_LAYOUTS",
    "ArrayLayout",
    "BATCH_FIELDS",
    "DATASET_TABLES",
    "FeatureSet",
    "MAP_FIELDS",
    "TABLES",
    "empty_table",
    "schema_for",
    "validate_table",
]
