"""One source of truth for every catalog table and every layout kind of the feature store.

This package imports nothing of the project: writers build tables against these schemas and
readers check what they read against them.
"""

from stvg.schemas.arrays import KINDS, LayoutKind
from stvg.schemas.batch import BATCH_FIELDS, MAP_FIELDS, FeatureSet
from stvg.schemas.tables import DATASET_TABLES, TABLES, empty_table, schema_for, validate_table

__all__ = [
    "BATCH_FIELDS",
    "DATASET_TABLES",
    "FeatureSet",
    "KINDS",
    "LayoutKind",
    "MAP_FIELDS",
    "TABLES",
    "empty_table",
    "schema_for",
    "validate_table",
]
