"""Every log record of a test, kept to check that none of them carries a secret.

:func:`scanning_logs` lowers the root logger to DEBUG and attaches a
:class:`LogScanner` for the block, so the records of every library and of the bot
— at every level, whatever handlers the bot installed — reach it as they are
created, before any redacting filter of a handler could mask them. A record's
text is its message with its arguments merged in, its traceback and its stack:
whatever a handler could write.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Leak:
    """A record that carried a watched value (named by its label, never shown)."""

    logger: str
    level: str
    what: str


class LogScanner(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._texts: list[tuple[str, str, str]] = []
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            parts = [record.getMessage()]
        except Exception:  # a broken format string still shows its raw parts
            parts = [str(record.msg), repr(record.args)]
        if record.exc_info:
            parts.append(self._formatter.formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        self._texts.append((record.name, record.levelname, "\n".join(parts)))

    def leaks(self, watched: Mapping[str, str]) -> list[Leak]:
        """Records whose text contains one of ``watched``'s values (label → value)."""
        return [Leak(name, level, label) for name, level, text in self._texts
                for label, value in watched.items() if value and value in text]


@contextlib.contextmanager
def scanning_logs() -> Iterator[LogScanner]:
    """Every record created in the block, at any level, reaches the yielded scanner."""
    root = logging.getLogger()
    scanner = LogScanner()
    saved = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(scanner)
    try:
        yield scanner
    finally:
        root.removeHandler(scanner)
        root.setLevel(saved)
