"""Errors raised by the store. Messages name the bad value; dialogs translate them for users."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for every error the store raises on purpose."""

    code = "store_error"


class InvalidInput(StoreError, ValueError):
    """A value was refused before anything was written."""

    code = "invalid_input"

    def __init__(self, field: str, value: object, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        super().__init__(f"invalid {field} {shown}: {reason}")


class NotFound(StoreError, LookupError):
    code = "not_found"

    def __init__(self, what: str, key: object) -> None:
        self.what = what
        self.key = key
        super().__init__(f"{what} {key!r} not found")
