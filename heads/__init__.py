"""Heads trained on cached features: models, losses, metrics, training. Never imports ``cli``."""
