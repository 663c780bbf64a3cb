"""Progress of running exports: rich bars on a terminal, plain lines otherwise."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from zenodo_export.exports.progress import LogProgress


class RichProgress(LogProgress):
    """Show each upload as a progress bar and each step as a line, on ``console``."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.tasks: dict[tuple[int, str], TaskID] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def step(self, export_id: int, message: str) -> None:
        """Print the step above the bars."""
        self.console.print(f"export {export_id}: {message}", highlight=False)

    def file_started(self, export_id: int, name: str, size: int) -> None:
        """Add a bar for the file."""
        self.tasks[(export_id, name)] = self.progress.add_task(f"{name}", total=size)

    def advance(self, export_id: int, name: str, sent: int) -> None:
        """Move the file's bar."""
        task = self.tasks.get((export_id, name))
        if task is not None:
            self.progress.advance(task, sent)

    def file_done(self, export_id: int, name: str) -> None:
        """Remove the file's bar."""
        task = self.tasks.pop((export_id, name), None)
        if task is not None:
            self.progress.remove_task(task)
