"""CoSPaL (ICLR 2025): weakly-supervised STVG from sentences only, over tracker tubelets."""
