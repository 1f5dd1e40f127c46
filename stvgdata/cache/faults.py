"""Faults of the storage under the cache (disk full, read-only, no permission) as one line.

HDF5 and Arrow report them as long messages that carry the errno in their text, sometimes
wrapped in other exceptions; ``storage_faults`` finds the errno anywhere in the chain and raises
``StorageError`` naming the path, which the CLI prints as one line.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stvg.stvgdata.errors import BadInputError

STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)
# HDF5: "... filename = '/x.h5', ..., errno = 28, ..."; Arrow: "[errno 28] No space left ..."
_ERRNO_TEXT = re.compile(r"errno\s*=?\s*(\d+)", re.IGNORECASE)
_FILENAME_TEXT = re.compile(r"(?:file)?name = '([^']+)'")


class StorageError(BadInputError):
    """The workspace's storage refused a write (full, read-only, no permission)."""


def _storage_errno(exc: BaseException) -> tuple[int, str | None] | None:
    """(errno, path) of the first storage fault in ``exc``'s chain, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        number = getattr(current, "errno", None)
        text = str(current)
        if number is None and (match := _ERRNO_TEXT.search(text)):
            number = int(match.group(1))
        if number in STORAGE_ERRNOS:
            filename = getattr(current, "filename", None)
            if filename is None and (match := _FILENAME_TEXT.search(text)):
                filename = match.group(1)
            return number, None if filename is None else str(filename)
        current = current.__cause__ or current.__context__
    return None


@contextmanager
def storage_faults(where: Path) -> Iterator[None]:
    """Turn a storage fault raised inside into ``StorageError`` (``where`` when the fault names
    no path); other errors pass unchanged."""
    try:
        yield
    except StorageError:
        raise
    except Exception as exc:
        found = _storage_errno(exc)
        if found is None:
            raise
        number, path = found
        if path is not None and ".tmp-" in Path(path).name:
            path = str(Path(path).parent)  # the temporary file is gone: name where it was
        advice = (
            "free some space or use another --workspace"
            if number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
            else "make the workspace writable or use another --workspace"
        )
        raise StorageError(
            path or where,
            None,
            f"{os.strerror(number)} ({errno.errorcode[number]}); {advice}; "
            "unfinished files of this run were removed",
        ) from None


def ensure_space(directory: Path, nbytes: int, reserve: int) -> None:
    """Raise ENOSPC before a write of ``nbytes`` would leave less than ``reserve`` bytes free:
    HDF5 fails later and noisily (in destructors, or with a crash) when the disk fills under it."""
    if shutil.disk_usage(directory).free < nbytes + reserve:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(directory))
