"""Exceptions and warnings of soilbench.

Every user-facing error subclasses :class:`HarnessError` and a builtin, so callers can catch
either. The CLI prints a ``HarnessError`` without a traceback and exits with its ``exit_code``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


class HarnessError(Exception):
    """Base of every error the harness raises on purpose."""

    exit_code = 2


class ParameterError(HarnessError, ValueError):
    """A malformed parameter matrix or option (shape, name, type)."""


class DriverError(HarnessError, ValueError):
    """A malformed forcing matrix (shape, name, type)."""


class InputFileError(HarnessError):
    """A data file a scenario names cannot be used; ``hint`` says how to fix it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message, self.hint = message, hint


class RegistryError(HarnessError, LookupError):
    """An adapter that cannot be found or loaded."""


class AdapterValidationError(HarnessError, TypeError):
    """An adapter whose declared metadata breaks the contract."""


class RunError(HarnessError, RuntimeError):
    """A valid scenario whose run failed (e.g. failed rows under ``on_failure: error``)."""

    exit_code = 1


class AnalysisError(HarnessError, RuntimeError):
    """An analysis that cannot be computed from the results it was given."""

    exit_code = 1


class TruncatedDesign(AnalysisError):
    """So many Saltelli blocks were dropped that too few remain to estimate anything.

    With ``on_failure: drop_blocks`` the member is then *not estimable*, not a failed run.
    """


@dataclass(frozen=True)
class SpecIssue:
    """One problem in a scenario file.

    ``line`` and ``col`` are 1-based; 0 when the position is unknown.
    """

    path: str
    message: str
    hint: str = ""
    line: int = 0
    col: int = 0

    def format(self, filename: str) -> str:
        """One line: ``FILE:LINE:COL: path: message. Hint: hint`` (control characters escaped)."""
        where = f"{filename}:{self.line}:{self.col}" if self.line else filename
        text = f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        if self.hint:
            text += f". Hint: {self.hint}"
        return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


#: most issues of one scenario file printed (all are kept in ``ScenarioError.issues``)
MAX_ISSUES_SHOWN = 50


class ScenarioError(HarnessError, ValueError):
    """All problems found in one scenario file, reported together."""

    def __init__(self, filename: str, issues: list[SpecIssue]):
        self.filename = filename
        self.issues = sorted(issues, key=lambda i: (i.line, i.col, i.path))
        super().__init__(self.format())

    def format(self) -> str:
        """Each issue on its own line (the first ``MAX_ISSUES_SHOWN``), then the count; as printed to the user."""
        lines = [issue.format(self.filename) for issue in self.issues[:MAX_ISSUES_SHOWN]]
        n = len(self.issues)
        more = f" (the first {MAX_ISSUES_SHOWN} shown)" if n > MAX_ISSUES_SHOWN else ""
        lines.append(f"{n} error{'s' if n != 1 else ''} in {self.filename}{more}; nothing was run.")
        return "\n".join(lines)


class HarnessWarning(UserWarning):
    """Base of the harness's warnings."""


class ConvergenceWarning(HarnessWarning):
    """Some rows of a batch did not reach a verified steady state."""


class ChunkWarning(HarnessWarning):
    """A stored chunk could not be used (unreadable, truncated, or changed since it was written).

    The chunk is solved again, so the run's results are unaffected; the warning names the file and
    what was wrong (chunks written before chunks carried a checksum get one warning for them all).
    """


def closest(name: str, known: Iterable[str]) -> str | None:
    """The one of ``known`` that ``name`` most likely means, ignoring case (``MIMICS`` -> ``mimics``), or None."""
    by_lower = {k.lower(): k for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def unknown_message(what: str, name: str, known: Iterable[str]) -> str:
    """``unknown model 'x'; did you mean 'y'? known: a, b`` for an unknown name."""
    known = sorted(known)
    close = closest(name, known)
    hint = f"; did you mean {close!r}?" if close else ";"
    return f"unknown {what} {name!r}{hint} known: {', '.join(known) or '(none)'}"
