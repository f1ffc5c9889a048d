"""What the job service refuses, as exceptions the API maps to one status each (in one error handler each)."""

from __future__ import annotations


class RequestRejected(ValueError):
    """The request cannot be served as asked; `field` names what to change, in the part of the request
    `location` says (the API answers 422 naming `<location>.<field>`)."""

    location = "body"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class IdempotencyKeyReused(RequestRejected):
    """The Idempotency-Key made a job from another request body: refused (422), never replayed, since the
    new body's leads would otherwise be silently dropped."""

    location = "header"

    def __init__(self, job_id: str) -> None:
        super().__init__(
            "idempotency-key",
            f"this key was used for another request (job {job_id}); use a new key for a new request",
        )


class NotConfigured(RuntimeError):
    """A feature this deployment is not configured for (the API answers 501)."""


class JobNotFound(LookupError):
    """No such job in the workspace: another workspace's job is not found either (the API answers 404)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id} not found")
        self.job_id = job_id


class JobStateConflict(RuntimeError):
    """The job's status does not allow the change (pausing a completed job, rescheduling one that started):
    the API answers 409 naming `field`, with the job's status in the message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


__all__ = ["IdempotencyKeyReused", "JobNotFound", "JobStateConflict", "NotConfigured", "RequestRejected"]
