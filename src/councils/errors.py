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


class Gone(CouncilsError):
    """The council has moved to another server by its own decision: nothing more is done here (the message names
    the new address)."""

    status = 410

    def __init__(self, message: str, *, field: str | None = None, location: str = ""):
        super().__init__(message, field=field)
        self.location = location


class Conflict(CouncilsError):
    """The act was already done (already a member, request already open)."""

    status = 409


class SignatureRequired(CouncilsError):
    """The act is valid and must now be signed by the member's key: nothing was written.

    ``statement`` is the exact canonical statement text to sign (the 428 flow, docs/api.md); ``held_by_server`` says
    the member's key is one this server holds (demo members, test users), so sending the act again without a
    signature lets the server sign it."""

    status = 428

    def __init__(self, message: str, *, statement: str, held_by_server: bool = False):
        super().__init__(message)
        self.statement = statement
        self.held_by_server = held_by_server


class BadSignature(CouncilsError):
    """A wrong, unknown or revoked key, or a signature that does not verify."""

    status = 403


# Control characters make no sense in the text people write (names, titles, bodies, comments, reasons), and NUL is
# refused outright by PostgreSQL's text columns. Tab, line feed and carriage return are ordinary text.
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


def control_character(value: str, *, line_breaks: bool = True) -> str | None:
    """The first control character in ``value`` that text may not hold (as ``U+0000``), or None."""
    for char in value:
        code = ord(char)
        if (code < 0x20 or code == 0x7F) and not (line_breaks and char in _ALLOWED_CONTROLS):
            return f"U+{code:04X}"
    return None


def refuse_control_characters(value, field: str, *, line_breaks: bool = True):
    """``value`` unchanged, or ``Invalid`` naming the field if it holds a control character (NUL above all)."""
    if isinstance(value, str):
        found = control_character(value, line_breaks=line_breaks)
        if found:
            raise Invalid(f"{field} contains the control character {found}, which text may not hold", field=field)
    return value
