"""The exception types users see: bad input (exit code 2) and faults of the machine or the
workspace (exit code 1). The CLI prints either as one line, without a traceback.

A bad *setting* names the config field it came from (``BadInputError.for_field``) and writes any
other setting its reason mentions as a backquoted field name (`` `val_split` ``); the library
knows no command-line flags, and the CLI maps each field to the flag that sets it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

# A setting named in a reason: a backquoted identifier such as `val_split`.
FIELD_MENTION = re.compile(r"`([a-z][a-z0-9_]*)`")


class BadInputError(Exception):
    """Input that stvg cannot use, naming the file (or the config field), the record inside it
    and what is wrong."""

    def __init__(
        self, file: object, record: object | None, reason: str, *, field: str | None = None
    ) -> None:
        self.file = str(file)
        self.record = None if record is None else str(record)
        self.reason = reason
        self.field = field
        super().__init__(str(self))

    @classmethod
    def for_field(cls, field: str, value: object | None, reason: str) -> BadInputError:
        """A setting the user gave that stvg cannot use: config field ``field`` = ``value``."""
        return cls(field, value, reason, field=field)

    def __str__(self) -> str:
        where = self.file if self.record is None else f"{self.file}: {self.record}"
        return f"{where}: {self.reason}"

    def render(self, flag_of: Callable[[str], str | None]) -> str:
        """The message with each field (its own and those its reason mentions) written as the
        flag ``flag_of(field)`` returns; a field it returns None for stays as it is."""
        where = (flag_of(self.field) or self.field) if self.field else self.file
        reason = FIELD_MENTION.sub(lambda m: flag_of(m[1]) or m[0], self.reason)
        return f"{where}: {reason}" if self.record is None else f"{where}: {self.record}: {reason}"

    def __reduce__(self) -> tuple:
        """Keep file, record, reason and field when the error crosses a process boundary."""
        return (_rebuild, (self.file, self.record, self.reason, self.field))


def _rebuild(file: str, record: str | None, reason: str, field: str | None) -> BadInputError:
    return BadInputError(file, record, reason, field=field)


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
