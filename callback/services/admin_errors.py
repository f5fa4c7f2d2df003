"""Errors the admin services raise for bad input; the web layer turns them into 4xx bodies."""

from __future__ import annotations


class AdminError(ValueError):
    """Bad input: `code`, `message` and `field` go into `{"error": {...}}` with `status`."""

    status = 422

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(code, message, field)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class NotFound(AdminError):
    status = 404

    def __init__(self, what: str, ident: object) -> None:
        super().__init__("not_found", f"There is no {what} {ident}.")


class Forbidden(AdminError):
    status = 403
