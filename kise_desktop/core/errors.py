"""Errors a user can read in either language: a subject (the file or camera), a reason key, values.

The English words of each reason live in the raising module's table (`sources.REASONS`,
`classifier.MODEL_REASONS`), the Korean ones in `gui/i18n.py` under the same keys, so a
message is written once per language and can name its file in any of them. The CLI prints
`str(error)`: the English words.
"""
from __future__ import annotations

from typing import ClassVar, TypeVar

_E = TypeVar("_E", bound="ReasonedError")


class ReasonedError(Exception):
    """An error whose message is `"{subject}: {REASONS[reason] filled with values}"`."""

    REASONS: ClassVar[dict[str, str]] = {}

    def __init__(self, message: str, reason: str = "", subject: str = "", values: dict | None = None) -> None:
        super().__init__(message)
        self.reason, self.subject, self.values = reason, subject, dict(values or {})

    @classmethod
    def because(cls: type[_E], subject: object, reason: str, **values: object) -> _E:
        return cls(f"{subject}: {cls.REASONS[reason].format(**values)}", reason, str(subject), values)
