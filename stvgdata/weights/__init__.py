"""Where a network's weights come from, shared by the networks stvg builds (``encoders``) and
the extractors that wrap library backbones (``extractors``), so neither imports the other:

- ``hubs``: named pretrained weights through torch.hub's and Hugging Face's caches, with the
  one-line offline error;
- ``fingerprint``: what produced a feature set (weights name, file hash, random-init seed);
- ``random_init``: seeded, calibrated random initialisation, announced loudly.
"""
