"""The domain's refusals. Pages turn them into messages, the API into 4xx JSON bodies, the CLI into exit codes."""


class CouncilsError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(CouncilsError):
    """The actor may not do this (not a member, not the author, ...)."""

    status = 403


class NotFound(CouncilsError):
    status = 404


class Invalid(CouncilsError):
    """The input breaks a rule (empty title, deadline in the past, ...)."""

    status = 422


class Closed(CouncilsError):
    """The moment for this act has passed or not yet come (vote closed, still in deliberation)."""

    status = 409


class Conflict(CouncilsError):
    """The act was already done (already a member, request already open)."""

    status = 409
