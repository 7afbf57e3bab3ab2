"""Errors as values: a code, a message a person can act on, and an HTTP status.

They are raised where a problem is found and rendered in one place (``views/errors.py``)
into the API's single error shape ``{"error": {"code", "message", "status"}}``.
"""
from __future__ import annotations


class JobsError(Exception):
    """Base of every error the add-on reports to a client."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadRequest(JobsError):
    code, status = "bad_request", 400


class Forbidden(JobsError):
    code, status = "forbidden", 403


class NotFound(JobsError):
    code, status = "not_found", 404


class Conflict(JobsError):
    code, status = "conflict", 409


class FileTooLarge(JobsError):
    code, status = "file_too_large", 413


class UnsupportedType(JobsError):
    code, status = "unsupported_type", 415


class ContentMismatch(JobsError):
    code, status = "content_mismatch", 422


class InsufficientStorage(JobsError):
    code, status = "insufficient_storage", 507


class ConfigurationError(ValueError):
    """A setting with a bad value; stops start-up and names the key, the value and what is expected."""

    def __init__(self, key: str, value: object, expected: str):
        super().__init__(f"Bad setting {key} = {value!r}: expected {expected}.")
        self.key, self.value, self.expected = key, value, expected


class ProcessingError(Exception):
    """Raised by a processor to fail its job with a specific code and a message a person can act on.

    Codes in use: ``encrypted``, ``corrupt_file``, ``unsupported_content``, ``too_large``,
    ``empty_file``, ``bad_option``. The message is shown to the user as is: no traceback.
    """

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class JobCancelled(Exception):
    """Raised inside a processor at a progress call once the job was cancelled."""


class JobTimeLimit(Exception):
    """Raised inside a processor at a progress call once the job ran over ``jobs.time_limit``."""
