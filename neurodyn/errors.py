"""The project's own exception types.

Every error raised for bad input derives from :class:`NeurodynError`, and also from the
built-in class a caller would naturally catch (``ValueError`` for bad content,
``OSError`` for unreadable files, ``MemoryError`` for an over-budget request), so
``except ValueError`` keeps working.  Messages name the file (``source``), the field and
what was expected.
"""

from __future__ import annotations


def _format(message: str, source: str | None, field: str | None) -> str:
    prefix = ": ".join(p for p in (source and str(source), field and f"field '{field}'") if p)
    return f"{prefix}: {message}" if prefix else message


class NeurodynError(Exception):
    """Base class of every error neurodyn raises on purpose."""

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None):
        self.source = source
        self.field = field
        self.message = _format(message, source, field)
        Exception.__init__(self, self.message)

    def __str__(self) -> str:  # OSError would otherwise reformat its args
        return self.message


class InvalidInputError(NeurodynError, ValueError):
    """Input content is wrong: shape, dtype, values, labels, configuration."""


class InputFileError(NeurodynError, OSError):
    """A file cannot be read: missing, truncated, or not the expected container format."""


class MemoryBudgetError(NeurodynError, MemoryError):
    """A configuration would need more memory than the budget allows."""
