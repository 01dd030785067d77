"""The refusals the queue rules can give; each has a stable `code` that the API answers with."""


class QueueError(Exception):
    """A request the queue refuses; `str(e)` is a message a person can read."""

    code = "queue_error"


class BadRequest(QueueError):
    code = "bad_request"


class NotFound(QueueError):
    code = "not_found"


class Unauthorized(QueueError):
    code = "unauthorized"


class Forbidden(QueueError):
    code = "forbidden"


class RateLimited(QueueError):
    code = "rate_limited"


class Unavailable(QueueError):
    """A service the request needs (Redis, …) cannot be reached; the caller may try another way."""

    code = "unavailable"


class Conflict(QueueError):
    code = "conflict"


class QueueEmpty(Conflict):
    code = "queue_empty"


class WindowClosed(Conflict):
    code = "window_closed"


class WindowPaused(Conflict):
    code = "window_paused"


class WindowBusy(Conflict):
    code = "window_busy"


class NoCurrentTicket(Conflict):
    code = "no_current_ticket"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class RecallLimit(Conflict):
    code = "recall_limit_reached"


class IdempotencyMismatch(Conflict):
    code = "idempotency_mismatch"


class BundleNotServed(Conflict):
    code = "bundle_not_served"


class ClosingSoon(Conflict):
    """A new number of the bundle could not be served before the hall closes (closing-time guard)."""

    code = "closing_soon"


class InvalidIdNumber(BadRequest):
    code = "invalid_id_number"
