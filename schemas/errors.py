"""Errors raised by schema checks."""


class SchemaMismatch(ValueError):
    """Data that does not match its declared table or array layout."""
