"""The layout hazard of STYLE.md: the top-level folders solver/, models/, cases/, validation/ are installed
as gigawatt.solver, ... and must never be importable under their bare names (that would load a second copy
of every module). And the command line imports lazily, so ``gigawatt --help`` is instant."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FOLDERS = ("solver", "models", "cases", "validation")
HEAVY = ("numba", "pandapower", "xarray")


def run_python(kit, code: str, cwd: Path) -> subprocess.CompletedProcess:
    """The venv's interpreter on ``code``, from ``cwd`` (never the repository root, which ``python -c``
    would put on the import path)."""
    return subprocess.run([str(kit.VENV_BIN / "python"), "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_bare_folder_names_are_not_importable(kit, tmp_path):
    code = f"""
import importlib, json
out = {{}}
for name in {FOLDERS!r}:
    for full in (name, "gigawatt." + name):
        try:
            mod = importlib.import_module(full)
            out[full] = getattr(mod, "__file__", None) or list(getattr(mod, "__path__", []))
        except ModuleNotFoundError as err:
            out[full] = "missing: " + str(err.name)
print(json.dumps(out))
"""
    proc = run_python(kit, code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    for name in FOLDERS:
        # Missing, or at most some unrelated installed package of that name, never our folder.
        assert found[name] == f"missing: {name}" or str(kit.REPO) not in str(found[name]), (
            f"bare '{name}' is importable from {found[name]}")
        where = found[f"gigawatt.{name}"]
        assert not str(where).startswith("missing"), where
        assert str(kit.REPO / name) in str(where), where  # the editable install maps it to the folder


def test_no_second_copy_loaded_in_this_process(kit):
    # Within the test run itself, every module from the four folders is loaded under gigawatt.* only.
    import gigawatt  # noqa: F401
    import gigawatt.solver.solve  # noqa: F401

    roots = [str(kit.REPO / name) for name in FOLDERS]
    for name, mod in list(sys.modules.items()):
        file = getattr(mod, "__file__", None) or ""
        if any(file.startswith(r) for r in roots):
            assert name.startswith("gigawatt."), f"{file} loaded as '{name}'"


def test_cli_import_is_light(kit, tmp_path):
    # Importing the command line alone must not pull in the numerical stack: --help stays instant.
    proc = run_python(kit, f"import sys, json, gigawatt.cli; print(json.dumps([m for m in {HEAVY!r} "
                           f"if m in sys.modules]))", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [], "imported by gigawatt.cli: " + proc.stdout


def test_help_runs_without_the_numerical_stack(kit, tmp_path):
    code = f"""
import sys, json
from gigawatt.cli import main
for args in (["--help"], ["run", "--help"]):
    sys.argv = ["gigawatt"] + args
    try:
        main()
    except SystemExit as e:
        assert e.code in (0, None), e.code
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""
    proc = run_python(kit, code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert json.loads(last) == [], "imported for --help: " + last
    assert "run" in proc.stdout and "--output" in proc.stdout


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["--version"]])
def test_console_script_help(kit, tmp_path, args):
    proc = subprocess.run([str(kit.VENV_BIN / "gigawatt"), *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    if args == ["--version"]:
        import gigawatt

        assert gigawatt.__version__ in proc.stdout
    else:
        assert "Usage:" in proc.stdout
