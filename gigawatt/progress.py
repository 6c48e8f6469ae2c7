"""Progress of long commands (``validate``, ``sweep``, ``bench``) on a terminal, through rich; nothing in a
log or a pipe, where the command's own lines say what happened."""
from __future__ import annotations

import contextlib
import sys


@contextlib.contextmanager
def progress(total: int | None, label: str):
    """A progress bar of ``total`` steps (None: unknown) on standard error when it is a terminal; yields
    ``advance(description=None, steps=1, total=None)`` (``total``: set or correct the number of steps). Off
    a terminal ``advance`` does nothing."""
    if not sys.stderr.isatty():
        yield lambda description=None, steps=1, total=None: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(description=None, steps=1, total=None):
            bar.update(task, advance=steps, description=f"{label}: {description}" if description else label,
                       **({"total": total} if total is not None else {}))

        yield advance
