"""Error classes of cptkg and the command line's exit codes.

Every error a user can cause (a missing file, bad syntax, an unknown format) is a
:class:`CptkgError`; the CLI prints its message and hint and exits with ``EXIT_ERROR``.
"""

from __future__ import annotations

from pathlib import Path

#: The data conforms to the shapes / the command succeeded.
EXIT_OK = 0
#: Validation ran and found at least one sh:Violation.
EXIT_NONCONFORMING = 1
#: The command could not do its job (bad input, bad syntax, unreachable endpoint, ...).
EXIT_ERROR = 2


class CptkgError(Exception):
    """Base class of expected errors: ``message`` says what went wrong, ``hint`` what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InputError(CptkgError):
    """A path is missing or unreadable, or a format / option value is unknown."""


class ParseError(CptkgError):
    """An RDF or JSON file has a syntax error; ``file`` and ``line`` (1-based) locate it."""

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        file: Path | str | None = None,
        line: int | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.file = file
        self.line = line


class EndpointError(CptkgError):
    """A SPARQL endpoint could not be reached or answered with an error."""
