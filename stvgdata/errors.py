"""The one exception type for a user's bad input: the CLI prints it as one line, exit code 2."""

from __future__ import annotations


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
