"""The networks stvg builds or trains itself, each beside its pretraining code.

- ``vit``: the CLIP-style ViT STOP prompts (shapes, weights, the cut at layer k);
  ``vit_pretrain``: ``stvg pretrain-vit``, its offline stand-in for CLIP's pretraining.
- ``vl_synth``: ``stvg-vl-synth``, the small image-text dual encoder (towers, vocabulary, the
  dense image tower); ``vl_synth_train``: ``stvg train-vl-encoder``, its contrastive training.
- ``clip``: Hugging Face CLIP behind the same vision-language interface.
- ``config``: the substitute's sizes and its training settings (torch-free, for the CLI).
- ``registry``: a vision-language encoder by name and weights (build, reload, where the trained
  substitute lives).

Extraction (``stvgdata.extractors``, ``stvgdata.regions``) wraps these networks: it
preprocesses, batches and writes; heads may import a network (STOP rebuilds the ViT's frozen
top). Modules are imported by name, so importing this package loads no torch.
"""
