"""STOP (CVPR 2025): spatial-temporal dynamic prompting of a frozen ViT on cached patch tokens,
for text-to-video retrieval and video classification (docs/stop.md)."""
