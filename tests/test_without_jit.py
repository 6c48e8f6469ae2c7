"""STYLE.md §4: every Numba kernel is written once and also runs as plain Python with NUMBA_DISABLE_JIT=1.

The switch is read when numba is imported, so the kernel tests run again in one fresh interpreter with the
JIT off: same references, same tolerances. Inside that run this file skips itself.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
KERNEL_TEST_FILES = ["test_kernel.py", "test_hydraulic_network.py", "test_thermal_network.py",
                     "test_heat_exchangers.py", "test_hydraulics.py", "test_pipe_heat.py", "test_chips.py",
                     "test_dh_dynamics.py", "test_storage.py", "test_dc_series.py", "test_faults_models.py",
                     "test_faults_network.py", "test_dc_ordering.py", "test_energy_storage.py",
                     "test_pipe_wall_capacity.py", "test_twin_pipe_pair.py", "test_peel_order.py",
                     "test_cooling_setup.py", "test_dc_series_newton.py", "test_cooling_repeats.py",
                     "test_hydraulic_iteration.py"]


@pytest.mark.skipif(os.environ.get("NUMBA_DISABLE_JIT") == "1", reason="already the no-JIT run")
def test_kernel_tests_pass_without_jit():
    env = dict(os.environ, NUMBA_DISABLE_JIT="1")
    proc = subprocess.run([str(Path(sys.executable).with_name("pytest")), *KERNEL_TEST_FILES, "-q", "-p", "no:cacheprovider",
                           "--import-mode=importlib", "--rootdir", str(HERE.parent)],
                          cwd=HERE, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    passed = re.search(r"(\d+) passed", proc.stdout)
    assert passed and int(passed.group(1)) >= 100, proc.stdout[-2000:]
