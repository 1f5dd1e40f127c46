"""The exception types users see: bad input (exit code 2) and faults of the machine or the
workspace (exit code 1). The CLI prints either as one line, without a traceback."""

from __future__ import annotations

import os


class BadInputError(Exception):
    """Input that stvg cannot use, naming the file, the record inside it and what is wrong."""

    def __init__(self, file: object, record: object | None, reason: str) -> None:
        self.file = str(file)
        self.record = None if record is None else str(record)
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.file if self.record is None else f"{self.file}: {self.record}"
        return f"{where}: {self.reason}"

    def __reduce__(self) -> tuple[type, tuple[str, str | None, str]]:
        """Keep file, record and reason when the error crosses a process boundary."""
        return (BadInputError, (self.file, self.record, self.reason))


class FaultError(Exception):
    """A failure of the machine or the workspace, not of the input: a full or read-only disk, a
    damaged catalog file, a killed worker. The CLI prints it as one line (where, what happened,
    how to recover), exit code 1."""

    def __init__(self, where: object, reason: str) -> None:
        self.where = str(where)
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (FaultError, (self.where, self.reason))

    @classmethod
    def from_os_error(cls, path: object, exc: OSError, doing: str = "cannot write") -> FaultError:
        """One line for an OS error (ENOSPC, EROFS, EACCES, ...) while writing ``path``."""
        reason = os.strerror(exc.errno) if exc.errno else str(exc).splitlines()[0]
        return cls(exc.filename or path, f"{doing}: {reason}")
