"""E3M (Bao et al., ECCV 2024): training-free STVG over cached region embeddings, with its
baselines. See docs/e3m.md for the algorithm as implemented and its deviations from the paper."""
