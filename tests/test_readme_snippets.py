"""Every snippet of the README runs as written: its Python blocks are executed (in a folder where
``gigawatt init my-campus`` has written the starter case, as the README's first steps do), its shell
commands are run when quick (``gigawatt init``, ``gigawatt run`` of a steady case) and otherwise parsed by the
command line itself (every subcommand and option must exist), its TOML blocks parse, and its time-series CSV
example reads."""
from __future__ import annotations

import os
import re
import shlex
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

import gigawatt as gw
from gigawatt.cases.loader import write_starter_case
from gigawatt.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
RUN_FULLY = ("init", "run")  # quick enough to run as written; the others are parsed only


def blocks(kind: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text(encoding="utf-8")) if lang == kind]


def commands() -> list[list[str]]:
    out = []
    for lang, body in BLOCK.findall(README.read_text(encoding="utf-8")):
        if lang not in ("sh", ""):
            continue
        for line in body.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("gigawatt "):
                out.append(shlex.split(line)[1:])
    return out


@pytest.fixture
def in_tmp(tmp_path):
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(here)


def test_readme_has_snippets():
    assert blocks("python") and commands() and blocks("toml")


@pytest.mark.parametrize("code", blocks("python"), ids=lambda c: c.strip().splitlines()[-1][:40])
def test_python_snippet_runs(code, in_tmp):
    write_starter_case(in_tmp / "my-campus")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})


@pytest.mark.parametrize("args", commands(), ids=" ".join)
def test_command_snippet(args, in_tmp):
    runner = CliRunner()
    timed = any(a in ("--year", "--series") for a in args)
    if args[0] in RUN_FULLY and not timed:
        if args[0] == "run" and args[1:2] and args[1].startswith("my-campus"):
            write_starter_case(in_tmp / "my-campus")
        result = runner.invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return
    # Parsed by click itself: an unknown subcommand or option fails here as it would for the reader.
    command = main.get_command(None, args[0])
    assert command is not None, f"README names an unknown command: gigawatt {args[0]}"
    command.make_context(args[0], list(args[1:]), resilient_parsing=False)


@pytest.mark.parametrize("text", blocks("toml"), ids=lambda t: t.strip().splitlines()[0][:40])
def test_toml_snippet_parses(text):
    tomllib.loads(text)


def test_timeseries_csv_example_reads(tmp_path):
    csv = next(body for lang, body in BLOCK.findall(README.read_text(encoding="utf-8"))
               if lang == "" and body.lstrip().startswith("# comment lines"))
    (tmp_path / "series.csv").write_text(csv, encoding="utf-8")
    ds = gw.read_timeseries(tmp_path / "series.csv", start="2025-01-01", periods=2, step="1h")
    assert ds.sizes["time"] == 2


TUTORIAL = README.parent / "docs" / "tutorial.md"


def tutorial_steps() -> list[tuple[str, str]]:
    """The tutorial's blocks in reading order: ``("sh", command line)`` for each ``gigawatt`` line and
    ``("python", code)`` for each Python block."""
    out = []
    for lang, body in BLOCK.findall(TUTORIAL.read_text(encoding="utf-8")):
        if lang == "python":
            out.append(("python", body))
        elif lang in ("sh", ""):
            out += [("sh", line.split("  #")[0].strip()) for line in body.splitlines()
                    if line.strip().startswith("gigawatt ")]
    return out


def test_tutorial_runs_in_order(in_tmp):
    """docs/tutorial.md as a reader follows it, in one folder: every command runs to exit status 0 (the
    sweep is small: 4 scenarios of a 36-rack hall on one worker) and every Python block runs, sharing one
    namespace; what the steps write is there afterwards."""
    steps = tutorial_steps()
    assert [kind for kind, _ in steps].count("sh") >= 6 and any(kind == "python" for kind, _ in steps)
    namespace = {"__name__": "tutorial"}
    runner = CliRunner()
    for kind, text in steps:
        if kind == "python":
            exec(compile(text, str(TUTORIAL), "exec"), namespace)
            continue
        result = runner.invoke(main, shlex.split(text)[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{text}\n{result.output}"
    for name in ("my-campus/campus.toml", "my-campus.nc", "my-campus-report/report.html", "my-campus-day.nc",
                 "sweep.nc", "sweep-report/report.html"):
        assert (in_tmp / name).is_file(), name
