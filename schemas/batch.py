"""Layout of a training/evaluation batch produced by the cache loader and consumed by heads.

B queries, T sampled frames (padded to the longest clip in the batch), H x W feature grid,
L text tokens (padded). Boxes are normalized (cx, cy, w, h) in [0, 1] relative to the video
frame size; temporal indices refer to positions on the batch's frame axis (0..T-1).
"""

BATCH_FIELDS: dict[str, tuple[str, str, str]] = {
    # name: (shape, dtype, meaning)
    "frame_feats": ("B,T,H,W,Cr", "float32", "ResNet-101 maps of each sampled frame"),
    "clip_feats": ("B,T,H,W,Cs", "float32", "SlowFast maps aligned to the same frames"),
    "frame_mask": ("B,T", "bool", "True for real (not padded) frames"),
    "text_feats": ("B,L,Ct", "float32", "RoBERTa token features"),
    "text_mask": ("B,L", "bool", "True for real tokens"),
    "token_ids": ("B,L", "int64", "Token ids (pad id where text_mask is False)"),
    "boxes": ("B,T,4", "float32", "GT box (cx, cy, w, h) normalized, zeros where no GT"),
    "box_mask": ("B,T", "bool", "True where the frame has a GT box (inside the tube)"),
    "tube": ("B,2", "int64", "GT tube on the frame axis: [start, end) indices"),
    "frame_idx": ("B,T", "int64", "Absolute source frame index of each frame, -1 for padding"),
    "image_size": ("B,2", "float32", "Source frame (width, height) in pixels"),
    "fps": ("B", "float32", "Sampling rate of the frame timeline"),
    "query_id": ("B", "str", "Query ids (list of str)"),
    "video_id": ("B", "str", "Video ids (list of str)"),
    "sentence_type": ("B", "str", "declarative or interrogative (list of str)"),
}
