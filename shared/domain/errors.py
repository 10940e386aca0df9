"""Domain exceptions. They carry no HTTP; `shared.adapters.http` maps them to problem-details responses."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does."""


class Forbidden(DomainError):
    """The caller may see the thing but not do this to it (a plain member changing what only conveners change)."""


class Conflict(DomainError):
    """The request is well-formed but clashes with the current state (a concurrent change, a duplicate)."""


class InvalidField(DomainError):
    """One field's value is not acceptable (checked beyond what its type says)."""

    def __init__(self, field: str, detail: str):
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.reason = detail


class Gone(DomainError):
    """It existed but is no longer usable (an expired or already-used link)."""


class TooManyRequests(DomainError):
    """Too many attempts in a short time; the caller may try again after `retry_after` seconds."""

    def __init__(self, detail: str, retry_after_seconds: int):
        super().__init__(detail)
        self.retry_after: int = max(1, int(retry_after_seconds))
