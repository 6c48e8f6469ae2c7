"""Where results go, and how they get there whole: the one rule for every file gigawatt writes.

Every writer of results (``gigawatt run``, ``run --year``/``--series``, ``sweep`` and its parts, ``compare``,
``report``, :class:`gigawatt.series_writer.SeriesWriter`, :func:`gigawatt.cases.series_file.write_timeseries`)
goes through this module:

* :func:`check_output` refuses, before anything is computed, an output that is one of the run's inputs (the
  case file, a CSV table it loaded, a time-series file: compared as files, so also through a symbolic or
  hard link), a folder, a device or other special file, a path in a folder that does not exist or cannot
  be written (tried by creating a file there, which also finds a read-only file system), and, for a sweep,
  a parts folder that holds an input.
* :func:`default_output` makes a default file name from a case name: a name is never a path, so
  ``name = "../x"`` writes ``.._x.nc`` here, not a file one folder up.
* :func:`atomic_write` (and :func:`temporary_beside` with :func:`commit` for writers that stream) write
  to a temporary file of this run alone, in the target's folder, then rename it over the target: a
  reader sees the old file or the new one, whole, never a part; two runs writing the same output never
  delete each other's temporary file, and the last one to finish wins. The file is flushed to disk before
  the rename.
* A temporary file's name says who wrote it: ``<name>.gw<pid>@<host>.<random>.part``. A run that was
  killed (SIGKILL, power loss) leaves one behind; the next run to write the same output removes it, or says
  that a live process is still writing it (:func:`remove_stale`).
* :func:`terminate_as_interrupt`: SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``) in the main
  thread, so a terminated run cleans up its temporary file like one stopped with Ctrl-C.

Only the standard library and :mod:`gigawatt.errors` are imported, so the case layer may use it too.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import stat
import tempfile
import threading
import tomllib
from pathlib import Path

from gigawatt.errors import CaseError

_TEMP = re.compile(r"^(?P<name>.+)\.gw(?P<pid>\d+)@(?P<host>[A-Za-z0-9_-]*)\.(?P<rand>[a-z0-9_]+)\.part$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._+=,@-]+")
MAX_NAME_CHARS = 200


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (see :func:`terminate_as_interrupt`)."""


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:64]


# --- names ------------------------------------------------------------------------------------------------

def safe_name(name: str, fallback: str = "results") -> str:
    """A file name made from a case name: letters, digits and ``._+=,@-`` kept, every other run of
    characters (``/``, spaces, control characters) replaced by ``_``, no leading dot, dash or underscore
    (not hidden, not an option), at most :data:`MAX_NAME_CHARS` characters; ``fallback`` when nothing is
    left.

    >>> safe_name("../x"), safe_name("hall 800 VDC / phase 2"), safe_name(".."), safe_name("a\\x00b")
    ('x', 'hall_800_VDC_phase_2', 'results', 'a_b')
    """
    text = _UNSAFE.sub("_", str(name)).lstrip("._-").rstrip("_")[:MAX_NAME_CHARS]
    return text or fallback


def default_output(case_name: str, suffix: str) -> Path:
    """The default output of a case in the current folder: ``<safe case name><suffix>``."""
    return Path(safe_name(case_name) + suffix)


# --- inputs -----------------------------------------------------------------------------------------------

def case_inputs(case_file) -> list[Path]:
    """The files a case file reads: itself, the CSV files its element tables name and the ``[time]``
    ``it_load``/``weather`` files (names relative to the case file that exist; the bundled choices do not).
    A file that cannot be read or parsed yields itself alone (loading it reports the problem)."""
    if case_file is None:
        return []
    path = Path(case_file)
    out = [path]
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except (OSError, ValueError):
        return out
    names = [v for v in doc.values() if isinstance(v, str)]  # element tables given as CSV file names
    time = doc.get("time")
    if isinstance(time, dict):
        names += [time.get(k) for k in ("it_load", "weather") if isinstance(time.get(k), str)]
    for name in names:
        if "\x00" in name:
            continue
        other = Path(name) if Path(name).is_absolute() else path.parent / name
        if other.is_file():
            out.append(other)
    return out


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
        return True
    except ValueError:
        return False


# --- checks -----------------------------------------------------------------------------------------------

def check_output(path, inputs=(), *, what: str = "results file", option: str = "-o", parts=None) -> Path:
    """Refuse ``path`` as an output (see the module notes); return it as a :class:`~pathlib.Path`.

    Parameters
    ----------
    path : str or Path
        The file to be written.
    inputs : iterable of str or Path
        The run's input files.
    what : str
        What is written there, for the message (``"results file"``, ``"sweep dataset"``).
    option : str
        The option that named it, for the message.
    parts : str or Path, optional
        A folder the run also writes (a sweep's ``OUT.parts``): it must not be or hold an input, nor be a
        file.

    Raises
    ------
    CaseError
        One line naming the path, what is wrong and the input it would overwrite.
    """
    path = check_target(path, inputs, what=what, option=option)
    if parts is not None:
        parts = Path(parts)
        if parts.exists() and not parts.is_dir():
            raise CaseError("is a file, but the sweep keeps its scenarios in a folder of that name",
                            file=str(parts), element=option)
        for given in inputs:
            if given is not None and (_same_file(parts, given) or _inside(given, parts)):
                raise CaseError(f"holds an input of this run ({given}); the sweep writes and removes files "
                                "there: choose another output name", file=str(parts), element=option)
        if parts.is_dir():
            check_folder(parts, what="sweep's scenario results", option=option, target=path)
    check_folder(path.parent, what=what, option=option, target=path)
    return path


def check_target(path, inputs=(), *, what: str = "results file", option: str = "-o") -> Path:
    """The checks of :func:`check_output` on the file itself (not an input, not a folder, not a device),
    without those of its folder."""
    text = str(path)
    if "\x00" in text:
        raise CaseError("a path cannot contain a NUL character", element=option, value=text)
    path = Path(path)
    where = dict(file=text, element=option)
    if path.name in ("", ".", ".."):
        raise CaseError(f"names a folder; give a file name for the {what}", **where)
    for given in inputs:
        if given is not None and (_same_file(path, given) or path.absolute() == Path(given).absolute()):
            raise CaseError(f"is an input of this run ({given}): the {what} would overwrite it; "
                            "write it to another file", **where)
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as err:
        raise CaseError(f"cannot use it for the {what}: {err.strerror or err}", **where) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise CaseError(f"is a folder; give a file name for the {what}", **where)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise CaseError(f"is a device or other special file, not a regular file; the {what} is written only "
                        "to a regular file", **where)
    return path


def check_folder(folder, *, what: str = "results file", option: str = "-o", create: bool = False,
                 target=None) -> Path:
    """Refuse a folder that does not exist (unless ``create``: then its nearest existing ancestor is
    checked), is not a folder, or cannot be written: tried by creating and removing a file there, so a
    read-only file system and missing permissions are found before anything is computed. ``target``: the
    file to be written there, named in the message."""
    folder = Path(folder) if str(folder) else Path(".")
    probe = folder
    if create:
        while not probe.exists() and probe != probe.parent and not probe.is_symlink():
            probe = probe.parent
    named = f"folder '{probe}'" if target is not None else "folder"
    where = dict(file=str(target if target is not None else probe), element=option)
    if not probe.exists():
        raise CaseError(f"{named} does not exist; create it first or choose another place for the {what}", **where)
    if not probe.is_dir():
        raise CaseError(f"{'' if target is not None else 'this '}{named} is not a folder, so the {what} cannot be "
                        "written in it", **where)
    try:
        fd, name = tempfile.mkstemp(prefix=_prefix("write-test"), suffix=".part", dir=probe)
    except OSError as err:
        reason = {13: "not writable (permission denied)", 30: "on a read-only file system",
                  28: "full (no space left on the device)"}.get(err.errno, err.strerror or str(err))
        raise CaseError(f"{named} is {reason}: the {what} cannot be written there", **where) from None
    os.close(fd)
    os.unlink(name)
    return folder


# --- writing whole files ----------------------------------------------------------------------------------

def _prefix(name: str) -> str:
    return f"{name}.gw{os.getpid()}@{_host()}."


def temporary_beside(path) -> Path:
    """A new empty temporary file of this run in ``path``'s folder, named for ``path`` and this process
    (``<name>.gw<pid>@<host>.<random>.part``): write to it, then :func:`commit` it, or remove it."""
    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=_prefix(path.name), suffix=".part", dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    return Path(name)


def _umask() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def commit(tmp, path) -> Path:
    """Flush ``tmp`` to disk, give it the permissions a new file gets (``mkstemp`` makes it private) and
    rename it over ``path``."""
    tmp, path = Path(tmp), Path(path)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)
    return path


def atomic_write(path, write) -> Path:
    """Call ``write(tmp)`` on a temporary file of this run beside ``path``, then :func:`commit` it: the file
    at ``path`` is whole or unchanged, whatever happens (an error, Ctrl-C, SIGTERM: the temporary file is
    removed)."""
    tmp = temporary_beside(path)
    try:
        write(tmp)
        return commit(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# --- temporary files left by killed runs ------------------------------------------------------------------

def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return pid > 0  # another user's process (or a pid this system cannot have)
    try:  # a zombie (killed, not yet reaped) writes nothing
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stale_temporaries(folder, name: str | None = None) -> list[tuple[Path, int, str, bool]]:
    """Temporary files of gigawatt runs in ``folder`` (for target file ``name``, or any):
    ``(path, pid, host, written by a live process on this host)``."""
    folder = Path(folder) if str(folder) else Path(".")
    out = []
    pattern = f"{glob_escape(name)}.gw*.part" if name else "*.gw*.part"
    for p in folder.glob(pattern):
        m = _TEMP.match(p.name)
        if m is None or (name is not None and m["name"] != name):
            continue
        pid, host = int(m["pid"]), m["host"]
        out.append((p, pid, host, host == _host() and _alive(pid)))
    return out


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def remove_stale(path=None, *, folder=None, say=None) -> list[str]:
    """Remove the temporary files that runs killed on this host left for ``path`` (or for anything in
    ``folder``); keep those of live processes and of other hosts. Returns one message per file found,
    also passed to ``say``."""
    if path is not None:
        path = Path(path)
        found = stale_temporaries(path.parent, path.name)
    else:
        found = stale_temporaries(folder)
    notes = []
    for p, pid, host, live in found:
        if live:
            if pid == os.getpid():
                continue
            notes.append(f"note: {p} is being written by a live process (pid {pid}); left alone")
        elif host != _host():
            notes.append(f"note: {p} was left by a run on host '{host}' (pid {pid}); remove it if that run is over")
        else:
            p.unlink(missing_ok=True)
            notes.append(f"note: removed {p}, left by an interrupted run (pid {pid})")
    if say:
        for line in notes:
            say(line)
    return notes


# --- SIGTERM ----------------------------------------------------------------------------------------------

_deferred_signal: list[int] = []  # a SIGTERM that arrived inside a finalizer, raised at the next checkpoint


def _in_finalizer(frame) -> bool:
    """Whether ``frame`` runs inside a ``__del__``: Python only prints an exception raised there ("Exception
    ignored in ...") and goes on, so a signal raised there would be lost (numba's compiler frees llvmlite
    objects in ``__del__`` often enough for a SIGTERM during compilation to land in one)."""
    while frame is not None:
        if frame.f_code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def raise_if_terminated() -> None:
    """Raise :class:`Terminated` if a SIGTERM arrived inside a finalizer since the block began (long loops
    call this between steps)."""
    if _deferred_signal:
        raise Terminated(f"terminated by signal {_deferred_signal.pop()}")


@contextlib.contextmanager
def terminate_as_interrupt():
    """Within the block, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``) in the main thread,
    so ``finally`` and ``except BaseException`` clean-ups run (temporary files removed). A SIGTERM that lands
    inside a finalizer is raised at the next :func:`raise_if_terminated`. Outside the main thread this does
    nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if _in_finalizer(frame):
            _deferred_signal.append(signum)
            return
        raise Terminated(f"terminated by signal {signum}")

    _deferred_signal.clear()
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        _deferred_signal.clear()


__all__ = ["Terminated", "safe_name", "default_output", "case_inputs", "check_output", "check_target", "check_folder",
           "temporary_beside", "commit", "atomic_write", "stale_temporaries", "remove_stale",
           "terminate_as_interrupt", "raise_if_terminated"]
