"""API shapes shared by several routers."""

from __future__ import annotations

from ninja import Schema


class Message(Schema):
    detail: str


class FieldError(Schema):
    detail: str
    field: str | None = None


ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 409: FieldError, 422: FieldError}


def errors(*codes: int) -> dict:
    return {code: ERRORS[code] for code in codes}
