"""Write files and directories under a temporary name and rename them when complete, so that a
reader never sees a half-written file, whatever happens to the writer."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temp_sibling(final: Path) -> Path:
    """A unique hidden name beside ``final`` (same filesystem, so rename is atomic)."""
    return final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex[:12]}")


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success rename it onto ``final``, else remove it."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(final)
    try:
        yield tmp
        if tmp.is_file():
            with open(tmp, "rb") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(final: Path, data: bytes) -> None:
    """Replace ``final`` with ``data`` in one step."""
    with atomic_output(final) as tmp:
        tmp.write_bytes(data)
