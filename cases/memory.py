"""Memory a case would need, said before it is allocated.

The schema's bounds keep every size a person could mean (10⁴ halls, 10⁸ homes, 10⁸ time steps), but some
combinations of them need more memory than any machine has: 10⁴ halls × 10⁴ rows × 10⁴ racks is 10¹²
racks. Such a case is refused with a :class:`~gigawatt.errors.CaseError` that says what it would need and
what this machine has, before anything is allocated, rather than failing deep inside numpy (or being
killed by the operating system).

The figures per element are measured peaks of building and solving (``BYTES_PER_*``), rounded up; the
estimate is meant to catch sizes that are off by orders of magnitude, not to budget memory to the byte.
"""
from __future__ import annotations

import os

from gigawatt.errors import CaseError

BYTES_PER_RACK = 4096
"""Peak memory per rack of a campus built and solved with its cooling [B]: measured about 1.1 kB per rack
for the electrical network alone (2·10⁵ to 6·10⁵ racks), taken ×4 for cooling and the results file."""

BYTES_PER_CONSUMER = 8192
"""Peak memory per district-heating consumer of a generated town, built and solved [B]: measured about
3.8 kB (2·10⁴ to 10⁵ consumers), taken ×2."""

BYTES_PER_PLATE = 2048
"""Peak memory per cold plate modelled as its own branch (``plate_resolution``) [B] (assumption: two pipe
branches, two nodes and the per-plate results, about 20 float64 values each, with margin)."""

BYTES_PER_STEP = 256
"""Memory per step of a time axis's inputs [B]: time stamps, IT load and weather, and their construction."""

BYTES_PER_STEP_KEPT = 1024
"""Memory per step of a time series kept in memory (no results file) [B]: about 100 float64 figures."""


def physical_memory_bytes() -> int | None:
    """This machine's physical memory [B] (``SC_PHYS_PAGES × SC_PAGE_SIZE``), or None where unknown."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def format_bytes(n: float) -> str:
    """``1536`` → ``'1.5 KiB'``.

    >>> format_bytes(3 * 2**40), format_bytes(512)
    ('3.0 TiB', '512 B')
    """
    for unit, size in (("EiB", 2**60), ("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20),
                       ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


def check_memory(count: float, bytes_each: float, what: str, *, file=None, element=None, field=None,
                 value=None) -> None:
    """Refuse ``count`` × ``bytes_each`` bytes when it is more than this machine's physical memory.

    Raises
    ------
    CaseError
        ``needs about 7.3 TiB of memory (10¹² racks × about 4.0 KiB), this machine has 23 GiB``, naming the
        file, element and field that set the size.
    """
    total = physical_memory_bytes()
    needed = float(count) * float(bytes_each)
    if total is None or needed <= total:
        return
    raise CaseError(f"{what}: {count:.3g} × about {format_bytes(bytes_each)} needs about {format_bytes(needed)} "
                    f"of memory, and this machine has {format_bytes(total)}; make it smaller", file=file,
                    element=element, field=field, value=value)
