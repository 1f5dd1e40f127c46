"""Data layer of stvg: dataset adapters, synthetic data, video decoding, feature extractors,
the feature cache store and the catalog. Never imports ``heads`` or ``cli``."""
