"""Small shared builders for the test suite: a valid little case as a dict, a TOML writer for it, a
command-line runner, and the matrix-exponential reference of a twin pipe pair. No test logic lives here."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"


def base_doc() -> dict:
    """A small valid case as the dict a TOML file would parse to.

    Topology (800 V level, one 50 V level behind a DC/DC converter)::

        s1 ── a ──l1── b ──l2── c ══dc1══> lv
                      (r1)               (r2)

    Every element type and every loss-model kind appears once, so each malformed-input test can break
    exactly one field of it. Returns a fresh deep copy each call.
    """
    return copy.deepcopy({
        "case": {"name": "small"},
        "loss_models": {
            "station": {"kind": "constant_efficiency", "efficiency": 0.98},
            "shelf": {"kind": "efficiency_curve", "load_fraction": [0.1, 0.5, 1.0],
                      "efficiency": [0.95, 0.98, 0.975]},
            "dcdc": {"kind": "quadratic", "a_w": 10.0, "b_v": 0.5, "c_ohm": 1e-4},
        },
        "bus": [
            {"id": "a", "v_nominal_v": 800.0},
            {"id": "b", "v_nominal_v": 800.0},
            {"id": "c", "v_nominal_v": 800.0},
            {"id": "lv", "v_nominal_v": 50.0},
        ],
        "line": [
            {"id": "l1", "from_bus": "a", "to_bus": "b", "length_m": 20.0, "cross_section_m2": 5e-4},
            {"id": "l2", "from_bus": "b", "to_bus": "c", "length_m": 10.0, "r_ohm": 0.002},
        ],
        "source": [
            {"id": "s1", "bus": "a", "v_set_v": 800.0, "droop": 0.02, "rated_power_w": 2e6,
             "loss_model": "station"},
        ],
        "converter": [
            {"id": "dc1", "from_bus": "c", "to_bus": "lv", "v_set_v": 50.0, "rated_power_w": 5e4,
             "loss_model": "dcdc"},
        ],
        "rack": [
            {"id": "r1", "bus": "b", "p_it_w": 1e5, "p_it_basis": "chips", "shelf_loss_model": "shelf",
             "shelf_rated_power_w": 2e5},
            {"id": "r2", "bus": "lv", "p_it_w": 2e4, "p_it_basis": "chips"},
        ],
    })


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if isinstance(v, float) and math.isnan(v):
            return "nan"
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def to_toml(doc: dict) -> str:
    """A TOML text for ``doc``: scalars, settings tables, ``[loss_models.NAME]`` (nested tables) and
    ``[[element]]`` arrays of tables; enough for case files, nothing more."""
    out = [f"{k} = {_toml_value(v)}" for k, v in doc.items() if not isinstance(v, (dict, list)) or
           (isinstance(v, list) and not (v and all(isinstance(r, dict) for r in v)))]

    def table(prefix, d):
        out.append(f"\n[{prefix}]")
        nested = []
        for k, v in d.items():
            if isinstance(v, dict):
                nested.append((k, v))
            else:
                out.append(f"{k} = {_toml_value(v)}")
        for k, v in nested:
            table(f"{prefix}.{k}", v)

    for k, v in doc.items():
        if isinstance(v, dict):
            table(k, v)
        elif isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
            for row in v:
                out.append(f"\n[[{k}]]")
                out.extend(f"{f} = {_toml_value(x)}" for f, x in row.items())
    return "\n".join(out) + "\n"


def write_case(folder: Path, doc: dict, name: str = "case.toml") -> Path:
    """Write ``doc`` as a TOML case file in ``folder`` and return its path."""
    path = Path(folder) / name
    path.write_text(to_toml(doc), encoding="utf-8")
    return path


def one_line_doc(*, r_ohm: float, p_it_w: float, v_set_v: float = 800.0) -> dict:
    """A stiff source at bus 'a' feeding one rack (no shelf, VRM efficiency 1) at bus 'b' through line 'l1'
    of loop resistance ``r_ohm``: the textbook closed form V = (V0 + sqrt(V0² − 4PR))/2 (derived from
    P = V·(V0 − V)/R)."""
    return {
        "case": {"name": "one-line"},
        "bus": [{"id": "a", "v_nominal_v": v_set_v}, {"id": "b", "v_nominal_v": v_set_v}],
        "line": [{"id": "l1", "from_bus": "a", "to_bus": "b", "length_m": 1.0, "r_ohm": r_ohm}],
        "source": [{"id": "s", "bus": "a", "v_set_v": v_set_v, "rated_power_w": 1e9}],
        "rack": [{"id": "r", "bus": "b", "p_it_w": p_it_w, "vrm_efficiency": 1.0}],
    }


@pytest.fixture
def cli():
    """Run the ``gigawatt`` command in-process: ``cli("run", path, "-o", out)`` -> click Result (with
    separate ``stdout`` and ``stderr``)."""
    from click.testing import CliRunner

    from gigawatt.cli import main

    def invoke(*args):
        return CliRunner().invoke(main, [str(a) for a in args])

    return invoke


@pytest.fixture
def kit():
    """The builders of this module (``kit.base_doc()``, ``kit.write_case(...)``, ...). Test modules cannot
    import conftest by name under ``--import-mode=importlib``, so they take them from this fixture."""
    import sys

    return sys.modules[__name__]


def cli_error_line(res, out_path) -> str:
    """The one ``error: ...`` line of a refused ``gigawatt run``: exit status 2, nothing on stdout, no
    traceback, and no results file at ``out_path``."""
    assert res.exit_code == 2, res.output
    assert res.stdout == "" and "Traceback" not in res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert not out_path.exists()
    return lines[0]


def run_docstring_examples(module) -> set:
    """Run every docstring example of ``module``'s own functions (the Python source of Numba dispatchers,
    which doctest does not look inside); assert none fails and return the names that had examples."""
    import doctest

    tried = set()
    for name in dir(module):
        func = getattr(getattr(module, name), "py_func", getattr(module, name))
        if callable(func) and getattr(func, "__module__", None) == module.__name__ and func.__doc__:
            runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
            for test in doctest.DocTestFinder().find(func, name, globs=vars(module)):
                runner.run(test)
            assert runner.failures == 0, f"docstring example of {name} fails"
            if runner.tries:
                tried.add(name)
    return tried


def _twin_pair_by_expm(theta1_in, theta2_in, c1, c2, counter, u_g, u_x, length):
    """The pair by the matrix exponential: theta(x) = expm(M x) theta(0), the unknown start of the counter-flowing
    pipe from its inlet at x = L; the integrals of theta from the block exponential [[M, I], [0, 0]] (Van Loan
    1978). Returns (theta1_out, theta2_out, q_g1, q_g2, q_x)."""
    s = -1.0 if counter else 1.0
    m = np.array([[-(u_g + u_x) / c1, u_x / c1], [s * u_x / c2, -s * (u_g + u_x) / c2]])
    block = np.zeros((4, 4))
    block[:2, :2], block[:2, 2:] = m, np.eye(2)
    big = scipy.linalg.expm(block * length)
    e, integral = big[:2, :2], big[:2, 2:]
    if counter:
        start2 = (theta2_in - e[1, 0] * theta1_in) / e[1, 1]
        start = np.array([theta1_in, start2])
        out1, out2 = (e @ start)[0], start2
    else:
        start = np.array([theta1_in, theta2_in])
        out1, out2 = e @ start
    i1, i2 = integral @ start
    return out1, out2, u_g * i1, u_g * i2, u_x * (i1 - i2)


@pytest.fixture
def twin_pair_reference():
    """The twin pair's (theta1_out, theta2_out, q_g1, q_g2, q_x) by the matrix exponential (an independent
    reference for ``gigawatt.models.twin_pipe_pair`` and the network's twin pipes)."""
    return _twin_pair_by_expm
