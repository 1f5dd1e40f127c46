"""Decoding: probe, the TubeDETR sampling rule, streaming decode and per-video faults."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import av
import numpy as np
import pytest

from stvg.stvgdata.video import VideoDecodeError, iter_frames, probe, sample_frame_indices

WIDTH, HEIGHT = 64, 48


def gray_level(frame_idx: int) -> int:
    """Frame i of a test video is a flat gray at this level, so decoded frames identify
    themselves."""
    return (frame_idx * 8) % 240 + 8


def write_video(
    path: Path, num_frames: int, fps: int = 30, options: dict[str, str] | None = None
) -> Path:
    with av.open(str(path), "w", options=options or {}) as container:
        stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for frame_idx in range(num_frames):
            rgb = np.full((HEIGHT, WIDTH, 3), gray_level(frame_idx), np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        container.mux(stream.encode())
    return path


@pytest.fixture(scope="module")
def video_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("videos") / "clip.mp4", num_frames=30)


def test_probe_reads_fps_frames_size_codec(video_mp4: Path, tmp_path: Path) -> None:
    info = probe(video_mp4)
    assert (info.fps, info.num_frames, info.width, info.height) == (30.0, 30, WIDTH, HEIGHT)
    assert info.codec == "h264"
    # mkv headers carry no frame count: probe counts packets instead
    mkv = probe(write_video(tmp_path / "clip.mkv", num_frames=17, fps=25))
    assert (mkv.fps, mkv.num_frames) == (25.0, 17)


@pytest.mark.parametrize(
    ("src_fps", "target_fps", "expected"),
    [
        (30, 5, [0, 6, 12, 18, 24]),
        (25, 5, [0, 5, 10, 15, 20, 25]),
        (29.97, 5, [0, 6, 12, 18, 24]),
        (10, 5, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28]),
        (5, 5, list(range(30))),
        (4, 5, list(range(30))),
    ],
)
def test_sample_frame_indices_keeps_frames_where_the_target_bin_increases(
    src_fps: float, target_fps: float, expected: list[int]
) -> None:
    frame_idx = sample_frame_indices(30, src_fps, target_fps)
    assert frame_idx.dtype == np.int64
    assert frame_idx.tolist() == expected


def test_sample_frame_indices_within_a_range_are_absolute() -> None:
    assert sample_frame_indices(100, 30, 5, start=14, end=40).tolist() == [14, 18, 24, 30, 36]
    assert sample_frame_indices(100, 30, 5, start=90, end=500).tolist() == [90, 96]
    assert sample_frame_indices(100, 30, 5, start=50, end=50).size == 0


def test_iter_frames_yields_requested_frames_resized(video_mp4: Path) -> None:
    wanted = sample_frame_indices(30, 30, 5)
    frames = list(iter_frames(video_mp4, wanted, size=(32, 40)))
    assert [idx for idx, _ in frames] == wanted.tolist()
    for frame_idx, rgb in frames:
        assert rgb.shape == (32, 40, 3) and rgb.dtype == np.uint8
        assert abs(int(rgb.mean()) - gray_level(frame_idx)) <= 3  # lossy codec


def test_iter_frames_streams_without_buffering_the_video(tmp_path: Path) -> None:
    path = write_video(tmp_path / "long.mp4", num_frames=240)
    frame_bytes = 96 * 128 * 3
    tracemalloc.start()
    try:
        count = sum(1 for _ in iter_frames(path, np.arange(240), size=(96, 128)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 240
    assert peak < 20 * frame_bytes  # all 240 frames would be 240 * frame_bytes


def test_truncated_video_is_a_decode_error(tmp_path: Path) -> None:
    # moov atom first, so a cut file still opens and decodes until the data ends
    whole = write_video(tmp_path / "whole.mp4", 60, options={"movflags": "faststart"})
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert probe(cut).num_frames == 60  # the header still promises every frame
    with pytest.raises(VideoDecodeError, match="truncated video"):
        list(iter_frames(cut, np.arange(0, 60, 6), size=(HEIGHT, WIDTH)))
    # moov atom last: the cut file has no index at all
    tail = tmp_path / "tail_cut.mp4"
    plain = write_video(tmp_path / "plain.mp4", 60)
    tail.write_bytes(plain.read_bytes()[: plain.stat().st_size // 2])
    with pytest.raises(VideoDecodeError, match="unreadable"):
        probe(tail)


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "zero-length"), (b"this is not a video\n" * 50, "unreadable"), (None, "missing")],
)
def test_unusable_files_raise_one_line_reasons(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    for attempt in (lambda: probe(path), lambda: list(iter_frames(path, [0], (8, 8)))):
        with pytest.raises(VideoDecodeError, match=reason) as caught:
            attempt()
        assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_bad_sampling_arguments_are_programming_errors(video_mp4: Path) -> None:
    with pytest.raises(ValueError, match="fps must be positive"):
        sample_frame_indices(30, 0.0, 5)
    with pytest.raises(ValueError, match="strictly increasing"):
        list(iter_frames(video_mp4, np.array([6, 0]), size=(8, 8)))
