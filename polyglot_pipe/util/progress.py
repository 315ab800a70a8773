"""One progress bar: rich on a terminal's stderr, nothing at all anywhere else.

Runs, downloads and pack training show progress the same way; a pipe, a file or
a CI log gets no escape codes.  rich is imported only when a bar is shown.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["ProgressBar"]


class ProgressBar:
    """``with ProgressBar("inputs", total=n, enabled=...) as bar: bar.advance(1, docs=5)``.

    label: the text before the bar.  total: the amount at the end (None: unknown).
    fields: extra values shown after the bar, as ``name value`` (``docs=0``); update them
    with ``advance`` or ``update``.  transfer: show bytes, speed and time left (downloads).
    transient: the bar vanishes when done (False: it stays, as for training).
    enabled: False, or stderr not a terminal, shows nothing.
    """

    def __init__(
        self,
        label: str,
        total: float | None,
        *,
        enabled: bool = True,
        transfer: bool = False,
        transient: bool = True,
        **fields: Any,
    ):
        self.enabled = enabled and sys.stderr.isatty()
        self.label, self.total, self.transfer, self.transient = label, total, transfer, transient
        self.fields = fields
        self._bar = None
        self._task = None

    def __enter__(self) -> "ProgressBar":
        if not self.enabled:
            return self
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        if self.transfer:
            columns = [DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn()]
        else:
            columns = [MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn()]
        columns += [TextColumn(f"{name} {{task.fields[{name}]}}") for name in self.fields]
        self._bar = Progress(
            TextColumn(self.label), BarColumn(), *columns, console=Console(stderr=True), transient=self.transient
        )
        self._bar.start()
        self._task = self._bar.add_task(self.label, total=self.total, **self.fields)
        return self

    def advance(self, amount: float = 1, **fields: Any) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=amount, **fields)

    def update(self, completed: float | None = None, **fields: Any) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=completed, **fields)

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
