"""A full, read-only or forbidden workspace stops ``extract`` with one ``StorageError`` naming
the path, leaves no temporary or half-committed file, and a later run succeeds."""

from __future__ import annotations

import errno
import os
import subprocess
from collections import namedtuple
from pathlib import Path

import pytest

import stvg.stvgdata.cache.faults as faults
import stvg.stvgdata.cache.shard as shard
from stvg.stvgdata.cache import StorageError, manifest_rows, verify_cache
from stvg.stvgdata.extract import run_extraction
from stvg.stvgdata.workspace import Workspace
from tests.stvgdata.cache_fixtures import (
    install_catalog,
    make_videos,
    tiny_config,
    two_video_workspace,
)

MODELS = ("resnet101", "roberta")


pytestmark = pytest.mark.filterwarnings("ignore")  # random-init warnings of tiny networks


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return two_video_workspace(tmp_path)[0]


def leftovers(ws: Workspace) -> list[str]:
    """Files a failed run must not leave: shards, temporaries, manifest parts."""
    return sorted(
        path.name
        for path in ws.root.rglob("*")
        if path.is_file() and (".tmp-" in path.name or path.suffix == ".h5")
    ) + [p.name for p in ws.table_dir("features").glob("*")]


def assert_recovers(ws: Workspace) -> None:
    summary = run_extraction(ws, tiny_config(models=MODELS))
    assert [m.done for m in summary.models] == [2, 2]
    assert verify_cache(ws, deep=True).ok


def test_disk_full_before_a_write(ws: Workspace, monkeypatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(faults.shutil, "disk_usage", lambda _: usage(1 << 20, 1 << 20, 0))
    with pytest.raises(StorageError) as caught:
        run_extraction(ws, tiny_config(models=MODELS))
    message = str(caught.value)
    assert "\n" not in message and "No space left on device (ENOSPC)" in message
    assert message.startswith(str(ws.features_dir / "shards" / "vidstg" / "resnet101"))
    assert leftovers(ws) == []
    monkeypatch.undo()
    assert_recovers(ws)


@pytest.mark.parametrize(
    ("number", "name"), [(errno.EROFS, "EROFS"), (errno.EACCES, "EACCES"), (errno.ENOSPC, "ENOSPC")]
)
def test_hdf5_refusing_to_create_a_shard(ws: Workspace, monkeypatch, number, name) -> None:
    real = shard.h5py.File

    def refuse(path, mode="r", **kwargs):
        if mode == "w":  # h5py's wording: the errno is only in the text
            raise OSError(
                f"Unable to create file (unable to open file: name = '{path}', errno = {number}, "
                f"error message = '{os.strerror(number)}', flags = 13, o_flags = 242)"
            )
        return real(path, mode, **kwargs)

    monkeypatch.setattr(shard.h5py, "File", refuse)
    with pytest.raises(StorageError, match=rf"resnet101: {os.strerror(number)} \({name}\)"):
        run_extraction(ws, tiny_config(models=MODELS))
    assert leftovers(ws) == []
    monkeypatch.undo()
    assert_recovers(ws)


def test_forbidden_shard_directory(ws: Workspace, monkeypatch) -> None:
    real = Path.mkdir

    def forbid(self, *args, **kwargs):
        if self.is_relative_to(ws.features_dir):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", forbid)
    with pytest.raises(StorageError, match=r"Permission denied \(EACCES\); make the workspace"):
        run_extraction(ws, tiny_config(models=MODELS))
    monkeypatch.undo()
    assert_recovers(ws)


def test_disk_full_while_appending_the_manifest_removes_the_renamed_shard(
    ws: Workspace, monkeypatch
) -> None:
    def full(*_):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(ws.table_dir("features")))

    monkeypatch.setattr(shard, "append_rows", full)
    with pytest.raises(StorageError, match=r"tables/features: No space left on device"):
        run_extraction(ws, tiny_config(models=MODELS))
    assert leftovers(ws) == [] and manifest_rows(ws).num_rows == 0
    monkeypatch.undo()
    assert_recovers(ws)


def _mount_tiny_tmpfs(path: Path) -> bool:
    path.mkdir()
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], check=False
    )
    return done.returncode == 0


@pytest.mark.slow
def test_a_really_full_disk_fails_in_one_line(tmp_path: Path, monkeypatch) -> None:
    """On a 1 MiB tmpfs, with the free-space check off, so HDF5 itself meets ENOSPC (it used to
    print thousands of lines and crash)."""
    root = tmp_path / "tiny"
    if not _mount_tiny_tmpfs(root):
        pytest.skip("needs root and tmpfs")
    try:
        ws = Workspace(root / "ws")
        install_catalog(ws, make_videos(tmp_path / "videos", {"a": 40, "b": 40, "c": 40}))
        monkeypatch.setattr(shard, "ensure_space", lambda *_, **__: None)
        with pytest.raises(StorageError, match=r"No space left on device \(ENOSPC\)"):
            run_extraction(ws, tiny_config(models=("resnet101",), input_size=(256, 256)))
        assert leftovers(ws) == []
    finally:
        subprocess.run(["umount", str(root)], check=False)
