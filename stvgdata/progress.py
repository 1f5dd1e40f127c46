"""How long-running library functions report progress without knowing about the terminal.

A function takes ``progress: ProgressFn | None`` and calls ``progress(task, completed, total,
**info)`` whenever it advances; ``cli`` turns that into rich progress bars. ``completed`` is
cumulative; ``total`` may be None when unknown; ``info`` holds extra numbers to show (e.g.
frames per second).
"""

from __future__ import annotations

from typing import Protocol


class ProgressFn(Protocol):
    def __call__(
        self, task: str, completed: float, total: float | None = None, **info: float
    ) -> None: ...


def no_progress(task: str, completed: float, total: float | None = None, **info: float) -> None:
    """The default callback: report nothing."""
