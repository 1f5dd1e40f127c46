"""E3M's grounding as expectation-maximization over cached regions: events (temporal
segments), the E-step (tubelet posteriors), the M-step (best region per frame), and the
visual and text modulations."""
