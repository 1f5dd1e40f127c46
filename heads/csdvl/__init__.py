"""CSDVL (CVPR 2023): collaborative static and dynamic vision-language streams, trained on
cached ResNet-101 / SlowFast / RoBERTa features."""
