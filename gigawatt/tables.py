"""The tables of the command line (``validate``, ``sweep``, ``bench``) and its run summary, drawn one way.

On a terminal rich draws them (rules, a bold header, FAIL and MISSED in red, columns fitted to the window);
off a terminal (a pipe, a CI log, a test) the same cells come out as plain aligned columns, one row a line
under a rule of dashes, which grep, awk and the tests read. Commands build rows of strings and call
:func:`table_lines`; nothing else in the package aligns columns by hand for a table.
"""
from __future__ import annotations

import sys

# Cells that say a check failed or passed, coloured on a terminal only (the text stays the same in a log).
EMPHASIS = {"FAIL": "bold red", "MISSED": "bold red", "NOT met": "bold red", "failed": "red", "NO": "red",
            "pass": "green", "met": "green"}


def on_terminal() -> bool:
    """Whether standard output is a terminal (then tables are drawn by rich)."""
    return sys.stdout.isatty()


def table_lines(head, rows, align: str = "lr", rule: bool = True, terminal: bool | None = None) -> list[str]:
    """``rows`` (lists of strings) under ``head`` as lines of text.

    ``align`` gives each column ``l`` (left) or ``r`` (right), its last letter for the remaining columns
    (``"lr"``: the first column left, the rest right). ``rule``: a line of dashes under the header of the
    plain table. ``terminal``: draw with rich (default: when standard output is a terminal)."""
    head = [str(h) for h in head]
    rows = [[str(c) for c in r] for r in rows]
    aligns = [align[min(i, len(align) - 1)] for i in range(len(head))]
    if on_terminal() if terminal is None else terminal:
        return _rich_lines(head, rows, aligns)
    widths = [max(len(x) for x in col) for col in zip(head, *rows)]

    def line(cells):
        cells = (c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(cells, widths, aligns))
        return "  ".join(cells).rstrip()

    return [line(head)] + ([line(["-" * w for w in widths])] if rule else []) + [line(r) for r in rows]


def _rich_lines(head: list[str], rows: list[list[str]], aligns: list[str]) -> list[str]:
    """The table drawn by rich for the terminal's width, as lines with its colour codes."""
    import io
    import shutil

    from rich import box
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False)
    for h, a in zip(head, aligns):
        table.add_column(Text(h), justify="left" if a == "l" else "right")  # Text: "[W]" is no markup
    for r in rows:
        table.add_row(*(Text(c, style=EMPHASIS.get(c, "")) for c in r))
    console = Console(file=io.StringIO(), force_terminal=True, width=shutil.get_terminal_size().columns)
    # Too wide for the window: drawn whole at its natural width (the terminal wraps it as it would a plain table),
    # never squeezed, which would cut names and numbers inside a cell.
    console.width = max(console.width, Measurement.get(console, console.options.update_width(10_000), table).maximum)
    console.print(table)
    return console.file.getvalue().rstrip("\n").splitlines()


def echo_text(text: str, terminal: bool | None = None) -> None:
    """Print a command's text report (the run summary): on a terminal through rich, its section headings
    (lines in the first column with indented lines below them) bold and its numbers highlighted, lines never
    re-wrapped; off a terminal the text as it is."""
    if not (on_terminal() if terminal is None else terminal):
        import click

        click.echo(text)
        return
    from rich.console import Console

    console = Console(soft_wrap=True, highlight=True)
    lines = text.splitlines()
    for line, after in zip(lines, lines[1:] + [""]):
        heading = line[:1].strip() and after[:1] == " "  # a section's title: its rows are indented below it
        console.print(line, style="bold" if heading else None, markup=False)
