"""A string wrapper for credentials that never shows its value by accident.

Settings hold tokens as :class:`Secret`; the only way to the clear text is the
explicit :meth:`Secret.reveal`, used at the one place a token goes on the wire.
Every created secret is also registered with :mod:`bot.log_redaction` so that a
value that leaks into a log message anyway is masked there.
"""

from __future__ import annotations

from typing import Final, NoReturn

_MASK: Final = "********"


class Secret:
    """A credential. ``str()``/``repr()``/f-strings print a mask, never the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value
        # Imported here to keep this module free of import cycles.
        from bot.log_redaction import register_secret

        register_secret(value)

    def reveal(self) -> str:
        """The clear text; call only where the credential is actually sent."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("secrets are not picklable")
