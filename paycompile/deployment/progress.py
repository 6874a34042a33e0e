"""Showing a running deployment: a live bar with rich on a terminal, one line per event otherwise.

Both print every stack event as one line (time, status, resource, type, AWS's reason); on a
terminal rich also keeps a bar of the resources done out of those the change set touches.
Logs and CI get the plain lines only, nothing that redraws. rich is imported only here, and
only when a terminal is there to draw on.
"""

from __future__ import annotations

from typing import Any, Protocol, TextIO

from paycompile.deployment.events import StackEvent


class Progress(Protocol):
    def start(self, title: str, total: int) -> None:
        """An operation touching `total` resources begins."""

    def event(self, event: StackEvent) -> None:
        """One new stack event."""

    def finish(self, succeeded: bool) -> None:
        """The operation has ended."""


class QuietProgress:
    """Shows nothing: the library's default."""

    def start(self, title: str, total: int) -> None:
        pass

    def event(self, event: StackEvent) -> None:
        pass

    def finish(self, succeeded: bool) -> None:
        pass


class PlainProgress:
    """One flushed line per event: readable in CI logs and when piped."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def start(self, title: str, total: int) -> None:
        self._write(f"{title}: {total} resource{'s' if total != 1 else ''}")

    def event(self, event: StackEvent) -> None:
        self._write(event.line())

    def finish(self, succeeded: bool) -> None:
        pass

    def _write(self, line: str) -> None:
        self._stream.write(line + "\n")
        self._stream.flush()


class RichProgress:
    """The event lines scroll above a live bar counting the resources done."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(file=stream, highlight=False),
        )
        self._task: Any = None
        self._total = 0
        self._done: set[str] = set()

    def start(self, title: str, total: int) -> None:
        self._total = total
        self._progress.start()
        self._task = self._progress.add_task(title, total=total)

    def event(self, event: StackEvent) -> None:
        from rich.text import Text

        self._progress.console.print(Text(event.line(), style=_style(event.status)))
        if event.finishes_resource:
            self._done.add(event.logical_id)
            self._progress.update(self._task, completed=min(len(self._done), self._total))

    def finish(self, succeeded: bool) -> None:
        if succeeded:
            self._progress.update(self._task, completed=self._total)
        self._progress.stop()


def _style(status: str) -> str:
    if status.endswith("_FAILED") or "ROLLBACK" in status:
        return "red"
    if status.endswith("_COMPLETE") or status == "DELETE_SKIPPED":
        return "green"
    return "yellow"


def progress_for(stream: TextIO) -> Progress:
    """rich's live display when `stream` is a terminal, plain lines otherwise."""
    return RichProgress(stream) if stream.isatty() else PlainProgress(stream)
