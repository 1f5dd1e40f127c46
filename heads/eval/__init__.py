"""Shared scoring of every method: metrics, protocols, predictions I/O, evaluation into the
``runs`` table, paired comparisons, the ablation result, box geometry and retrieval metrics.
Methods import this package; it imports no method."""
