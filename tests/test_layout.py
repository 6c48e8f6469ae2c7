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


def cli_in_fresh_process(kit, tmp_path, commands: list, watched) -> tuple[subprocess.CompletedProcess, list]:
    """Run the command line's ``commands`` (argument lists) in turn in a fresh interpreter in ``tmp_path``;
    the process and which of the ``watched`` modules it imported."""
    code = f"""
import sys, json
from gigawatt.cli import main
for args in {commands!r}:
    sys.argv = ["gigawatt"] + args
    try:
        main()
    except SystemExit as e:
        assert e.code in (0, None), e.code
print(json.dumps([m for m in {tuple(watched)!r} if m in sys.modules]))
"""
    proc = run_python(kit, code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads(proc.stdout.strip().splitlines()[-1])


def test_help_runs_without_the_numerical_stack(kit, tmp_path):
    proc, imported = cli_in_fresh_process(kit, tmp_path, [["--help"], ["run", "--help"]], HEAVY)
    assert imported == [], f"imported for --help: {imported}"
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


# --- import direction -------------------------------------------------------------------------------------
# The layers of the package docstrings (gigawatt/solver/__init__.py and each sub-package's): a module may import
# its own layer and the layers below it; the four networks never import each other; nothing imports the
# command line. ``from gigawatt import __version__`` is allowed everywhere.
import ast  # noqa: E402

LAYERS = (
    ("gigawatt.errors", "gigawatt.output_paths"),
    ("gigawatt.models",),
    ("gigawatt.cases",),
    ("gigawatt.solver.numerics",),
    ("gigawatt.solver.dc", "gigawatt.solver.ac", "gigawatt.solver.cooling", "gigawatt.solver.district_heating"),
    ("gigawatt.solver", "gigawatt.solver.contingency", "gigawatt.solver.faults"),
    ("gigawatt.validation", "gigawatt"),
)
NETWORKS = LAYERS[4]
FOLDER_OF = {"gigawatt.solver": "solver", "gigawatt.models": "models", "gigawatt.cases": "cases",
             "gigawatt.validation": "validation", "gigawatt": "gigawatt"}


def _group(module: str) -> tuple[int, str]:
    """(layer, group) of a dotted module name: the longest group name that prefixes it."""
    best = None
    for level, groups in enumerate(LAYERS):
        for g in groups:
            if (module == g or module.startswith(g + ".")) and (best is None or len(g) > len(best[1])):
                best = (level, g)
    return best


def _modules(repo: Path):
    for prefix, folder in FOLDER_OF.items():
        for path in sorted((repo / folder).rglob("*.py")):
            parts = path.relative_to(repo / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((prefix, *parts)), path


def _imports(module: str, path: Path):
    """Every gigawatt module that ``module`` imports (function-local imports included), with its line."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((a.name, node.lineno) for a in node.names if a.name.startswith("gigawatt"))
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("gigawatt"):
            for a in node.names:  # ``from gigawatt.solver import dc`` imports the sub-package gigawatt.solver.dc
                sub = f"{node.module}.{a.name}"
                yield (sub if _is_module(sub) else node.module), node.lineno


def _is_module(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, AttributeError, ValueError):
        return False


def test_imports_point_down(kit):
    wrong = []
    for module, path in _modules(kit.REPO):
        here = _group(module)
        for target, line in _imports(module, path):
            if target == "gigawatt":
                # only ``from gigawatt import __version__`` below the application layer
                src = path.read_text().splitlines()[line - 1]
                if here[0] < len(LAYERS) - 1 and "__version__" not in src:
                    wrong.append(f"{path.relative_to(kit.REPO)}:{line} imports the gigawatt facade")
                continue
            there = _group(target)
            if target.startswith("gigawatt.cli") and not module.startswith("gigawatt.cli"):
                wrong.append(f"{path.relative_to(kit.REPO)}:{line} imports the command line ({target})")
            elif there[0] > here[0]:
                wrong.append(f"{path.relative_to(kit.REPO)}:{line} ({here[1]}) imports {target} ({there[1]}), a layer above")
            elif here[1] in NETWORKS and there[1] in NETWORKS and there[1] != here[1]:
                wrong.append(f"{path.relative_to(kit.REPO)}:{line} ({here[1]}) imports another network: {target}")
    assert not wrong, "\n".join(wrong)


def test_import_rule_is_stated_in_each_package_docstring(kit):
    # Each solver sub-package says what it may import; the rule above is the one they state.
    for pkg in ("solver", "solver/dc", "solver/ac", "solver/cooling", "solver/district_heating", "solver/numerics",
                "solver/contingency", "solver/faults", "models", "cases", "validation"):
        doc = ast.get_docstring(ast.parse((kit.REPO / pkg / "__init__.py").read_text())) or ""
        assert "Imports" in doc or "import" in doc, f"{pkg}/__init__.py does not say what it may import"


def test_module_names_say_one_thing(kit):
    # No two modules share a name with different meanings. A few role names recur, one meaning each: the
    # results builder of a network, its time series, its stage solver, an analysis package's entry point
    # (contingency, faults), a package's __init__.
    roles = {"__init__", "results", "series", "stage", "analysis"}
    seen = {}
    for module, path in _modules(kit.REPO):
        name = path.stem
        if name in roles:
            continue
        assert name not in seen, f"{seen.get(name)} and {path.relative_to(kit.REPO)} share the name '{name}'"
        seen[name] = path.relative_to(kit.REPO)


def test_numba_cache_serves_a_second_process(kit, tmp_path):
    # After the move the kernels live in new files; numba's on-disk cache must still serve them: a second
    # fresh process that solves the bundled case (DC, cooling, district heating) compiles nothing.
    code = """
import json, gigawatt as gw
from gigawatt.bench.common import numba_cache_counts
gw.solve(gw.load_case())
print(json.dumps(numba_cache_counts()))
"""
    for _ in range(2):
        proc = run_python(kit, code, tmp_path)
        assert proc.returncode == 0, proc.stderr
    hits, misses = json.loads(proc.stdout.strip().splitlines()[-1])
    assert misses == 0 and hits > 0, (hits, misses)


# Imports a run of the default case has no use for: kept off its path, so a cold `gigawatt run` stays short.
OFF_THE_RUN_PATH = ("dask", "distributed", "matplotlib", "pandapower", "pandapipes", "CoolProp", "scipy.interpolate")


def test_run_of_the_default_case_imports_only_what_it_uses(kit, tmp_path):
    proc, imported = cli_in_fresh_process(kit, tmp_path, [["run", "-o", "out.nc"]], OFF_THE_RUN_PATH)
    assert imported == [], f"imported by `gigawatt run`: {imported}"
    assert (tmp_path / "out.nc").exists() and "results written to" in proc.stdout
