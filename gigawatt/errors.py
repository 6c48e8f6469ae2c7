"""Exceptions of gigawatt: one root, an input error that names where, and a convergence error that says why."""
from __future__ import annotations


class GigawattError(Exception):
    """Root of every error gigawatt raises on purpose."""


class CaseError(GigawattError, ValueError):
    """Bad input: names the file, element, field and value, and the allowed range.

    Parameters
    ----------
    message : str
        What is wrong, in words a user understands.
    file, element, field : str, optional
        Where: the case file (or table file), the element id (``line 'row3-seg12'``), the field name.
    value : object, optional
        The offending value as given.
    allowed : str, optional
        The allowed range or set, in words (``"> 0"``, ``"one of copper, aluminium"``).
    """

    def __init__(self, message: str, *, file=None, element=None, field=None, value=None, allowed=None):
        self.file, self.element, self.field, self.value, self.allowed = file, element, field, value, allowed
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(f"{self.file}")
        if self.element:
            where.append(f"{self.element}")
        if self.field:
            where.append(f"field '{self.field}'")
        text = ", ".join(where)
        text = f"{text}: {self.reason}" if text else self.reason
        if self.value is not None:
            value = self.value.item() if hasattr(self.value, "item") and getattr(self.value, "ndim", 1) == 0 \
                else self.value  # numpy scalars read as plain numbers
            text += f" (got {value!r}"
            text += f"; allowed: {self.allowed})" if self.allowed else ")"
        elif self.allowed:
            text += f" (allowed: {self.allowed})"
        return text

    def located(self, **where) -> "CaseError":
        """The same error with more location filled in (fields already set are kept)."""
        kw = dict(file=self.file, element=self.element, field=self.field, value=self.value, allowed=self.allowed)
        for key, val in where.items():
            if kw.get(key) is None:
                kw[key] = val
        return CaseError(self.reason, **kw)


class ConvergenceError(GigawattError):
    """The solver found no solution; says where and why, and carries what it had (``partial``)."""

    def __init__(self, message: str, *, partial=None, details: dict | None = None):
        super().__init__(message)
        self.partial = partial
        self.details = details or {}
