"""CSDVL model modules; ``build_csdvl`` composes them from a ``CSDVLConfig``."""

from stvg.heads.csdvl.model.csdvl import CSDVL, FeatureDims, build_csdvl

__all__ = ["CSDVL", "FeatureDims", "build_csdvl"]
